"""L1 trigger commands: samples, models and firmware report, vendor reports, pile-up."""

from __future__ import annotations

from pathlib import Path

from anomalyscope.core.cli.common import CHUNKS_KEPT, model_params
from anomalyscope.core.data.jobs import SCHEDULER_HELP, parse_scheduler
from anomalyscope.core.errors import InputError


def add_commands(sub) -> None:
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
    l1.set_defaults(func=_cmd_l1, interrupted=CHUNKS_KEPT)

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


def _cmd_l1(a) -> int:
    from anomalyscope.core.trigger.samples import L1Sample, generate_l1

    out = generate_l1(
        a.process,
        a.events,
        a.seed,
        a.out,
        params=model_params(a.param),
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
    for name, m in r.models.items():
        res, thr = m.resources, m.physics.threshold
        bits = m.bit_accuracy["hls4ml_csim_vs_quantised"]
        print(
            f"  {name:8s} {res.lut} LUT, {res.ff} FF, {res.latency_cycles} cycles ({res.latency_ns:.0f} ns "
            f"at {res.clock_mhz:g} MHz) [da4ml estimate]; hls4ml C-sim mismatches {bits.mismatches}/{bits.n}"
        )
        unc = f" ± {thr.threshold_uncertainty:.3g}" if thr.threshold_uncertainty is not None else ""
        print(f"           threshold {thr.threshold:.4g}{unc} for {thr.target_rate_hz:.0f} Hz ({thr.method})")
        for s, v in m.physics.signals.items():
            e = v.at_target_rate
            shift = e.uncertainty_from_threshold
            syst = f" {shift[0]:+.3f}/{shift[1]:+.3f} (threshold)" if shift else ""
            print(f"           {s:14s} efficiency {e.text()} (stat, 68% CL){syst}")
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
    for name, m in study.models.items():
        print(f"  {name}: threshold {m.nominal_threshold:.4g} (from the report)")
        for k, mu in enumerate(study.pileup):
            effs = ", ".join(f"{s} {v.efficiency_at_target_rate[k].text()}" for s, v in m.signals.items())
            print(
                f"    <mu> {mu:4.0f}: rate {m.rate_at_nominal_hz[k]:10.0f} ± "
                f"{m.rate_at_nominal_uncertainty_hz[k]:.0f} Hz; at {study.target_rate_hz:.0f} Hz: {effs}"
            )
    return 0
