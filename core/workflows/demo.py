"""The built-in demo: QCD background with an LHC Olympics-like W' → X Y signal injected, at an amount where the
inclusive bump hunt sees a hint and an anomaly selection a discovery-level local excess.

One command (``python -m anomalyscope demo``) builds it in ``$ANOMALYSCOPE_DEMO`` (default
``~/.cache/anomalyscope/demo``) and later calls reuse it. Contents:

* ``qcd/``: QCD dijets, pTHat > 850 GeV: fully efficient (≤ 1% of events lost to the threshold) from 2.72 TeV
  (3.2 × pTHat_min, ``data.eventset.fully_efficient_from``), where the search's fit starts — just below window B4's low sideband
  (2725 GeV). The demos before version 7 used pTHat > 1 TeV and fitted from 2.67 TeV, where that threshold
  still loses 7–12% of the events;
* ``wprime_xy/``: W'(3.7 TeV) → X(500) Y(100) → qqqq, pure signal as generated: the LHC Olympics R&D
  signal's X and Y, with the W' mass moved from 3.5 to 3.7 TeV so that its reconstructed peak sits in the
  middle of a CMS window's signal region (B4, 3331–4071 GeV; the A4 window below needs a sideband under
  the fit start). At 3.5 TeV 27% of the peak falls into B4's lower sideband, which teaches the weakly
  supervised methods the signal as background (measured: CATHODE local 3.9σ there);
* ``data/``: the "data" the dashboard opens: all QCD events plus signal events injected so that the
  signal's significance in the signal region 3.5 < m_jj < 3.9 TeV, |Δη| < 1.3, is S/√B = 4.5: the fit of the
  whole spectrum absorbs part of a bump that broad, so the inclusive bump hunt sees a hint there, and an
  anomaly selection, which keeps the signal and a tenth of the background, a discovery-level local excess
  (measured over signal draws: docs/search.md, ``bench/bench_demo.py``). With the 525 background events in that
  region (≈ 3.4 fb⁻¹) this is 204 signal events, S/B ≈ 20% there — an easy regime, far from the papers' (LHCO
  R&D: S/√B 2.2, S/B 0.6% in the SR with 1.1M events; CMS's injection test well under 1%). Labels are kept for
  evaluation;
* ``qcd_sim/``: a second, independent QCD sample: the "simulated background" that the idealized AD and
  QUAK's background model learn from (never the data);
* ``prior_x_yyprime/``, ``prior_wprime_bprime_t/``: QUAK's signal prior, simulated signals that are *not*
  the injected W' → X Y (a prior holding the searched signal would make QUAK a supervised search);
* ``signal/``: the signal events not injected, a disjoint sample for evaluating methods;
* ``lund_sim/``, ``lund_data/``, ``lund_sim_alt/``: boosted-W control samples (Z'(2 TeV) → WW) with Pythia's
  default shower, the "pseudodata" tune and the "alt_shower" tune, for the Lund-plane reweighting;
* ``run/``: a Run of the references (inclusive, τ cuts, supervised, idealized AD) and the five
  anomaly methods (CWoLa Hunting, VAE-QR, Tag N' Train, CATHODE and CATHODE-b, QUAK) on ``data`` with the search over both staggered CMS binnings (windows with too few events are
  skipped), which the dashboard opens, with the Lund-plane
  reweighting of its signal events (``run/lund``) and an L1 trigger report (``run/trigger``) made from
  ``l1_minbias/`` (zero-bias) and ``l1_h_aa_4b/``, ``l1_wprime_xy/`` (signals), with its models' pile-up scan
  (``run/trigger/pileup.json``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from anomalyscope.core.bumphunt.search import SearchDefinition
from anomalyscope.core.data import EventSet, inject
from anomalyscope.core.errors import InputError
from anomalyscope.core.generate.runner import generate_or_reuse

DEMO_VERSION = 7  # 7: QCD at pTHat > 850 GeV, fitted from where it is fully efficient (6: pTHat > 1 TeV)
QCD_PARAMS = {"pthat_min": 850.0}  # B4's low sideband starts at 2725 GeV ≥ 3.2 × 850 (fully efficient)
N_QCD = 100_000  # ≈ 3.4 fb⁻¹ at pTHat > 850 GeV
N_QCD_SIM = 20_000  # the simulated background of the idealized AD and QUAK
N_SIGNAL = 6_000
N_PRIOR = 2_000  # events per QUAK prior signal
PRIOR_SIGNALS = ("x_yyprime", "wprime_bprime_t")
N_LUND = 5_000  # events per Lund control sample
N_ZERO_BIAS, N_L1_SIGNAL = 40_000, 4_000  # L1 trigger samples (zero-bias: minimum-bias events, no pile-up)
L1_SIGNALS = ("h_aa_4b", "wprime_xy")
N_PILEUP = 2_000  # zero-bias crossings per ⟨μ⟩ in the trigger's pile-up scan (pool: 5× as many interactions)
LUND_TUNES = {"lund_sim": "monash", "lund_data": "pseudodata", "lund_sim_alt": "alt_shower"}
SIGNAL_PARAMS = {"mA": 3700.0}  # W' mass (X, Y as in the LHC Olympics R&D sample)
SR = (3500.0, 3900.0)
DETA_MAX = SearchDefinition.deta_max
TARGET_S_OVER_SQRT_B = 4.5
SEED = 20260101
QUICK_SCALE = 0.1  # demo --quick: a tenth of the events ...
NN = {"classifier": "nn"}  # the demo's numbers (docs) were measured with the network; trees are CWoLa's default
QUICK_METHODS = ["inclusive", "cut_tau21", "supervised", {"cwola": NN}, "tnt"]  # and the methods that train in seconds
DEMO_DISK_GB = 1.2  # the demo at scale 1 takes ≈ 0.6 GB (version 7); its jobs' partial files about as much again
DEMO_RUN = {
    "search": {"windows": "cms", "binnings": ["A", "B"], "fit_max": 8000.0, "efficiencies": [0.1, 0.01, 0.001]},
    "methods": [
        "inclusive",
        "cut_tau21",
        "cut_tau32",
        "supervised",
        {"cwola": NN},
        {"vae_qr": {"max_train_jets": 6000, "epochs": 10}},
        "tnt",
        {"cathode": {"folds": 2}},  # two folds: four flows instead of ten, to keep the demo build short
        {"cathode_b": {"folds": 2}},
        "iad",
        "quak",  # its prior (PRIOR_SIGNALS) is filled in by build_demo
    ],
}


def default_demo_dir() -> Path:
    env = os.environ.get("ANOMALYSCOPE_DEMO")
    return Path(env) if env else Path.home() / ".cache" / "anomalyscope" / "demo"


def in_sr(es: EventSet) -> np.ndarray:
    mjj, deta = es.column("mjj"), es.column("deta")
    return (mjj >= SR[0]) & (mjj < SR[1]) & (deta < DETA_MAX)


def _demo_config(quick: bool = False) -> str:
    """A digest of everything that defines the demo (samples, signal, injection, Run): a cached demo made with
    other settings is rebuilt (its samples are reused where they match)."""
    import hashlib
    import json

    spec = {
        "version": DEMO_VERSION,
        "counts": [N_QCD, N_QCD_SIM, N_SIGNAL, N_PRIOR, N_LUND],
        "qcd": QCD_PARAMS,
        "signal": SIGNAL_PARAMS,
        "priors": PRIOR_SIGNALS,
        "sr": SR,
        "target": TARGET_S_OVER_SQRT_B,
        "run": QUICK_METHODS if quick else DEMO_RUN,
        "seed": SEED,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _demo_ready(path: Path, scale: float, quick: bool = False) -> bool:
    try:
        es = EventSet.open(path / "data")
    except InputError:
        return False
    demo = es.info.demo or {}
    if not (demo.get("config") == _demo_config(quick) and demo.get("scale") == scale and (path / "signal").exists()):
        return False
    try:
        from anomalyscope.core.results import Run

        manifest = Run.open(path / "run").manifest
        same = manifest.eventset.created == es.info.created and manifest.search is not None
        done = [] if quick else [path / "run" / "lund" / "report.json", path / "run" / "trigger" / "report.json"]
        return same and all(p.exists() for p in done)
    except InputError:
        return False


def check_requirements(out: Path, scale: float = 1.0) -> None:
    """Everything the demo build needs, checked before it starts (not 25 minutes in): the Python version,
    the generator, ML and trigger libraries (the [all] extra), a C++ compiler (the trigger report's hls4ml C simulation) and
    the disk space. One error lists every problem found."""
    import shutil
    import sys

    import anomalyscope.core.trigger  # noqa: F401 — sets KERAS_BACKEND before keras is imported here
    from anomalyscope.core.errors import MissingExtra
    from anomalyscope.core.extras import EXTRAS, require

    problems = []
    if sys.version_info[:2] != (3, 11):
        problems.append(f"Python 3.11 is required, this is {sys.version.split()[0]}")
    for extra in ("generate", "ml", "trigger"):
        missing = []
        for module in EXTRAS[extra]:
            try:
                require(module, "The demo")  # the build imports them all anyway
            except MissingExtra:
                missing.append(module)
        if missing:
            problems.append(f"{', '.join(missing)} missing (pip install 'anomalyscope[all]')")
    if not (shutil.which("g++") or shutil.which("c++")):
        problems.append(
            "no C++ compiler (g++) on PATH: the trigger report compiles its hls4ml models (apt-get install g++)"
        )
    need_gb = max(0.2, DEMO_DISK_GB * scale)
    where = next((p for p in [out, *out.parents] if p.exists()), Path("/"))
    free_gb = shutil.disk_usage(where).free / 1e9
    if free_gb < need_gb:
        problems.append(f"{where}: {free_gb:.1f} GB free, the demo needs about {need_gb:.1f} GB")
    if problems:
        raise InputError("the demo cannot be built here: " + "; ".join(problems))


def build_demo(
    out: Path | None = None,
    workers: int | None = None,
    force: bool = False,
    scale: float = 1.0,
    progress: bool = True,
    quick: bool = False,
) -> dict[str, Path]:
    """Build (or reuse) the demo in ``out``. ``quick``: a first look in a few minutes, in ``out/quick`` — a tenth
    of the events, the methods that train in seconds (QUICK_METHODS), no Lund-plane or trigger report; too
    few events for a discovery (that is what the full demo shows)."""
    out = Path(out) if out else default_demo_dir()
    if quick:
        out, scale = out / "quick", QUICK_SCALE
    paths = {k: out / k for k in ("qcd", "qcd_sim", "wprime_xy", "data", "signal", "run", *LUND_TUNES)}
    if scale <= 0:
        raise InputError(f"--scale must be positive, got {scale}")
    if not force and _demo_ready(out, scale, quick):
        _search_up_to_date(paths["run"], progress)
        if not quick:
            _demo_pileup(paths["run"], scale, workers, progress)  # added after demo version 4: made once if missing
        return paths
    check_requirements(out, scale)
    samples = build_samples(out, workers, scale, progress, quick)
    qcd, sig = samples["qcd"], samples["wprime_xy"]
    b_sr, s_sr = int(in_sr(qcd).sum()), float(in_sr(sig).mean())
    if b_sr == 0 or s_sr == 0:
        raise InputError(f"{out}: the demo has no events in the signal region; increase --scale")
    n_inject = min(len(sig), int(round(TARGET_S_OVER_SQRT_B * np.sqrt(b_sr) / s_sr)))
    # what the demo is, recorded in the data's schema.json for the dashboard's overview and for cache checks
    demo = {
        "version": DEMO_VERSION,
        "config": _demo_config(quick),
        "signal_params": SIGNAL_PARAMS,
        "scale": scale,
        "signal_region_gev": list(SR),
        "deta_max": DETA_MAX,
        "target_s_over_sqrt_b_in_sr": TARGET_S_OVER_SQRT_B,
        "n_background_in_sr": b_sr,
        "signal_fraction_in_sr": round(s_sr, 4),
        "n_injected": n_inject,
        "s_over_b_in_sr": round(n_inject * s_sr / b_sr, 4),
    }
    data = inject(
        qcd, sig, n_inject, paths["data"], seed=SEED + 2, remainder=paths["signal"], overwrite=True,
        provenance={"demo": demo},
    )  # fmt: skip
    del data
    from anomalyscope.core.methods.runner import execute

    execute(_run_config(out, paths["data"], paths["run"], scale, quick), overwrite=True, progress=progress)
    if quick:
        return paths
    from anomalyscope.core.lund.report import add_to_run

    n_lund = max(500, int(N_LUND * scale))
    lund = {
        k: generate_or_reuse("zprime_ww", n_lund, SEED + 3, paths[k], tune=tune, workers=workers, progress=progress)
        for k, tune in LUND_TUNES.items()
    }
    add_to_run(paths["run"], lund["lund_data"], lund["lund_sim"], lund["lund_sim_alt"])
    _demo_trigger(out, paths["run"], scale, workers, progress)
    _demo_pileup(paths["run"], scale, workers, progress)
    return paths


def build_samples(
    out: Path | None = None,
    workers: int | None = None,
    scale: float = 1.0,
    progress: bool = True,
    quick: bool = False,
    qcd: bool = True,
) -> dict[str, EventSet]:
    """The demo's generated samples (reused where they exist), without its Run, Lund-plane or trigger report: the
    QCD, the signal and, unless ``quick``, the simulated background and QUAK's prior. ``qcd=False`` leaves out the
    demo's own QCD: a sensitivity bench on a larger background needs only the rest."""
    out = Path(out) if out else default_demo_dir()
    n_qcd, n_sig = max(200, int(N_QCD * scale)), max(200, int(N_SIGNAL * scale))
    got = {}
    if qcd:
        got["qcd"] = generate_or_reuse("qcd", n_qcd, SEED, out / "qcd", QCD_PARAMS, workers=workers, progress=progress)
    got["wprime_xy"] = generate_or_reuse(
        "wprime_xy", n_sig, SEED + 1, out / "wprime_xy", SIGNAL_PARAMS, workers=workers, progress=progress
    )
    if not quick:  # the simulated background and the signal prior of the idealized AD and QUAK
        n_sim = max(200, int(N_QCD_SIM * scale))
        got["qcd_sim"] = generate_or_reuse(
            "qcd", n_sim, SEED + 5, out / "qcd_sim", QCD_PARAMS, workers=workers, progress=progress
        )
        for k, (process, path) in enumerate(_prior_paths(out).items()):
            n_prior = max(200, int(N_PRIOR * scale))
            got[path.name] = generate_or_reuse(process, n_prior, SEED + 6 + k, path, workers=workers, progress=progress)
    return got


def _search_up_to_date(run_dir: Path, progress: bool) -> None:
    """A demo built by an older version keeps its trained Run; a search.json without what today's views draw is
    rewritten from its scores (a minute, no retraining)."""
    from anomalyscope.core.bumphunt.result import SPECTRA_SINCE
    from anomalyscope.core.results import Run

    run = Run.open(run_dir)
    res = run.search_result()
    if res is None or res.schema_version < SPECTRA_SINCE:
        run.redo_search(progress=progress)


def _prior_paths(out: Path) -> dict[str, Path]:
    """Where the demo keeps QUAK's prior samples, by process."""
    return {p: out / f"prior_{p}" for p in PRIOR_SIGNALS}


def run_settings(out: Path, scale: float = 1.0, quick: bool = False, background: Path | None = None) -> dict:
    """The demo Run's configuration without its data and output (DEMO_RUN with the demo's samples filled in):
    what its draws, its null and the sensitivity bench retrain. ``background``: the QCD sample the Run will
    search, whose measured edge sets the fit start (default: the demo's); it must be generated as the demo's."""
    from anomalyscope.core.data.eventset import fully_efficient_from

    priors = [str(p) for p in _prior_paths(out).values()]
    # decided from the generator threshold, before the spectrum is looked at (the calibration sample alone
    # sees too few events at 2.7 TeV to find the 1% edge: ``fully_efficient_from``)
    edge = EventSet.open(background or out / "qcd").mjj_fit_min
    fit_min = fully_efficient_from(edge, QCD_PARAMS["pthat_min"])
    methods = [{"quak": {"prior": priors}} if m == "quak" else m for m in DEMO_RUN["methods"]]
    return {
        **DEMO_RUN,
        "methods": QUICK_METHODS if quick else methods,
        "background_extra": None if quick else str(out / "qcd_sim"),
        "search": {
            **DEMO_RUN["search"],
            "fit_min": fit_min,
            "min_window_events": max(5, int(100 * min(scale, 1.0))),
        },
    }


def _run_config(out: Path, data: Path, run: Path, scale: float, quick: bool = False):
    """The demo Run's configuration on ``data``, written to ``run``."""
    from anomalyscope.core.methods.runner import RunConfig

    settings = run_settings(out, scale, quick)
    return RunConfig.from_dict(
        {**settings, "eventset": str(data), "signal": str(out / "signal"), "out": str(run)}, "demo run"
    )


def build_null_twin(out: Path | None = None, scale: float = 1.0, progress: bool = True) -> Path:
    """The demo's background-only twin: the same QCD events, no signal injected, the same Run configuration
    (``OUT/null/run``). Its search must find no global excess: the check that the demo's discovery is the
    signal's and not the method's. Needs the demo built first."""
    from anomalyscope.core.methods.runner import execute

    out = Path(out) if out else default_demo_dir()
    if not _demo_ready(out, scale):
        raise InputError(f"{out}: build the demo first (python -m anomalyscope demo), its null twin reuses its samples")
    twin = out / "null"
    twin.mkdir(exist_ok=True)
    qcd = EventSet.open(out / "qcd")
    empty = EventSet.open(out / "signal")
    inject(qcd, empty, 0, twin / "data", seed=SEED + 2, overwrite=True)
    execute(_run_config(out, twin / "data", twin / "run", scale), overwrite=True, progress=progress)
    return twin / "run"


def _demo_pileup(run: Path, scale: float, workers, progress) -> None:
    """The trigger models' pile-up scan (⟨μ⟩ = 0, 20, 40, 60), unless the Run has it already."""
    from anomalyscope.core.trigger.pileup import PILEUP_FILE, pileup_study

    if (run / "trigger" / PILEUP_FILE).exists():
        return
    n = max(1000, int(N_PILEUP * scale))
    pileup_study(
        run / "trigger",
        n_events=n,
        n_signal=max(100, n // 4),
        pool_size=max(1000, 5 * n),
        workers=workers,
        progress=progress,
    )


def _demo_trigger(out: Path, run: Path, scale: float, workers, progress) -> None:
    """L1 samples (reused when already made with the same counts) and the trigger report of the demo Run."""
    import shutil

    from anomalyscope.core.trigger.report import build_trigger_report
    from anomalyscope.core.trigger.samples import L1Sample, generate_l1

    def sample(process: str, n: int, seed: int) -> L1Sample:
        path = out / f"l1_{process}"
        try:
            s = L1Sample.open(path)
            if s.meta.get("n_events") == n and s.meta.get("seed") == seed:
                return s
        except InputError:
            pass
        return L1Sample.open(generate_l1(process, n, seed, path, workers=workers, overwrite=True, progress=progress))

    n_zb = max(10_000, int(N_ZERO_BIAS * scale))
    n_sig = max(500, int(N_L1_SIGNAL * scale))
    background = sample("minbias", n_zb, SEED + 10)
    signals = [sample(p, n_sig, SEED + 11 + k) for k, p in enumerate(L1_SIGNALS)]
    use_yosys = shutil.which("yosys") is not None
    build_trigger_report(run / "trigger", background, signals, epochs=20, use_yosys=use_yosys, progress=progress)
