"""`python -m anomalyscope ...`: generate events, build the demo, inspect EventSets.

Bad input ends with a one-line ``error: ...`` on stderr and exit status 2, never a traceback; so does a command
whose optional stack (``[generate]``, ``[ml]``, ...) is not installed, naming the extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anomalyscope.core.data.jobs import SCHEDULER_HELP, ChunkFailures, parse_scheduler
from anomalyscope.core.errors import AnalysisError, InputError, MissingExtra
from anomalyscope.core.extras import require


def _params(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--param takes NAME=VALUE, got '{item}'")
        try:
            out[key] = float(value)
        except ValueError:
            raise InputError(f"--param {key}: '{value}' is not a number") from None
    return out


def _cmd_generate(a) -> int:
    from anomalyscope.core.features import Selection
    from anomalyscope.core.generate import DetectorModel, generate

    sel = Selection(jet_r=a.jet_r, mjj_min=a.mjj_min)
    es = generate(
        a.process,
        a.events,
        a.seed,
        a.out,
        params=_params(a.param),
        workers=a.workers,
        scheduler=parse_scheduler(a.scheduler),
        chunk_size=a.chunk_size,
        detector=None if a.no_detector else DetectorModel(),
        selection=sel,
        calibration_events=a.calibration_events,
        overwrite=a.overwrite,
        progress=not a.quiet,
        tune=a.pythia if a.pythia else a.tune,
    )
    print(es.describe())
    return 0


def _cmd_demo(a) -> int:
    from anomalyscope.core.workflows.demo import build_demo

    paths = build_demo(a.out, workers=a.workers, force=a.force, scale=a.scale, quick=a.quick)
    print(f"demo ready: {paths['data']}")
    if a.quick:
        print(f"open it with: ANOMALYSCOPE_RUN={paths['run']} panel serve app.py --show")
    if a.null_twin:
        from anomalyscope.core.results import Run
        from anomalyscope.core.workflows.demo import build_null_twin

        run = Run.open(build_null_twin(a.out, scale=a.scale))
        print(f"null twin (no signal injected): {run.path}")
        _print_search(run)
    return 0


def _cmd_read(a) -> int:
    import warnings

    from anomalyscope.core.data.ingest import ingest, read_summary
    from anomalyscope.core.features import Selection

    sel = Selection(jet_r=a.jet_r if a.jet_r else (1.0 if a.format == "lhco" else 0.8), mjj_min=a.mjj_min)
    if a.format == "lhco":
        from anomalyscope.core.data.lhco import LHCOFormat

        fmt = LHCOFormat(key=a.key, selection=sel)
    else:
        from anomalyscope.core.data.nanoaod import BranchMap, NanoAODFormat

        mapping = BranchMap.from_file(a.mapping) if a.mapping else BranchMap()
        fmt = NanoAODFormat(mapping=mapping, selection=sel, process=a.process, label=a.label)
    scheduler = parse_scheduler(a.scheduler)
    warnings.formatwarning = lambda msg, *args, **kw: f"warning: {msg}\n"
    inputs = a.inputs
    if a.fileset is not None:
        from anomalyscope.core.data.sources import fileset

        if inputs:
            raise InputError("read: give input files or --fileset, not both")
        inputs = [str(f) for f in fileset(a.fileset, a.dataset)[0]]
    elif a.dataset is not None:
        raise InputError("read: --dataset needs --fileset")
    es = ingest(
        inputs,
        fmt,
        a.out,
        chunk_size=a.chunk_size,
        scheduler=scheduler,
        workers=a.workers,
        skip_bad=a.skip_bad,
        overwrite=a.overwrite,
        progress=not a.quiet,
    )
    print(es.describe())
    print(read_summary(es))
    return 0


def _cmd_export_model(a) -> int:
    from anomalyscope.core.results import Run
    from anomalyscope.core.results.statmodel import statistical_model, write_model

    model = statistical_model(Run.open(a.run), a.method, a.efficiency, a.window, a.mass)
    out = write_model(model, a.out, overwrite=a.overwrite)
    cut = "no cut" if model.efficiency >= 1 else f"ε = {model.efficiency:g} in window {model.window}"
    print(f"wrote {out}: {model.method}, {cut}, signal at {model.mass:.0f} GeV, {len(model.observed)} bins")
    print(f"  Combine: cd {out} && combine -M AsymptoticLimits datacard.txt")
    print(f"  pyhf:    pyhf cls {out / 'workspace.json'}")
    return 0


def _cmd_export_lund(a) -> int:
    from anomalyscope.core.lund.correction import NAME, write_correction
    from anomalyscope.core.lund.ratio import LundRatio
    from anomalyscope.core.lund.report import LUND_DIR

    ratio_file = Path(a.run) / LUND_DIR / "ratio.json"
    if not ratio_file.exists():
        raise InputError(f"{a.run}: no Lund reweighting in this Run (make one with `anomalyscope lund`)")
    path = write_correction(LundRatio.load(ratio_file), a.out, description=f"Measured for the Run {Path(a.run).name}.")
    print(f"wrote {path}: correction '{NAME}' (correctionlib schema 2)")
    print("  evaluate(systematic, subjet_pt, ln_r_delta, ln_kt) per splitting; a jet's weight is the product")
    return 0


def _cmd_plot(a) -> int:
    from anomalyscope.core.plots import plot_run
    from anomalyscope.core.results import Run

    run = Run.open(a.run)
    out = a.out or run.path / "plots"
    written = plot_run(run, out, a.method)
    print(f"wrote {len(written)} files to {out}:")
    for stem in sorted({p.stem for p in written}):
        print(f"  {stem}.pdf, {stem}.png")
    return 0


def _cmd_export(a) -> int:
    from anomalyscope.core.data import EventSet

    es = EventSet.open(a.eventset)
    if a.format == "root":
        from anomalyscope.core.data.nanoaod import export_root

        path = export_root(es, a.out)
    else:
        from anomalyscope.core.data.lhco import export_lhco

        path = export_lhco(es, a.out)
    print(f"wrote {len(es)} events to {path} ({a.format})")
    return 0


def _cmd_info(a) -> int:
    from anomalyscope.core.data import EventSet
    from anomalyscope.core.results import Run

    if (Path(a.path) / "manifest.json").exists():
        print(Run.open(a.path).describe())
    else:
        print(EventSet.open(a.path).describe())
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


def _cmd_run(a) -> int:
    from anomalyscope.core.methods.runner import execute, load_config

    cfg = load_config(a.config)
    if a.out:
        cfg.out = str(a.out)
    run = execute(cfg, overwrite=a.overwrite, progress=not a.quiet)
    print(f"run written: {run.path}")
    ev = run.evaluation()
    if ev:
        print(f"performance in window {ev['region']['window']} {ev['region']['sr_gev']} GeV:")
        for name, p in ev["methods"].items():
            if "error" not in p:
                print(f"  {name:12s} AUC {p['auc']:.3f}  max SIC {p['max_sic']:.2f} (eps_B >= {p['eps_b_floor']:.1e})")
    for name, t in run.manifest["training_seconds"].items():
        print(f"  {name:12s} trained in {t:.1f} s")
    res = run.search_result() or {}
    g = res.get("global")
    if g:
        print(
            f"search: largest local excess Z = {g['observed_max_z']:.2f}, global Z = {g['z_global']:.2f} "
            f"({res['trials']['selections']} selections, {res['trials']['mass_hypotheses']} mass hypotheses, "
            f"{g['n_toys']} toys)"
        )
    for w in run.manifest.get("search", {}).get("warnings", []):
        print(f"  warning: {w}")
    return 0


def _cmd_search(a) -> int:
    from anomalyscope.core.results import Run

    run = Run.open(a.run)
    search = run.search()
    res = search.run(run.table(), toys=a.toys, progress=not a.quiet)
    run.write_search_result(res.to_dict())
    _print_search(run, res.to_dict())
    return 0


def _print_search(run, res: dict | None = None) -> None:
    """Per method: the largest local excess, where, and its global significance; then the look-elsewhere."""
    from anomalyscope.core.bumphunt.search import best_excesses

    search = run.search()
    res = res if res is not None else (run.search_result() or {})
    print(f"fit {search.fit_min:.0f}–{search.definition.fit_max:.0f} GeV ({search.fit_min_how})")
    best = best_excesses(res)
    for m in run.methods:
        b = best.get(m, {})
        if "mass" not in b:
            print(f"  {m:12s} no fitted selection")
            continue
        where = f"{b['window']}, ε = {b['eff']:g}" if b["window"] else "no cut"
        print(f"  {m:12s} local Z = {b['z_local']:5.2f} at {b['mass']:.0f} GeV ({where}), global {b['z_global']:.2f}")
    g = res.get("global")
    if g:
        print(f"largest excess: local {g['observed_max_z']:.2f}σ, global {g['z_global']:.2f}σ ({g['note']})")
    if res.get("trials"):
        print(f"trials: {res['trials']['selections']} selections, {res['trials']['mass_hypotheses']} mass hypotheses")


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


def _cmd_benchmark(a) -> int:
    from anomalyscope.core.workflows.benchmark import report

    result = run_benchmark_from_args(a)
    print(report(result))
    plot = _benchmark_plot(result, a.out)
    print(f"written: {a.out / 'benchmark.json'}, {plot}")
    return 0


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


def _cmd_injection_scan(a) -> int:
    from anomalyscope.core.workflows.injection import load_scan_config, report, run_injection_scan

    result = run_injection_scan(load_scan_config(a.config), base=a.config.parent, progress=not a.quiet)
    print(report(result))
    return 0


def _cmd_lund(a) -> int:
    from anomalyscope.core.data import EventSet
    from anomalyscope.core.lund.control import ControlSelection
    from anomalyscope.core.lund.report import add_to_run

    control = ControlSelection(n_prongs=a.n_prongs, msd_min=a.msd_min, msd_max=a.msd_max)
    out = add_to_run(
        a.run,
        EventSet.open(a.data),
        EventSet.open(a.sim),
        EventSet.open(a.sim_alt) if a.sim_alt else None,
        control=control,
        signal_prongs=a.signal_prongs,
        n_toys=a.toys,
    )

    closure = json.loads((out / "closure.json").read_text())
    print(f"Lund-plane reweighting written to {out}")
    print("closure on independent halves (chi2/ndf before -> after):")
    for key, o in closure["observables"].items():
        (c0, n0), (c1, n1) = o["chi2_ndf_before"], o["chi2_ndf_after"]
        print(f"  {o['label']:12s} {c0:7.1f}/{n0} -> {c1:7.1f}/{n1}")
    for name, c in closure["cuts"].items():
        print(
            f"  {name:20s} data {c['data']:.3f}  sim {c['uncorrected']:.3f}  corrected {c['corrected']:.3f} "
            f"± {c['total']:.3f}  (non-closure {c['non_closure_in_sigma']:+.1f} sigma)"
        )
    return 0


def _cmd_l1(a) -> int:
    from anomalyscope.core.trigger.samples import L1Sample, generate_l1

    out = generate_l1(
        a.process,
        a.events,
        a.seed,
        a.out,
        params=_params(a.param),
        pileup=a.pileup,
        workers=a.workers,
        scheduler=parse_scheduler(a.scheduler),
        overwrite=a.overwrite,
        progress=not a.quiet,
    )
    s = L1Sample.open(out)
    print(f"L1 sample {out}: {len(s.inputs)} events of {s.name}, pile-up {s.meta['pileup']:g}")
    return 0


def _cmd_trigger(a) -> int:
    from anomalyscope.core.trigger.rates import efficiency_text
    from anomalyscope.core.trigger.report import TRIGGER_DIR, build_trigger_report, load_report
    from anomalyscope.core.trigger.samples import L1Sample

    if (a.run is None) == (a.out is None):
        raise InputError("give either --run RUN (writes RUN/trigger) or --out DIR")
    out = a.run / TRIGGER_DIR if a.run is not None else a.out
    if a.run is not None:
        from anomalyscope.core.results import Run

        Run.open(a.run)  # a clear error if it is not a Run
    build_trigger_report(
        out,
        L1Sample.open(a.background),
        [L1Sample.open(s) for s in a.signal],
        epochs=a.epochs,
        rate_hz=a.rate_hz,
        use_yosys=not a.no_yosys,
        progress=not a.quiet,
    )
    r = load_report(out)
    print(f"trigger report written to {out}")
    for name, m in r["models"].items():
        res, ph = m["resources"], m["physics"]
        bits = m["bit_accuracy"]["hls4ml_csim_vs_quantised"]
        print(
            f"  {name:8s} {res['lut']} LUT, {res['ff']} FF, {res['latency_cycles']} cycles ({res['latency_ns']:.0f} ns "
            f"at {res['clock_mhz']:g} MHz) [da4ml estimate]; hls4ml C-sim mismatches {bits['mismatches']}/{bits['n']}"
        )
        thr = ph["threshold"]
        unc = f" ± {thr['threshold_uncertainty']:.3g}" if "threshold_uncertainty" in thr else ""
        print(f"           threshold {thr['threshold']:.4g}{unc} for {thr['target_rate_hz']:.0f} Hz ({thr['method']})")
        for s, v in ph["signals"].items():
            e = v["at_target_rate"]
            shift = e.get("uncertainty_from_threshold")
            syst = f" {shift[0]:+.3f}/{shift[1]:+.3f} (threshold)" if shift else ""
            print(f"           {s:14s} efficiency {efficiency_text(e)} (stat, 68% CL){syst}")
    return 0


def _cmd_trigger_import(a) -> int:
    from anomalyscope.core.trigger.report import import_vendor_report

    entry = import_vendor_report(a.report, a.model, a.hls_dir)
    c = entry["csynth"]
    print(
        f"added to {a.report}: {a.model} LUT {c.get('LUT')} FF {c.get('FF')} DSP {c.get('DSP')} "
        f"latency {c.get('BestLatency')}-{c.get('WorstLatency')} cycles ({entry['source']})"
    )
    return 0


def _cmd_trigger_pileup(a) -> int:
    from anomalyscope.core.trigger.pileup import load_pileup, pileup_study
    from anomalyscope.core.trigger.rates import efficiency_text

    path = pileup_study(
        a.report,
        pileups=a.pileup,
        n_events=a.events,
        n_signal=a.signal_events,
        pool_size=a.pool,
        workers=a.workers,
        progress=not a.quiet,
    )
    study = load_pileup(path.parent)
    print(f"pile-up study written to {path}")
    for name, m in study["models"].items():
        print(f"  {name}: threshold {m['nominal_threshold']:.4g} (from the report)")
        for k, mu in enumerate(study["pileup"]):
            effs = ", ".join(
                f"{s} {efficiency_text(v['efficiency_at_target_rate'][k])}" for s, v in m["signals"].items()
            )
            print(
                f"    <mu> {mu:4.0f}: rate {m['rate_at_nominal_hz'][k]:10.0f} ± "
                f"{m['rate_at_nominal_uncertainty_hz'][k]:.0f} Hz; at {study['target_rate_hz']:.0f} Hz: {effs}"
            )
    return 0


def _cmd_processes(a) -> int:
    from anomalyscope.core.generate import MODELS

    for name, model in MODELS.items():
        params = ", ".join(f"{k}={v:g}" for k, v in model.defaults.items())
        print(f"{name:18s} {model.description}  [{params}]")
    return 0


def _cmd_serve(a) -> int:
    import os

    if a.run is not None:
        run = a.run.expanduser().resolve()
        if not (run / "manifest.json").is_file():
            raise InputError(f"--run {a.run}: not a Run directory (no manifest.json)")
        os.environ["ANOMALYSCOPE_RUN"] = str(run)
    if not 0 < a.port < 65536:
        raise InputError(f"--port must lie in 1–65535, got {a.port}")
    require("panel", "The dashboard")
    from anomalyscope.dashboard.app import serve

    serve(port=a.port, address=a.address, show=a.show, websocket_origin=a.allow_websocket_origin)
    return 0


def parser() -> argparse.ArgumentParser:
    prog = "anomalyscope" if Path(sys.argv[0]).name == "anomalyscope" else "python -m anomalyscope"
    p = argparse.ArgumentParser(
        prog=prog, description="anomalyscope: model-agnostic dijet anomaly searches and their dashboard"
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="log what is done (-vv: and the details)")
    p.add_argument("-q", "--quiet-log", action="store_true", help="log errors only (no warnings)")
    p.add_argument("--log-file", type=Path, default=None, help="also write the full log (with times) to this file")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="generate events with Pythia 8 + FastJet into an EventSet")
    g.add_argument("--process", required=True, help="see `python -m anomalyscope processes`")
    g.add_argument("--events", type=int, required=True, help="number of events to generate (before selection)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--param", action="append", metavar="NAME=VALUE", help="model parameter, e.g. mA=3000")
    g.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: all cores)")
    g.add_argument("--scheduler", default="local", help=SCHEDULER_HELP)
    g.add_argument("--chunk-size", type=int, default=500)
    g.add_argument(
        "--calibration-events",
        type=int,
        default=None,
        help="QCD only: events below the pTHat threshold used to measure the m_jj edge",
    )
    g.add_argument("--jet-r", type=float, default=0.8)
    g.add_argument("--mjj-min", type=float, default=1450.0)
    g.add_argument("--no-detector", action="store_true", help="switch the detector model off")
    g.add_argument(
        "--tune", default=None, help="shower/hadronisation settings: monash (default), pseudodata, alt_shower"
    )
    g.add_argument(
        "--pythia", action="append", metavar="'KEY = VALUE'", help="a Pythia shower/hadronisation setting (repeatable)"
    )
    g.add_argument("--overwrite", action="store_true")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(func=_cmd_generate)

    d = sub.add_parser("demo", help="build (or reuse) the demo dataset the dashboard opens")
    d.add_argument("--out", type=Path, default=None, help="default: $ANOMALYSCOPE_DEMO or ~/.cache/anomalyscope/demo")
    d.add_argument("--workers", type=int, default=None)
    d.add_argument("--scale", type=float, default=1.0, help="multiply event counts (0.05 for a quick look)")
    d.add_argument("--force", action="store_true", help="rebuild even if a complete demo exists")
    d.add_argument("--quick", action="store_true", help="a first look in minutes: 1/10 of the events, fast methods")
    d.add_argument(
        "--null-twin",
        action="store_true",
        help="also build the background-only twin (same Run, no signal) and search it",
    )
    d.set_defaults(func=_cmd_demo)

    rd = sub.add_parser("read", help="read LHC Olympics HDF5 or NanoAOD-like ROOT files into an EventSet")
    rd.add_argument("format", choices=["lhco", "nanoaod"])
    rd.add_argument(
        "inputs", nargs="*", help="files, glob patterns (quote them) or URLs (root://, https://, s3://; file.root:Tree)"
    )
    rd.add_argument("--fileset", type=Path, default=None, help="a coffea-style fileset JSON instead of inputs")
    rd.add_argument("--dataset", default=None, help="with --fileset: the dataset to read (default: its only one)")
    rd.add_argument("--out", type=Path, required=True)
    rd.add_argument("--jet-r", type=float, default=None, help="jet radius (default 1.0 for lhco, 0.8 for nanoaod)")
    rd.add_argument("--mjj-min", type=float, default=1450.0)
    rd.add_argument("--key", default=None, help="lhco: HDF5 key (default: the file's only key)")
    rd.add_argument("--mapping", type=Path, help="nanoaod: YAML/JSON branch mapping (tree, branches)")
    rd.add_argument("--process", default="unknown", help="nanoaod: process name for files without truth")
    rd.add_argument("--label", type=int, default=-1, choices=[-1, 0, 1], help="nanoaod: truth label for such files")
    rd.add_argument("--chunk-size", type=int, default=None, help="entries per chunk (lhco 20000, nanoaod 100000)")
    rd.add_argument("--scheduler", default="local", help=SCHEDULER_HELP)
    rd.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    rd.add_argument("--skip-bad", action="store_true", help="write the EventSet without chunks that failed")
    rd.add_argument("--overwrite", action="store_true")
    rd.add_argument("--quiet", action="store_true")
    rd.set_defaults(func=_cmd_read)

    ex = sub.add_parser("export", help="write an EventSet as NanoAOD-like ROOT or in the LHCO HDF5 layout")
    ex.add_argument("eventset", type=Path)
    ex.add_argument("--format", choices=["root", "lhco"], required=True)
    ex.add_argument("--out", type=Path, required=True)
    ex.set_defaults(func=_cmd_export)

    em = sub.add_parser(
        "export-model",
        help="write one selection's bump-hunt model for Combine (ROOT shapes + datacard) and pyhf (JSON workspace)",
    )
    em.add_argument("run", type=Path)
    em.add_argument("--method", required=True)
    em.add_argument("--efficiency", type=float, default=None, help="the cut (default: where the method's excess is)")
    em.add_argument("--window", default=None, help="the search window (default: where the method's excess is)")
    em.add_argument("--mass", type=float, default=None, help="signal mass [GeV] (default: the excess's)")
    em.add_argument("--out", type=Path, required=True, help="a new directory for the files")
    em.add_argument("--overwrite", action="store_true")
    em.set_defaults(func=_cmd_export_model)

    el = sub.add_parser("export-lund", help="write a Run's Lund-plane ratio as a correctionlib JSON (CMS corrections)")
    el.add_argument("run", type=Path)
    el.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    el.set_defaults(func=_cmd_export_lund)

    pl = sub.add_parser("plot", help='publication plots of a Run as PDF and PNG (pip install "anomalyscope[plots]")')
    pl.add_argument("run", type=Path)
    pl.add_argument("--out", type=Path, default=None, help="where to write them (default: RUN/plots)")
    pl.add_argument("--method", action="append", default=None, help="spectra of these methods only (default: all)")
    pl.set_defaults(func=_cmd_plot)

    i = sub.add_parser("info", help="describe an EventSet or a Run (its methods, search and attachments)")
    i.add_argument("path", type=Path)
    i.set_defaults(func=_cmd_info)

    b = sub.add_parser("bumphunt", help="fit the m_jj spectrum of an EventSet and scan for local excesses")
    b.add_argument("eventset", type=Path)
    b.add_argument("--signal", type=Path, action="append", help="signal EventSet(s) for the signal shape")
    b.add_argument("--binning", default="cms", help="'cms' (resolution-following) or a bin width in GeV")
    b.add_argument("--fit-min", type=float, default=None, help="fit start [GeV] (default: found from the data)")
    b.add_argument("--json", type=Path, help="write the scan, F-test and limit as JSON")
    b.set_defaults(func=_cmd_bumphunt)

    r = sub.add_parser("run", help="train anomaly methods on an EventSet and write a Run")
    r.add_argument("--config", type=Path, required=True, help="run.yaml (see README)")
    r.add_argument("--out", type=Path, help="override the config's 'out'")
    r.add_argument("--overwrite", action="store_true")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(func=_cmd_run)

    l1 = sub.add_parser("l1", help="generate an L1-trigger sample (57 object inputs, 14x18 calorimeter regions)")
    l1.add_argument("--process", required=True, help="minbias for zero-bias background, or a signal process")
    l1.add_argument("--events", type=int, required=True)
    l1.add_argument("--seed", type=int, default=1)
    l1.add_argument("--out", type=Path, required=True)
    l1.add_argument("--param", action="append", metavar="NAME=VALUE")
    l1.add_argument("--pileup", type=float, default=0.0, help="mean number of overlaid minimum-bias interactions")
    l1.add_argument("--workers", type=int, default=None)
    l1.add_argument("--scheduler", default="local", help=SCHEDULER_HELP)
    l1.add_argument("--overwrite", action="store_true")
    l1.add_argument("--quiet", action="store_true")
    l1.set_defaults(func=_cmd_l1)

    tr = sub.add_parser("trigger", help="train L1 anomaly triggers, take them to firmware, write the report")
    tr.add_argument("--background", type=Path, required=True, help="zero-bias L1 sample (python -m anomalyscope l1)")
    tr.add_argument("--signal", type=Path, action="append", default=[], help="signal L1 sample (repeatable)")
    tr.add_argument("--run", type=Path, help="add the report to this Run (RUN/trigger)")
    tr.add_argument("--out", type=Path, help="or write it here")
    tr.add_argument("--epochs", type=int, default=20)
    tr.add_argument("--rate-hz", type=float, default=1000.0, help="target rate at 40 MHz bunch crossings")
    tr.add_argument("--no-yosys", action="store_true", help="skip the yosys synthesis check")
    tr.add_argument("--quiet", action="store_true")
    tr.set_defaults(func=_cmd_trigger)

    ti = sub.add_parser("trigger-import", help="add a real Vivado/Vitis HLS report to a trigger report")
    ti.add_argument("--report", type=Path, required=True, help="the trigger report directory (e.g. RUN/trigger)")
    ti.add_argument("--model", required=True, choices=["axol1tl", "cicada"])
    ti.add_argument("--hls-dir", type=Path, required=True, help="the hls4ml project after a vendor build")
    ti.set_defaults(func=_cmd_trigger_import)

    tp = sub.add_parser("trigger-pileup", help="rate and efficiency of a trigger report's models against pile-up")
    tp.add_argument("--report", type=Path, required=True, help="the trigger report directory (e.g. RUN/trigger)")
    tp.add_argument("--pileup", type=float, nargs="+", default=[0.0, 20.0, 40.0, 60.0], help="<mu> values")
    tp.add_argument("--events", type=int, default=4000, help="zero-bias crossings per <mu>")
    tp.add_argument("--signal-events", type=int, default=1000, help="events per signal process")
    tp.add_argument("--pool", type=int, default=20_000, help="minimum-bias interactions in the pile-up pool")
    tp.add_argument("--workers", type=int)
    tp.add_argument("--quiet", action="store_true")
    tp.set_defaults(func=_cmd_trigger_pileup)

    lp = sub.add_parser("lund", help="Lund-plane reweighting: measure the ratio in a control sample, add it to a Run")
    lp.add_argument("--run", type=Path, required=True, help="the Run whose signal events are reweighted")
    lp.add_argument("--data", type=Path, required=True, help="control sample: data (or pseudo-data) EventSet")
    lp.add_argument("--sim", type=Path, required=True, help="control sample: simulation EventSet")
    lp.add_argument("--sim-alt", type=Path, help="control sample: alternative simulation (modelling systematic)")
    lp.add_argument("--n-prongs", type=int, default=2, help="prongs of the control jets (2: W-like, 3: top-like)")
    lp.add_argument("--msd-min", type=float, default=None, help="control jets: soft-drop mass window [GeV]")
    lp.add_argument("--msd-max", type=float, default=None)
    lp.add_argument(
        "--signal-prongs", type=int, default=None, help="prongs of signal jets (default: generator quarks in the jet)"
    )
    lp.add_argument("--toys", type=int, default=100, help="statistical toys")
    lp.set_defaults(func=_cmd_lund)

    se = sub.add_parser("search", help="rerun a Run's search (fits, scans, look-elsewhere toys) and print it")
    se.add_argument("run", type=Path)
    se.add_argument("--toys", type=int, default=None, help="background-only pseudo-experiments (default: the Run's)")
    se.add_argument("--quiet", action="store_true")
    se.set_defaults(func=_cmd_search)

    j = sub.add_parser("injection-scan", help="discovery sensitivity: re-train and bump-hunt per injected amount")
    j.add_argument("--config", type=Path, required=True)
    j.add_argument("--quiet", action="store_true")
    j.set_defaults(func=_cmd_injection_scan)

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
    bm.set_defaults(func=_cmd_benchmark)

    sv = sub.add_parser(
        "serve", help="serve the dashboard (from an installed package; a checkout may `panel serve app.py`)"
    )
    sv.add_argument(
        "--run", type=Path, default=None, help="the Run to open (default: ANOMALYSCOPE_RUN, else the demo's)"
    )
    sv.add_argument("--port", type=int, default=5006)
    sv.add_argument("--address", default=None, help="the address to listen on (default: localhost)")
    sv.add_argument("--allow-websocket-origin", nargs="*", default=None, help="hosts allowed to connect (host:port)")
    sv.add_argument("--show", action="store_true", help="open a browser")
    sv.set_defaults(func=_cmd_serve)

    me = sub.add_parser("methods", help="list the anomaly-detection methods and the parameters each takes")
    me.add_argument("name", nargs="?", default=None, help="one method (default: all)")
    me.set_defaults(func=_cmd_methods)

    s = sub.add_parser("processes", help="list the processes that can be generated")
    s.set_defaults(func=_cmd_processes)
    return p


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


# what an interrupted command leaves: commands built on the chunk-job engine resume; the others write their
# outputs whole (staging directory, then rename) or not at all
CHUNKS_KEPT = "finished chunks are kept; re-run the same command to resume"
INTERRUPTED = {
    "generate": CHUNKS_KEPT,
    "read": CHUNKS_KEPT,
    "l1": CHUNKS_KEPT,
    "demo": "finished generation chunks are kept; re-run the same command to resume (training starts over)",
    "benchmark": "finished samples and chunks are kept; re-run the same command to resume (training starts over)",
    "injection-scan": "finished injection points are kept; re-run the same command to resume from the next one",
}
NOTHING_WRITTEN = "nothing was written (outputs are written whole or not at all); re-running starts over"


def configure_logging(verbose: int = 0, quiet: bool = False, log_file: Path | None = None) -> None:
    """The ``anomalyscope`` loggers to stderr (warnings; -v info, -vv debug; -q errors only) and, with a log
    file, everything to it with times."""
    import logging

    log = logging.getLogger("anomalyscope")
    for h in list(log.handlers):
        log.removeHandler(h)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)])
    console.setFormatter(logging.Formatter("%(levelname).1s %(name)s: %(message)s"))
    log.addHandler(console)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file)
        except OSError as exc:
            raise InputError(f"--log-file {log_file}: cannot write it ({exc.strerror})") from None
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(fh)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        configure_logging(args.verbose, args.quiet_log, args.log_file)
        return args.func(args)
    except (InputError, MissingExtra) as exc:  # MissingExtra: a command whose optional stack is not installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AnalysisError as exc:  # valid input on which the analysis gives no result (a fit that fails)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ChunkFailures as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: {INTERRUPTED.get(args.command, NOTHING_WRITTEN)}", file=sys.stderr)
        return 130
    finally:  # a command's log handlers end with it (main is also called in-process: tests, notebooks)
        import logging

        log = logging.getLogger("anomalyscope")
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
        log.propagate = True
