"""Commands that make, read, write and describe EventSets (and describe Runs)."""

from __future__ import annotations

from pathlib import Path

from anomalyscope.core.cli.common import CHUNKS_KEPT, DEMO_KEPT, model_params
from anomalyscope.core.cli.search import print_search
from anomalyscope.core.data.jobs import SCHEDULER_HELP, parse_scheduler
from anomalyscope.core.errors import InputError


def add_commands(sub) -> None:
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
    g.set_defaults(func=_cmd_generate, interrupted=CHUNKS_KEPT)

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
    d.set_defaults(func=_cmd_demo, interrupted=DEMO_KEPT)

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
    rd.set_defaults(func=_cmd_read, interrupted=CHUNKS_KEPT)

    ex = sub.add_parser("export", help="write an EventSet as NanoAOD-like ROOT or in the LHCO HDF5 layout")
    ex.add_argument("eventset", type=Path)
    ex.add_argument("--format", choices=["root", "lhco"], required=True)
    ex.add_argument("--out", type=Path, required=True)
    ex.set_defaults(func=_cmd_export)

    i = sub.add_parser("info", help="describe an EventSet or a Run (its methods, search and attachments)")
    i.add_argument("path", type=Path)
    i.set_defaults(func=_cmd_info)

    s = sub.add_parser("processes", help="list the processes that can be generated")
    s.set_defaults(func=_cmd_processes)


def _cmd_generate(a) -> int:
    from anomalyscope.core.features import Selection
    from anomalyscope.core.generate import DetectorModel, generate

    sel = Selection(jet_r=a.jet_r, mjj_min=a.mjj_min)
    es = generate(
        a.process,
        a.events,
        a.seed,
        a.out,
        params=model_params(a.param),
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
        print_search(run)
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


def _cmd_processes(a) -> int:
    from anomalyscope.core.generate import MODELS

    for name, model in MODELS.items():
        params = ", ".join(f"{k}={v:g}" for k, v in model.defaults.items())
        print(f"{name:18s} {model.description}  [{params}]")
    return 0
