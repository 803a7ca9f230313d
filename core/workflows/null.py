"""The retrained null: background-only pseudo-datasets put through a Run's whole chain, to calibrate its global
significance.

    python -m anomalyscope null RUN --pool QCD_EVENTSET --pseudo 50

Each pseudo-dataset holds as many events as the Run's data, drawn without replacement from ``pool`` (a
background-only EventSet of the same kind: simulation generated like the data, or a signal-free control
sample). Every pseudo-dataset gets a Run with the Run's own configuration — every method retrained on it, the
same search (the fit start and windows resolved the same way: the pseudo-datasets carry the data's recorded
fully-efficient edge) — and its largest local Z and toy-only global p are kept. The Run's observed largest
local Z is then calibrated against the distribution of those (``NullCalibration``).

What the pseudo-datasets share: events. A simple random sample without replacement of a pool of independent
events is itself a set of independent events from the same distribution, so each pseudo-dataset's largest Z
has exactly the null distribution; two of them share a fraction n/N of their events on average, which
correlates them and widens the uncertainty of the estimated distribution (a pool 10× the data: 10% shared),
but does not shift it. Bootstrap resampling (with replacement) is not used: a duplicated event lands in a
training and a test fold at once and would leak into its own out-of-fold score.

Resumable: each finished pseudo-dataset is recorded in ``RUN/null/points.json`` at once; a re-run continues.
Each pseudo-dataset's data and Run are removed once recorded (``keep`` keeps them).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import awkward as ak
import numpy as np
from tqdm.auto import tqdm

from anomalyscope.core.data import EventSet
from anomalyscope.core.data.atomic import read_progress, write_json_atomic
from anomalyscope.core.data.eventset import write_eventset
from anomalyscope.core.errors import FieldError, InputError
from anomalyscope.core.results.attachments import ATTACHMENTS
from anomalyscope.core.results.attachments import write as write_attachment
from anomalyscope.core.results.records.null import NullCalibration

WORK_DIR = "null"
SHARED = (
    "events: each pseudo-dataset is a simple random sample without replacement of the pool (independent "
    "background events), so its largest Z has the null distribution; pseudo-datasets overlap by n/N of "
    "their events on average, which widens the uncertainty, not the centre; no bootstrap (a duplicated event "
    "would sit in a training and a test fold at once)"
)


def check_generated_alike(pool: EventSet, data: EventSet) -> None:
    """Refuse a generated pool whose background was generated otherwise than the data's (another pTHat, another
    mHat ...): its pseudo-datasets would not have the data's null distribution (another spectrum, another turn-on).
    Samples that record no generator parameters (real data, a control sample) are the user's to vouch for."""
    theirs = data.info.processes or {}
    for name, proc in (pool.info.processes or {}).items():
        if name not in theirs or proc.params is None or theirs[name].params is None:
            continue
        for key, value in proc.params.items():
            want = theirs[name].params.get(key)
            if want is not None and want != value:
                raise FieldError(
                    f"{pool.path}: the pool's {name} was generated with {key} = {value}, the Run's data with {want}; "
                    "pseudo-datasets must be drawn from the data's background (generate the pool with the same "
                    "parameters and another seed)",
                    path=str(pool.path),
                    field=f"processes.{name}.params.{key}",
                    value=value,
                )


def _pseudo_dataset(pool: EventSet, n: int, like: EventSet, out: Path, seed: int) -> EventSet:
    """``n`` events of ``pool`` without replacement, stored with ``like``'s fully-efficient edge so that the
    search resolves its fit start the way it did for ``like`` (the data)."""
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(pool), size=n, replace=False))
    arr = pool.load(truth=True)[pick]
    arr = ak.with_field(arr, np.arange(n, dtype=np.int64), "event_id")
    drop = ("n_events", "files", "counts", "labels", "created", "checksums", "turn_on", "mjj_fit_min")
    meta = {k: v for k, v in pool.schema.items() if k not in drop}
    meta["name"] = out.name
    meta["mjj_fit_min"] = like.mjj_fit_min
    if like.schema.get("turn_on") is not None:
        meta["turn_on"] = like.schema["turn_on"]
    meta["derived_from"] = {"path": str(pool.path), "selection": f"{n} events without replacement, seed {seed}"}
    return write_eventset(out, [arr], meta, overwrite=True)


def run_null(
    run_dir: Path, pool_path: Path, n_pseudo: int, seed: int = 1000, keep: bool = False, progress: bool = True
) -> NullCalibration:
    """Put ``n_pseudo`` background-only pseudo-datasets through the Run's chain; write and return its calibration."""
    from anomalyscope.core.methods.runner import RunConfig, execute
    from anomalyscope.core.results import Run

    run = Run.open(run_dir)
    res = run.search_result()
    if res is None or res.global_significance is None:
        raise InputError(f"{run.path}: the Run has no search result with a global significance to calibrate")
    data = EventSet.open(run.input_path("eventset"))
    pool = EventSet.open(pool_path)
    if n_pseudo < 2:
        raise InputError(f"null: at least 2 pseudo-datasets are needed, got {n_pseudo}")
    if len(pool) < len(data):
        raise InputError(f"{pool.path}: the pool holds {len(pool)} events, fewer than the Run's data ({len(data)})")
    if "label" in pool.fields and np.any(pool.truth() == 1):
        raise InputError(f"{pool.path}: the pool holds signal events (label 1); it must be background only")
    check_generated_alike(pool, data)
    work = run.path / WORK_DIR
    work.mkdir(exist_ok=True)
    done = read_progress(work / "points.json")
    base = dict(run.config)
    base.pop("out", None)
    RunConfig.from_dict({**base, "eventset": str(data.path), "out": str(work / "check")}, f"{run.path}: config.yaml")
    for k in tqdm(range(n_pseudo), desc="retrained null", disable=not progress):
        if str(k) in done:
            continue
        t0 = time.time()
        es = _pseudo_dataset(pool, len(data), data, work / f"data-{k}", seed + k)
        cfg = RunConfig.from_dict(
            {**base, "eventset": str(es.path), "out": str(work / f"run-{k}"), "seed": int(base.get("seed", 1)) + 1 + k},
            "null run",
        )
        r = execute(cfg, overwrite=True, progress=False)
        rr = r.search_result()
        g = rr.global_significance
        done[str(k)] = {
            "max_z": g.observed_max_z if g is not None else float("nan"),
            "p_toys": g.p_global if g is not None else float("nan"),
            "methods": {m: e.z_local for m, e in rr.best_excesses().items() if e.found},
            "fit_min": r.search().fit_min,
            "windows": [w.name for w in r.search().windows],
            "seconds": time.time() - t0,
        }
        write_json_atomic(work / "points.json", done)
        if not keep:
            shutil.rmtree(work / f"data-{k}", ignore_errors=True)
            shutil.rmtree(work / f"run-{k}", ignore_errors=True)
    return summarise(run, pool, len(data), [done[str(k)] for k in range(n_pseudo)])


def summarise(run, pool: EventSet, n_events: int, points: list[dict]) -> NullCalibration:
    g = run.search_result().global_significance
    methods = sorted({m for p in points for m in p["methods"]})
    content = NullCalibration(
        pool=str(pool.path),
        pool_events=len(pool),
        n_events=n_events,
        shared=SHARED,
        max_z=[float(p["max_z"]) for p in points],
        p_toys=[float(p["p_toys"]) for p in points],
        method_max_z={m: [float(p["methods"].get(m, np.nan)) for p in points] for m in methods},
        observed_max_z=float(g.observed_max_z),
        observed_p_toys=float(g.p_global),
        seconds=float(sum(p.get("seconds", 0.0) for p in points)),
    )
    return write_attachment(run.path / ATTACHMENTS["null_calibration"].path, "null_calibration", content)


def report(cal: NullCalibration) -> str:
    mis = cal.toy_miscalibration()
    return "\n".join(
        [
            (
                f"retrained null: {cal.n_pseudo} background-only pseudo-datasets of {cal.n_events} events from "
                f"{cal.pool} ({cal.pool_events} events), every method retrained ({cal.seconds / 60:.1f} min)"
            ),
            (
                f"  largest local Z on the null: median {np.nanmedian(cal.max_z):.2f}, "
                f"90% below {np.nanquantile(cal.max_z, 0.9):.2f}, max {np.nanmax(cal.max_z):.2f}"
            ),
            (
                f"  the Run's largest local Z {cal.observed_max_z:.2f}: toy-only global p = "
                f"{cal.observed_p_toys:.3g}; {cal.text()}"
            ),
            (
                "  the toy-only global p on the null (uniform if the toys were calibrated): KS p = "
                f"{mis.get('ks_pvalue_uniform', float('nan')):.3g}, below 5%: "
                f"{mis.get('fraction_below_0.05', 0):.0%}, below 1%: {mis.get('fraction_below_0.01', 0):.0%}"
            ),
        ]
    )
