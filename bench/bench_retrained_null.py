"""The retrained null of a Run: background-only pseudo-datasets through its whole chain (every method retrained,
selected, fitted, scanned), against the look-elsewhere toys that never retrain.

    python bench/bench_retrained_null.py [--run RUN] [--pool QCD] [--pseudo 50]

Defaults: a copy of the quick demo's Run (``demo --quick``, built if missing) and a QCD pool generated like the
demo's QCD with another seed (60k events, made once in bench/results/null-pool). Resumable: re-run the same
command (finished pseudo-datasets are kept in RUN/null/points.json). Prints a table and writes
bench/results/retrained_null.json:

- the distribution of the largest local Z over everything searched, on the null;
- the toy-only global p of each pseudo-dataset (uniform if the toys were calibrated): KS p-value, fractions
  below 5% and 1%;
- the calibrated global p: a split-half check (calibrate on the first half of the pseudo-datasets, evaluate
  the second half: uniform, KS p > 0.01, if the calibration holds) and the leave-one-out p of every one;
- the Run's observed largest local Z with its toy-only and its calibrated global p.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from scipy import stats

RESULTS = Path(__file__).parent / "results"
POOL_EVENTS = 60_000
POOL_SEED = 777


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=None, help="default: a copy of the quick demo's Run")
    ap.add_argument("--pool", type=Path, default=None, help="background-only EventSet (default: generated once)")
    ap.add_argument("--pseudo", type=int, default=50)
    ap.add_argument("--work", type=Path, default=RESULTS / "null-work")
    ap.add_argument("--out", type=Path, default=RESULTS / "retrained_null.json")
    a = ap.parse_args()
    from anomalyscope.core.generate.runner import generate_or_reuse
    from anomalyscope.core.workflows.demo import QCD_PARAMS, build_demo
    from anomalyscope.core.workflows.null import report, run_null

    run = a.run
    if run is None:
        src = build_demo(quick=True)["run"]
        run = a.work / "run"
        if not run.exists():
            a.work.mkdir(parents=True, exist_ok=True)
            shutil.copytree(src, run)
    pool = a.pool or generate_or_reuse("qcd", POOL_EVENTS, POOL_SEED, RESULTS / "null-pool", QCD_PARAMS)
    pool = Path(getattr(pool, "path", pool))
    t0 = time.time()
    cal = run_null(run, pool, a.pseudo)
    print(report(cal))
    z = np.asarray(cal.max_z, dtype=float)
    half = len(z) // 2
    calib, test = np.sort(z[:half]), z[half:]
    split_p = [(1 + np.sum(calib >= x)) / (len(calib) + 1) for x in test]  # conservative rank p
    loo = [float(np.mean(np.delete(z, i) >= z[i])) for i in range(len(z))]
    mis = cal.toy_miscalibration()
    p_cal, p_hi, bound = cal.p_calibrated(cal.observed_max_z)
    result = {
        "run": str(run),
        "pool": str(pool),
        "n_pseudo": cal.n_pseudo,
        "n_events": cal.n_events,
        "shared": cal.shared,
        "max_z_null": {
            "median": float(np.median(z)),
            "q90": float(np.quantile(z, 0.9)),
            "max": float(np.max(z)),
            "values": z.tolist(),
        },
        "method_max_z_null_median": {m: float(np.nanmedian(v)) for m, v in cal.method_max_z.items()},
        "toy_p_on_null": mis,
        "split_half_ks_pvalue": float(stats.kstest(split_p, "uniform").pvalue) if len(test) > 1 else None,
        "leave_one_out_ks_pvalue": float(stats.kstest(loo, "uniform").pvalue),
        "observed": {
            "max_z": cal.observed_max_z,
            "p_toys": cal.observed_p_toys,
            "z_toys": float(max(stats.norm.isf(cal.observed_p_toys), 0.0)),
            "p_calibrated": p_cal,
            "p_calibrated_is_bound": bound,
            "p_calibrated_95_upper": p_hi,
            "z_calibrated": float(max(stats.norm.isf(p_cal), 0.0)),
            "text": cal.text(),
        },
        "seconds_runs": cal.seconds,
        "seconds_this_call": time.time() - t0,
    }
    print()
    print(f"{'':34s} {'toy-only':>10s} {'retrained':>10s}")
    print(f"{'global p at the observed Z':34s} {cal.observed_p_toys:10.3g} {p_cal:10.3g}{' (bound)' if bound else ''}")
    print(f"{'null: fraction with p < 5%':34s} {mis.get('fraction_below_0.05', np.nan):10.2f} {'0.05':>10s}")
    print(f"{'null: KS p of uniform':34s} {mis.get('ks_pvalue_uniform', np.nan):10.3g} "
          f"{result['split_half_ks_pvalue'] if result['split_half_ks_pvalue'] is not None else float('nan'):10.3g}")  # fmt: skip
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
