"""Commands that train methods into Runs and search them: the Run, the bump hunt, the search, the injection
scan, the CMS benchmark, the method list."""

from __future__ import annotations

from pathlib import Path

from anomalyscope.core.cli.common import BENCHMARK_KEPT, NULL_KEPT, SCAN_KEPT
from anomalyscope.core.data.jobs import SCHEDULER_HELP, parse_scheduler


def add_commands(sub) -> None:
    r = sub.add_parser("run", help="train anomaly methods on an EventSet and write a Run")
    r.add_argument("--config", type=Path, required=True, help="run.yaml (see README)")
    r.add_argument("--out", type=Path, help="override the config's 'out'")
    r.add_argument("--overwrite", action="store_true")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(func=_cmd_run)

    b = sub.add_parser("bumphunt", help="fit the m_jj spectrum of an EventSet and scan for local excesses")
    b.add_argument("eventset", type=Path)
    b.add_argument("--signal", type=Path, action="append", help="signal EventSet(s) for the signal shape")
    b.add_argument("--binning", default="cms", help="'cms' (resolution-following) or a bin width in GeV")
    b.add_argument("--fit-min", type=float, default=None, help="fit start [GeV] (default: found from the data)")
    b.add_argument("--json", type=Path, help="write the scan, F-test and limit as JSON")
    b.set_defaults(func=_cmd_bumphunt)

    se = sub.add_parser("search", help="rerun a Run's search (fits, scans, look-elsewhere toys) and print it")
    se.add_argument("run", type=Path)
    se.add_argument("--toys", type=int, default=None, help="background-only pseudo-experiments (default: the Run's)")
    se.add_argument("--quiet", action="store_true")
    se.set_defaults(func=_cmd_search)

    nu = sub.add_parser(
        "null", help="calibrate a Run's global significance: background-only pseudo-datasets through the whole chain"
    )
    nu.add_argument("run", type=Path)
    nu.add_argument("--pool", type=Path, required=True, help="background-only EventSet the pseudo-datasets come from")
    nu.add_argument("--pseudo", type=int, default=50, help="pseudo-datasets (each a retrained Run)")
    nu.add_argument("--seed", type=int, default=1000)
    nu.add_argument("--keep", action="store_true", help="keep each pseudo-dataset's data and Run")
    nu.add_argument("--quiet", action="store_true")
    nu.set_defaults(func=_cmd_null, interrupted=NULL_KEPT)

    j = sub.add_parser("injection-scan", help="discovery sensitivity: re-train and bump-hunt per injected amount")
    j.add_argument("--config", type=Path, required=True)
    j.add_argument("--quiet", action="store_true")
    j.set_defaults(func=_cmd_injection_scan, interrupted=SCAN_KEPT)

    from anomalyscope.core.workflows.benchmark import ALL_METHODS, BENCHMARKS, CMS_LUMINOSITY_FB, XSEC_FB

    bm = sub.add_parser("benchmark", help="the CMS injection benchmark: our sensitivity beside the published one")
    bm.add_argument("name", choices=BENCHMARKS)
    bm.add_argument("--out", type=Path, default=Path("benchmark-cms-injection"), help="working and result directory")
    bm.add_argument("--luminosity", type=float, default=CMS_LUMINOSITY_FB, help="QCD luminosity [fb^-1] (CMS: 26.8)")
    bm.add_argument("--signals", nargs="+", default=list(XSEC_FB), help=f"of {', '.join(XSEC_FB)}")
    bm.add_argument("--methods", nargs="+", default=list(ALL_METHODS))
    bm.add_argument("--draws", type=int, default=1, help="re-trained signal draws per injected amount (CMS: one)")
    bm.add_argument("--toys", type=int, default=100, help="bump-hunt toys per Run")
    bm.add_argument("--efficiency", type=float, default=0.01, help="the anomaly cut's efficiency")
    bm.add_argument("--seed", type=int, default=1)
    bm.add_argument(
        "--pthat-min",
        type=float,
        default=None,
        help="QCD generator threshold [GeV] (default: the highest whose fully efficient m_jj range holds a window "
        "around every signal's peak: 690 for the 3 TeV signals)",
    )
    bm.add_argument("--scheduler", default="local", help=SCHEDULER_HELP + " (generation)")
    bm.add_argument("--workers", type=int, default=None)
    bm.add_argument("--quiet", action="store_true")
    bm.set_defaults(func=_cmd_benchmark, interrupted=BENCHMARK_KEPT)

    me = sub.add_parser("methods", help="list the anomaly-detection methods and the parameters each takes")
    me.add_argument("name", nargs="?", default=None, help="one method (default: all)")
    me.set_defaults(func=_cmd_methods)


def _cmd_run(a) -> int:
    from anomalyscope.core.methods.runner import execute, load_config

    cfg = load_config(a.config)
    if a.out:
        cfg.out = str(a.out)
    run = execute(cfg, overwrite=a.overwrite, progress=not a.quiet)
    print(f"run written: {run.path}")
    ev = run.evaluation()
    if ev is not None:
        print(f"performance in window {ev.region.window} {ev.region.sr_gev} GeV:")
        for name, p in ev.evaluated().items():
            print(f"  {name:12s} AUC {p.auc:.3f}  max SIC {p.max_sic:.2f} (eps_B >= {p.eps_b_floor:.1e})")
    for name, t in (run.manifest.training_seconds or {}).items():
        print(f"  {name:12s} trained in {t:.1f} s")
    res = run.search_result()
    g = res.global_significance if res is not None else None
    if g is not None:
        print(f"search: largest local excess Z = {g.observed_max_z:.2f}, {g.text()}; {res.trials.text()}")
    for w in run.search().warnings:
        print(f"  warning: {w}")
    return 0


def _cmd_bumphunt(a) -> int:
    from anomalyscope.core.bumphunt import SearchDefinition, bump_hunt, search_of_eventset, signal_model_from_eventsets
    from anomalyscope.core.data import EventSet

    es = EventSet.open(a.eventset)
    signal = signal_model_from_eventsets([EventSet.open(p) for p in a.signal]) if a.signal else None
    binning = a.binning if a.binning == "cms" else float(a.binning)
    search = search_of_eventset(es, SearchDefinition(binning=binning, fit_min=a.fit_min, scan_points=None))
    mjj, deta = es.column("mjj"), es.column("deta")
    result = bump_hunt(search.spectrum(mjj[search.in_region(mjj, deta)]), signal, search=search)
    print(f"fit start {search.fit_min:.0f} GeV ({search.fit_min_how})")
    print(result.report())
    if a.json:
        from anomalyscope.core.data.atomic import write_json_atomic

        write_json_atomic(
            a.json,
            {
                "scan": result.scan.to_dict(),
                "ftest": [list(t) for t in result.ftest.tests],
                "limit_at_best": result.limit_at_best.to_dict() if result.limit_at_best else None,
            },
        )
    return 0


def _cmd_search(a) -> int:
    from anomalyscope.core.results import Run

    run = Run.open(a.run)
    run.redo_search(toys=a.toys, progress=not a.quiet)
    print_search(run)  # as stored: what `info` and the dashboard read
    return 0


def _cmd_null(a) -> int:
    from anomalyscope.core.workflows.null import report, run_null

    print(report(run_null(a.run, a.pool, a.pseudo, seed=a.seed, keep=a.keep, progress=not a.quiet)))
    return 0


def _cmd_injection_scan(a) -> int:
    from anomalyscope.core.workflows.injection import load_scan_config, report, run_injection_scan

    result = run_injection_scan(load_scan_config(a.config), base=a.config.parent, progress=not a.quiet)
    print(report(result))
    return 0


def _cmd_benchmark(a) -> int:
    from anomalyscope.core.workflows.benchmark import report

    result = run_benchmark_from_args(a)
    print(report(result))
    plot = _benchmark_plot(result, a.out)
    print(f"written: {a.out / 'benchmark.json'}, {plot}")
    return 0


def _cmd_methods(a) -> int:
    from anomalyscope.core.methods import REGISTRY
    from anomalyscope.core.params import describe, unknown_names

    if a.name is not None:
        unknown_names([a.name], REGISTRY, "methods", what="method")
    for name, cls in REGISTRY.items():
        if a.name not in (None, name):
            continue
        kind = "reference" if cls.reference else "search"
        needs = f", needs {' and '.join(cls.needs)}" if cls.needs else ""
        print(f"{name} ({kind}{', per m_jj window' if cls.windowed else ''}{needs})")
        rows = describe(cls.Params)
        width = max(len(r[0]) for r in rows)
        for field, what, default in rows:
            print(f"  {field:<{width}}  {default:<18} {what}")
    return 0


def print_search(run) -> None:
    """Per method: the largest local excess, where, and its global significance; then the look-elsewhere."""
    search = run.search()
    res = run.search_result()
    print(f"fit {search.fit_min:.0f}–{search.definition.fit_max:.0f} GeV ({search.fit_min_how})")
    best = res.best_excesses() if res is not None else {}
    for m in run.methods:
        b = best.get(m)
        if b is None or not b.found:
            print(f"  {m:12s} no fitted selection")
            continue
        where = f"{b.window}, ε = {b.eff:g}" if b.window else "no cut"
        print(f"  {m:12s} local Z = {b.z_local:5.2f} at {b.mass:.0f} GeV ({where}), {b.global_text}")
    if res is None:
        return
    g = res.global_significance
    if g is not None:
        print(f"largest excess: local {g.observed_max_z:.2f}σ, {g.text()}")
    print(f"trials: {res.trials.text()}")
    for line in filter(None, [res.untested_text(), *res.sideband_flags()]):
        print(f"  warning: {line}")


def run_benchmark_from_args(a) -> dict:
    """The benchmark with the options of `python -m anomalyscope benchmark` (also what bench/ runs)."""
    from anomalyscope.core.workflows.benchmark import run_benchmark

    return run_benchmark(
        a.out,
        luminosity=a.luminosity,
        signals=a.signals,
        methods=a.methods,
        draws=a.draws,
        toys=a.toys,
        efficiency=a.efficiency,
        seed=a.seed,
        scheduler=parse_scheduler(a.scheduler),
        workers=a.workers,
        pthat_min=a.pthat_min,
        progress=not a.quiet,
    )


def _benchmark_plot(result: dict, out: Path) -> Path:
    """The sensitivity plot of every signal's scan (median local Z against σ), as one HTML page."""
    import warnings

    import holoviews as hv

    from anomalyscope.core.data.atomic import temp_sibling
    from anomalyscope.core.results.attachments import ATTACHMENTS
    from anomalyscope.core.results.attachments import read as read_attachment
    from anomalyscope.dashboard.sensitivity import sensitivity_plot

    hv.extension("bokeh", logo=False)
    path = out / "sensitivity.html"
    with warnings.catch_warnings(), temp_sibling(path) as tmp:
        warnings.simplefilter("ignore", RuntimeWarning)  # points not reached (NaN) are left out of the plot
        plots = []
        for sig in result["signals"].values():
            scan = read_attachment(Path(sig["scan_dir"]) / ATTACHMENTS["injection_scan"].path, "injection_scan")
            plots.append(sensitivity_plot(scan).opts(title=sig["label"], responsive=False, width=700, height=420))
        hv.save(hv.Layout(plots).cols(1), tmp.with_suffix(".html"), backend="bokeh")
        tmp.with_suffix(".html").replace(tmp)
    return path
