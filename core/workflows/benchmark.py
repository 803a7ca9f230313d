"""The CMS injection benchmark: our search on CMS's luminosity and signals, beside the published numbers.

CMS's model-agnostic dijet search (arXiv:2412.03747, CMS-MLG-23-002) measured its methods' sensitivity by
injecting signal into 26.8 fb⁻¹ of QCD simulation. ``run_benchmark`` does the same with our generator and our
search, in one resumable job:

1. The benchmark signals, X(3 TeV) → Y(170) Y′(80) → 4q and W′(3 TeV) → B′(400) t (CMS's), and the LHC
   Olympics W′(3.5 TeV) → X(500) Y(100); their reconstructed peaks choose the QCD sample's threshold.
2. QCD dijets for the stated luminosity, generated at the highest pTHat threshold whose fully efficient m_jj
   range (above ≈ 3.2 × pTHat_min, measured: ``core.generate.turn_on``) holds a CMS window — sidebands
   included — around every searched signal's peak: pTHat > 690 GeV for the 3 TeV signals (2.5M events for
   26.8 fb⁻¹), 850 GeV for the 3.5 TeV one. Pythia's cross section (a hard-process-only run, seconds) sets the
   event count; generated on the job engine (a Dask LocalCluster, or a cluster's address). A second,
   independent QCD sample of half the size is the simulated background of the idealized AD and QUAK. Before
   any training, a signal whose peak no usable window holds is refused with the reason.
3. Per signal, the injection scan (``core.workflows.injection``) at CMS's cross sections: the injected number
   of events is σ × L × (our preselection efficiency, measured on the signal sample), zero included; every
   method re-trained per draw, windowed methods only in the windows holding the signal mass; QUAK's prior is
   the *other* benchmark signals (leave-one-out), generated whether or not they are searched.
4. ``benchmark.json``: per signal and method, the median local Z at every cross section, the cross sections for
   3σ and 5σ, the improvement over the inclusive search, and the published CMS values beside them.

Every stage is reused when its output exists with the same settings, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.data import EventSet
from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.errors import FieldError, InputError
from anomalyscope.core.params import build, param
from anomalyscope.core.results.records.injection_scan import InjectionScan

CMS_LUMINOSITY_FB = 26.8
SOURCE = (
    "CMS, arXiv:2412.03747 (CMS-MLG-23-002): injection test on 26.8 fb⁻¹ of QCD simulation; injected amounts from "
    "the analysis team's public plotting code (case-team/TagNTrain, combo_plots/draw_pvals.py)"
)

# The published numbers, as the paper and its plotting code give them ("published": never recomputed here).
PUBLISHED = {
    "x_yyprime": {
        "label": "X(3 TeV) → Y(170 GeV) Y′(80 GeV) → 4q",
        "preselection_efficiency": 0.748,
        "xsec_fb": [5.0, 8.0, 12.0, 18.0, 24.0],
        "events": [100, 160, 240, 360, 480],
        "p_value_at_fb": 12.0,
        "p_value": {
            "inclusive": 0.089,
            "vae_qr": 0.035,
            "cwola": 0.17,
            "tnt": 2.5e-6,
            "cathode": 1.3e-11,
            "cathode_b": 3.5e-8,
            "quak": 3.4e-8,
            "cut_tau21": 0.034,  # CMS: a τ21 + m_SD cut
        },
        "improvement_5sigma": {"cathode": 4.8, "quak": 4.1, "cathode_b": 3.9, "tnt": 3.5},
    },
    "wprime_bprime_t": {
        "label": "W′(3 TeV) → B′(400 GeV) t",
        "preselection_efficiency": 0.498,
        "xsec_fb_range": [22.0, 97.0],
        "events_range": [300, 1300],
        "improvement_5sigma": {"tnt": 4.1, "cathode_b": 3.3, "cathode": 2.3},
    },
    "wprime_xy": {"label": "W′(3.5 TeV) → X(500 GeV) Y(100 GeV) (LHC Olympics R&D; not in the CMS test)"},
}
# The cross sections we inject [fb]: CMS's for X → Y Y′; five points spanning CMS's range for W′ → B′ t; for the
# LHCO signal (no CMS number) the X → Y Y′ points.
XSEC_FB = {
    "x_yyprime": PUBLISHED["x_yyprime"]["xsec_fb"],
    "wprime_bprime_t": [22.0, 37.0, 52.0, 75.0, 97.0],
    "wprime_xy": PUBLISHED["x_yyprime"]["xsec_fb"],
}
SIGNAL_MASS = {"x_yyprime": 3000.0, "wprime_bprime_t": 3000.0, "wprime_xy": 3500.0}
ALL_METHODS = ("inclusive", "cut_tau21", "supervised", "iad", "vae_qr", "cwola", "tnt", "cathode", "cathode_b", "quak")
NEEDS_SIMULATED_BACKGROUND = {"iad", "quak"}
QCD_PTHAT_MAX = 1000.0  # GeV: the threshold never rises above the project's default QCD sample
GENERATION_RATE = 60.0  # events/s per core, end to end (measured: the demo's QCD, bench_generation)
BENCHMARKS = ("cms-injection",)
RESULT_FILE = "benchmark.json"


@dataclass(frozen=True)
class BenchmarkOptions:
    """The benchmark's options (``python -m anomalyscope benchmark cms-injection --luminosity …``), built and
    checked by ``params.build`` before anything runs; an error names the option (``pthat_min`` for
    ``--pthat-min``) and its value."""

    luminosity: float = param(CMS_LUMINOSITY_FB, low=0, low_open=True)  # fb⁻¹
    signals: tuple[str, ...] = tuple(XSEC_FB)
    methods: tuple[str, ...] = ALL_METHODS
    draws: int = param(1, low=1)
    toys: int = param(100, low=1)
    efficiency: float = param(0.01, low=0, high=1, low_open=True, high_open=True)
    pthat_min: float | None = param(None, low=100, high=3000)  # GeV

    def __post_init__(self):
        from anomalyscope.core.methods import REGISTRY

        if not self.signals:
            raise FieldError("signals: name at least one signal", None, "signals", [])
        bad = [s for s in self.signals if s not in XSEC_FB]
        if bad:
            raise FieldError(f"signals: unknown signal(s) {bad}; known: {', '.join(XSEC_FB)}", None, "signals", bad)
        bad = [m for m in self.methods if m not in REGISTRY]
        if bad:
            raise FieldError(f"methods: unknown method(s) {bad}; known: {', '.join(REGISTRY)}", None, "methods", bad)
        if INCLUSIVE not in self.methods:
            raise FieldError(
                "methods: the improvement factors need the inclusive search; add 'inclusive'",
                None,
                "methods",
                list(self.methods),
            )


def check_options(**options) -> BenchmarkOptions:
    """Bad options are refused before anything runs, each in one line."""
    return build(BenchmarkOptions, options, "cms-injection benchmark options", "option")


def luminosity_fb(es: EventSet) -> float:
    """The integrated luminosity a generated QCD sample stands for: generated events / σ."""
    proc = next(iter((es.info.processes or {}).values()), None)
    lumi_pb = proc.luminosity_pb if proc is not None else None
    if not lumi_pb:
        raise InputError(f"{es.path}: no generated cross section recorded; cannot say its luminosity")
    return float(lumi_pb) / 1000.0


def preselection_efficiency(es: EventSet) -> float:
    proc = next(iter((es.info.processes or {}).values()), None)
    if proc is None or not proc.n_generated or proc.n_selected is None:
        raise InputError(f"{es.path}: no generated and selected event counts recorded; cannot say its efficiency")
    return proc.n_selected / proc.n_generated


def qcd_threshold(peaks: dict[str, float]) -> tuple[float, dict]:
    """The highest pTHat_min (10 GeV steps, at most 1 TeV) at which every signal's peak lies in a CMS window
    (binning A or B) whose low sideband starts where the QCD sample is fully efficient (≈ 3.2 × pTHat_min).

    Returns the threshold and, per signal, the window chosen (the one asking least of the threshold)."""
    from anomalyscope.core.bumphunt.windows import make_windows
    from anomalyscope.core.data.eventset import FULL_EFFICIENCY_RATIO

    windows = make_windows("cms", 0.0, ("A", "B"))
    plan = {}
    for name, peak in peaks.items():
        holding = [w for w in windows if w.sr[0] <= peak < w.sr[1] and w.sb_low is not None]
        if not holding:
            raise InputError(f"{name}: its peak at {peak:.0f} GeV lies in no CMS window with a low sideband")
        w = max(holding, key=lambda w: w.lo)
        plan[name] = {"peak_gev": peak, "window": w.name, "needs_fit_start_gev": w.lo}
    lowest = min(p["needs_fit_start_gev"] for p in plan.values())
    return min(QCD_PTHAT_MAX, math.floor(lowest / FULL_EFFICIENCY_RATIO / 10.0) * 10.0), plan


def fit_start(qcd: EventSet, pthat_min: float) -> float:
    """Where the search may start on the QCD sample (``turn_on.fully_efficient_from``)."""
    from anomalyscope.core.data.eventset import fully_efficient_from

    return fully_efficient_from(qcd.mjj_fit_min, pthat_min)


def check_windows(qcd: EventSet, search: dict, peaks: dict[str, float], windowed: bool) -> dict[str, list[str]]:
    """The usable windows whose signal region holds each peak. A signal whose peak lies below the fit start, or
    (for windowed methods) in no usable window, is refused with the reason before anything trains."""
    from anomalyscope.core.bumphunt.search import SearchDefinition

    found = SearchDefinition.from_dict(search, "benchmark: search").resolve(
        qcd.column("mjj"), qcd.column("deta"), qcd.mjj_fit_min, str(qcd.path), qcd.threshold_known
    )
    where = f"the QCD sample {qcd.path} is fully efficient from {found.fit_min:.0f} GeV"
    out = {}
    for name, peak in peaks.items():
        if peak < found.fit_min:
            raise InputError(
                f"{name}: its peak at {peak:.0f} GeV lies below the fit start ({where}): lower --pthat-min"
            )
        out[name] = [w.name for w in found.windows if w.sr[0] <= peak < w.sr[1]]
        if windowed and not out[name]:
            why = "; ".join(found.warnings) or "no window with its sidebands fits above"
            raise InputError(
                f"{name}: no usable m_jj window holds its peak at {peak:.0f} GeV ({where}; {why}): lower --pthat-min "
                "or raise --luminosity"
            )
    return out


def injected_events(xsec_fb: list[float], lumi_fb: float, efficiency: float) -> list[int]:
    """Signal events after our preselection for each cross section: σ × L × ε."""
    return [int(round(x * lumi_fb * efficiency)) for x in xsec_fb]


def run_benchmark(
    out: str | Path,
    luminosity: float = CMS_LUMINOSITY_FB,
    signals=tuple(XSEC_FB),
    methods=ALL_METHODS,
    draws: int = 1,
    toys: int = 100,
    efficiency: float = 0.01,
    seed: int = 1,
    scheduler: str | None = "local",
    workers: int | None = None,
    pthat_min: float | None = None,
    progress: bool = True,
) -> dict:
    """Run (or resume) the benchmark in ``out``; returns and writes ``out/benchmark.json``.

    ``pthat_min`` (GeV) overrides the QCD threshold the signals' peaks choose (``qcd_threshold``)."""
    import os

    from anomalyscope.core.bumphunt.search import SearchDefinition
    from anomalyscope.core.generate.pythia import cross_section_pb
    from anomalyscope.core.generate.runner import generate_or_reuse
    from anomalyscope.core.workflows.injection import reconstructed_peak, run_injection_scan

    signals, methods = list(signals), list(methods)
    check_options(
        luminosity=luminosity, signals=signals, methods=methods, draws=draws, toys=toys, efficiency=efficiency,
        pthat_min=pthat_min,
    )  # fmt: skip
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stages = tqdm(total=3 + len(signals), desc="cms-injection benchmark", unit="stage", disable=not progress)
    say = tqdm.write if progress else (lambda _: None)
    search = {"windows": "cms", "binnings": ["A", "B"], "efficiencies": [efficiency], "toys": toys}
    deta_max = SearchDefinition.from_dict(search, "benchmark: search").deta_max  # the analysis region's cut

    # the signals first: small, and their peaks choose the QCD threshold. QUAK's prior needs the others too.
    wanted = [n for n in XSEC_FB if n in signals or ("quak" in methods and n not in signals)]
    samples, eff_sel, peaks = {}, {}, {}
    for k, name in enumerate(XSEC_FB):
        if name not in wanted:
            continue
        guess = PUBLISHED[name].get("preselection_efficiency", 0.6)
        # enough for the largest injection and a disjoint evaluation sample of at least as many
        n_gen = max(400, int(math.ceil(2.5 * max(XSEC_FB[name]) * luminosity)), int(math.ceil(400 / guess)))
        samples[name] = generate_or_reuse(
            name, n_gen, seed + 10 + k, out / name, workers=workers, scheduler=scheduler, progress=progress
        )
        eff_sel[name] = preselection_efficiency(samples[name])
        peaks[name] = reconstructed_peak(samples[name], deta_max, SIGNAL_MASS[name])
    stages.update()

    chosen, plan = qcd_threshold({n: peaks[n] for n in signals})
    threshold = float(pthat_min) if pthat_min is not None else chosen
    sigma_pb, sigma_err_pb = cross_section_pb("qcd", {"pthat_min": threshold}, seed=seed)
    n_qcd = int(round(luminosity * 1000.0 * sigma_pb))
    if n_qcd < 500:
        raise InputError(f"--luminosity {luminosity:g} fb⁻¹ is {n_qcd} QCD events; the search needs at least 500")
    n_sim = max(500, n_qcd // 2) if NEEDS_SIMULATED_BACKGROUND & set(methods) else 0
    hours = (n_qcd + n_sim) / GENERATION_RATE / (workers or os.cpu_count() or 1) / 3600.0
    say(
        f"QCD at pTHat > {threshold:.0f} GeV (σ = {sigma_pb:.1f} pb): {n_qcd} events for {luminosity:g} fb⁻¹"
        + (f" and {n_sim} of simulated background" if n_sim else "")
        + f", ≈ {hours:.1f} h here at {GENERATION_RATE:.0f} events/s per core; windows: "
        + ", ".join(f"{n} {p['window']} (peak {p['peak_gev']:.0f} GeV)" for n, p in plan.items())
    )
    qcd_params = {"pthat_min": threshold}
    qcd = generate_or_reuse(
        "qcd", n_qcd, seed, out / "qcd", qcd_params, workers=workers, scheduler=scheduler, progress=progress
    )
    lumi = luminosity_fb(qcd)
    search["fit_min"] = fit_start(qcd, threshold)
    windows = check_windows(qcd, search, {n: peaks[n] for n in signals}, _windowed(methods))
    stages.update()
    sim = None
    if n_sim:
        sim = generate_or_reuse(
            "qcd", n_sim, seed + 1, out / "qcd_sim", qcd_params, workers=workers, scheduler=scheduler, progress=progress
        )
    stages.update()

    result = {
        "benchmark": "cms-injection",
        "luminosity_fb": lumi,
        "qcd": {
            "events": n_qcd,
            "sigma_pb": sigma_pb,
            "sigma_err_pb": sigma_err_pb,
            "pthat_min_gev": threshold,
            "mjj_fit_min_gev": qcd.mjj_fit_min,
            "fit_start_gev": search["fit_min"],
            "simulated_background_events": n_sim,
        },
        "efficiency": efficiency,
        "draws": draws,
        "toys": toys,
        "methods": methods,
        "published": {"source": SOURCE, "luminosity_fb": CMS_LUMINOSITY_FB, "signals": PUBLISHED},
        "signals": {},
    }
    for name in signals:
        injections = injected_events(XSEC_FB[name], lumi, eff_sel[name])
        run_methods = []
        for m in methods:
            if m == "quak":
                prior = [str(samples[o].path) for o in samples if o != name]
                run_methods.append({"quak": {"prior": prior}})
            else:
                run_methods.append(m)
        cfg = {
            "background": str(qcd.path),
            "signal": str(samples[name].path),
            "run": {"methods": run_methods, "search": search, **({"background_extra": str(sim.path)} if sim else {})},
            "injections": sorted({0, *injections}),
            "draws": draws,
            "toys": toys,
            "efficiency": efficiency,
            "mass": SIGNAL_MASS[name],
            "out": str(out / f"scan-{name}"),
            "luminosity_fb": lumi,
            "signal_efficiency": eff_sel[name],
            "seed": seed,
        }
        scan = run_injection_scan(cfg, progress=progress)
        summary = _signal_summary(name, scan, lumi, eff_sel[name])
        result["signals"][name] = {**summary, "windows": windows.get(name, []), "scan_dir": cfg["out"]}
        stages.update()
        write_json_atomic(out / RESULT_FILE, result)  # partial results readable while the rest runs
    stages.close()
    write_json_atomic(out / RESULT_FILE, result)
    return result


def _windowed(methods) -> bool:
    from anomalyscope.core.methods import REGISTRY

    return any(REGISTRY[m].windowed for m in methods)


def _signal_summary(name: str, scan: InjectionScan, lumi: float, eff: float) -> dict:
    from scipy.stats import norm

    pub = PUBLISHED[name]
    n = np.asarray(scan.injections, dtype=float)
    xsec = (n / (lumi * eff)).tolist()
    methods = {}
    for m, s in scan.sensitivity.items():
        med = np.asarray(scan.median_z[m], dtype=float)
        row = {
            "median_z": med.tolist(),
            "xsec_3sigma_fb": s.xsec_3sigma_fb,
            "xsec_5sigma_fb": s.xsec_5sigma_fb,
            "improvement_3sigma": s.improvement_3sigma,
            "improvement_5sigma": s.improvement_5sigma,
            "published_improvement_5sigma": pub.get("improvement_5sigma", {}).get(m),
        }
        if "p_value_at_fb" in pub:
            at = int(np.argmin(np.abs(np.asarray(xsec) - pub["p_value_at_fb"])))
            z = float(med[at])
            row["z_at_published_point"] = z
            row["p_at_published_point"] = float(norm.sf(z)) if np.isfinite(z) else None
            row["published_p_value"] = pub["p_value"].get(m)
        methods[m] = row
    return {
        "label": pub["label"],
        "mass_gev": scan.mass,
        "reconstructed_peak_gev": scan.reconstructed_peak,
        "preselection_efficiency": eff,
        "published_preselection_efficiency": pub.get("preselection_efficiency"),
        "injected_events": scan.injections,
        "xsec_fb": xsec,
        "methods": methods,
    }


def report(result: dict) -> str:
    """The table printed at the end: ours beside the published values (labelled so)."""

    def num(v, fmt):
        return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, fmt)

    lines = [
        f"CMS injection benchmark: {result['luminosity_fb']:.1f} fb⁻¹ of QCD (pTHat > "
        f"{result['qcd'].get('pthat_min_gev', 1000.0):.0f} GeV, {result['qcd']['events']} events), cut ε = "
        f"{result['efficiency']:g}, {result['draws']} draw(s) per point",
        f"published: {result['published']['source']}",
    ]
    for name, sig in result["signals"].items():
        lines.append("")
        lines.append(
            f"{sig['label']}: our preselection ε = {sig['preselection_efficiency']:.3f}"
            + (
                f" (published {sig['published_preselection_efficiency']:.3f})"
                if sig["published_preselection_efficiency"]
                else ""
            )
        )
        lines.append("  σ [fb]: " + ", ".join(f"{x:.1f}" for x in sig["xsec_fb"]))
        head = f"  {'method':11s} {'median Z per σ':34s} {'5σ at [fb]':>10s} {'× incl.':>8s} {'published ×':>11s}"
        has_p = any("published_p_value" in r for r in sig["methods"].values())
        if has_p:
            head += f" {'p @12 fb':>9s} {'published p':>11s}"
        lines.append(head)
        for m, r in sig["methods"].items():
            zs = " ".join(num(z, "5.2f") for z in r["median_z"])
            line = (
                f"  {m:11s} {zs:34s} {num(r['xsec_5sigma_fb'], '10.1f'):>10s} {num(r['improvement_5sigma'], '8.2f'):>8s} "
                f"{num(r['published_improvement_5sigma'], '11.1f'):>11s}"
            )
            if has_p:
                line += (
                    f" {num(r.get('p_at_published_point'), '9.1e'):>9s} {num(r.get('published_p_value'), '11.1e'):>11s}"
                )
            lines.append(line)
    return "\n".join(lines)


__all__ = [
    "ALL_METHODS",
    "BENCHMARKS",
    "PUBLISHED",
    "SOURCE",
    "XSEC_FB",
    "check_options",
    "check_windows",
    "fit_start",
    "qcd_threshold",
    "report",
    "run_benchmark",
]
