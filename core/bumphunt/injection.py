"""Discovery sensitivity by injection scan: for weakly supervised methods the selection efficiency
depends on how much signal is there to learn from, so each injected amount gets its own Run
(methods re-trained), its own flat-efficiency cut and its own bump hunt at the signal mass. The
injected amount where the local significance reaches 3σ and 5σ is interpolated per method, and the
ratio to the inclusive search is the improvement factor.

    python -m core injection-scan --config scan.yaml

scan.yaml: background, signal (EventSets), run (a run config without eventset/out), injections
(list of signal event counts), efficiency, mass (GeV), out (directory for the per-point Runs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from tqdm.auto import tqdm

from core.bumphunt.fit import FitError, fit_background
from core.bumphunt.histogram import mjj_spectrum
from core.bumphunt.likelihood import DijetBackground, ProfileLikelihood
from core.bumphunt.signal import SignalModel
from core.data import EventSet, inject
from core.data.atomic import write_json_atomic
from core.errors import InputError

MJJ_MAX = 8000.0


def z_at_mass(mjj: np.ndarray, lo: float, mass: float, signal: SignalModel, order: int = 3) -> float:
    """Signed local significance at one mass hypothesis for selected events' m_jj."""
    spec = mjj_spectrum(mjj, lo, MJJ_MAX)
    bkg = fit_background(spec, order)
    template = signal.at(mass).bin_fractions(spec.edges)
    z, _ = ProfileLikelihood(spec.counts, template, DijetBackground(bkg)).q0(signed=True)
    return float(z)


def crossing(n: np.ndarray, z: np.ndarray, target: float) -> float | None:
    """Injected amount where Z first reaches ``target``, interpolating linearly in √N (Z ∝ √N·...)."""
    n, z = np.asarray(n, dtype=float), np.asarray(z, dtype=float)
    order = np.argsort(n)
    n, z = n[order], z[order]
    for i in range(1, len(n)):
        if np.isfinite(z[i - 1]) and np.isfinite(z[i]) and z[i - 1] < target <= z[i]:
            r0, r1 = np.sqrt(n[i - 1]), np.sqrt(n[i])
            r = r0 + (target - z[i - 1]) * (r1 - r0) / (z[i] - z[i - 1])
            return float(r**2)
    return None


@dataclass
class ScanPoint:
    n_injected: int
    z: dict  # method -> Z at the signal mass after the cut


def run_injection_scan(cfg: dict, base: Path = Path("."), progress: bool = True) -> dict:
    from core.methods.runner import RunConfig, execute

    for key in ("background", "signal", "run", "injections", "efficiency", "mass", "out"):
        if key not in cfg:
            raise InputError(f"injection scan: field '{key}' is required")
    path = lambda p: Path(p).expanduser() if Path(p).expanduser().is_absolute() else base / p  # noqa: E731
    bkg, sig = EventSet.open(path(cfg["background"])), EventSet.open(path(cfg["signal"]))
    out = path(cfg["out"])
    injections = sorted(int(n) for n in cfg["injections"])
    if not injections or injections[0] < 0 or injections[-1] > len(sig):
        raise InputError(f"injection scan: injections must lie in 0..{len(sig)} (signal events available)")
    eff, mass = float(cfg["efficiency"]), float(cfg["mass"])
    if not 0 < eff <= 1:
        raise InputError(f"injection scan: efficiency must lie in (0, 1], got {eff}")
    shape = SignalModel.gaussian(float(cfg.get("resolution", 0.05)))
    out.mkdir(parents=True, exist_ok=True)
    points = []
    for n in tqdm(injections, desc="injection scan", disable=not progress):
        data = inject(
            bkg,
            sig,
            n,
            out / f"data-{n}",
            seed=int(cfg.get("seed", 1)) + n,
            remainder=out / f"signal-{n}",
            overwrite=True,
        )
        run_cfg = RunConfig.from_dict(
            {
                **cfg["run"],
                "eventset": str(data.path),
                "signal": str(out / f"signal-{n}"),
                "out": str(out / f"run-{n}"),
                "efficiencies": sorted({eff, *cfg["run"].get("efficiencies", [])}),
            }
        )
        run = execute(run_cfg, overwrite=True, progress=False)
        scores = run.scores()
        in_sr = scores["deta"] < run_cfg.sr_deta_max
        z = {}
        for method in run.methods:
            sel = run.selection(method, eff) & in_sr
            try:
                z[method] = z_at_mass(scores["mjj"][sel], data.mjj_fit_min, mass, shape)
            except FitError:
                z[method] = float("nan")
        points.append(ScanPoint(n, z))
    methods = list(points[0].z)
    result = {
        "mass": mass,
        "efficiency": eff,
        "mode": "re-trained at every injection point",
        "points": [{"n_injected": p.n_injected, "z": p.z} for p in points],
        "sensitivity": {},
    }
    for m in methods:
        zs = [p.z[m] for p in points]
        result["sensitivity"][m] = {f"n_{t}sigma": crossing(injections, zs, t) for t in (3, 5)}
    incl = result["sensitivity"].get("inclusive", {})
    for m, s in result["sensitivity"].items():
        for t in (3, 5):
            a, b = incl.get(f"n_{t}sigma"), s[f"n_{t}sigma"]
            s[f"improvement_{t}sigma"] = (a / b) if a and b else None
    write_json_atomic(out / "injection_scan.json", result)
    return result


def load_scan_config(path: Path) -> dict:
    try:
        cfg = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file") from None
    if not isinstance(cfg, dict):
        raise InputError(f"{path}: expected a mapping of settings")
    return cfg


def report(result: dict) -> str:
    lines = [f"injection scan at m = {result['mass']:.0f} GeV, ε = {result['efficiency']:g} ({result['mode']})"]
    for m, s in result["sensitivity"].items():
        f = lambda v: "not reached" if v is None else f"{v:.0f}"  # noqa: E731
        lines.append(
            f"  {m:12s} 3σ at {f(s['n_3sigma'])}, 5σ at {f(s['n_5sigma'])} injected events"
            + (f"  (×{s['improvement_3sigma']:.2f} vs inclusive at 3σ)" if s.get("improvement_3sigma") else "")
        )
    return "\n".join(lines) + "\n" + json.dumps(result["points"])
