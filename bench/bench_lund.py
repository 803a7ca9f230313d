"""Benchmark: Lund-plane weights per million jets.

    python bench/bench_lund.py [--jets 200000] [--data DIR --sim DIR]

The ratio is measured on the demo's boosted-W control samples (``python -m anomalyscope demo`` first, or give
--data/--sim); the simulation's jets are then repeated up to --jets and weighed, in steps:
reclustering (exclusive kT into 2 subjets + C/A primary Lund declustering of each), the nominal weights
(binning + sparse product) with all systematic variations, and 100 statistical toys of an efficiency.
Times are per million jets, measured in one process in one run (the steps' ratios are the robust
figures). Prints a table, writes bench/results/lund.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import awkward as ak
import numpy as np

from anomalyscope.core.data import EventSet
from anomalyscope.core.lund.control import ControlSelection, fit_ratio
from anomalyscope.core.lund.subjets import eventset_jets, recluster
from anomalyscope.core.lund.weights import N_TOYS, LundWeights
from anomalyscope.core.workflows.demo import default_demo_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo = default_demo_dir()
    ap.add_argument("--jets", type=int, default=200_000)
    ap.add_argument("--data", type=Path, default=demo / "lund_data")
    ap.add_argument("--sim", type=Path, default=demo / "lund_sim")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lund.json")
    a = ap.parse_args()

    data, sim = EventSet.open(a.data), EventSet.open(a.sim)
    t0 = time.perf_counter()
    ratio = fit_ratio(data, sim, ControlSelection())
    t_fit = time.perf_counter() - t0
    jets = eventset_jets(sim)
    n_src = len(jets["pt"])
    reps = int(np.ceil(a.jets / n_src))
    idx = np.tile(np.arange(n_src), reps)[: a.jets]
    cons = jets["constituents"][idx]
    cons = ak.Array(ak.to_packed(cons))  # a contiguous array, as read from disk
    n = len(cons)

    t0 = time.perf_counter()
    sub = recluster(cons, np.full(n, 2), 0.8)
    t_recluster = time.perf_counter() - t0
    t0 = time.perf_counter()
    weights = LundWeights(ratio, sub)
    w = weights.nominal()
    variations = weights.variations()
    t_weights = time.perf_counter() - t0
    t0 = time.perf_counter()
    passed = jets["tau21"][idx] < 0.35
    eff = weights.efficiency(passed, n_toys=N_TOYS)
    t_eff = time.perf_counter() - t0

    per_m = 1e6 / n
    rows = [
        ("measure the ratio (control samples)", t_fit, None),
        ("recluster: 2 exclusive-kT subjets + C/A Lund", t_recluster, t_recluster * per_m),
        ("nominal weights + variations", t_weights, t_weights * per_m),
        (f"efficiency with {N_TOYS} toys", t_eff, t_eff * per_m),
    ]
    total = (t_recluster + t_weights) * per_m
    print(
        f"Lund-plane weights: {n} jets ({n_src} distinct, repeated), {len(sub)} subjets, "
        f"{int(ak.sum(ak.num(sub.ln_kt)))} splittings"
    )
    print(f"{'step':48s} {'seconds':>9s} {'s per 1M jets':>14s}")
    for name, t, pm in rows:
        print(f"{name:48s} {t:9.2f} {'' if pm is None else f'{pm:14.1f}'}")
    print(f"{'weights per 1M jets (recluster + weights)':48s} {'':9s} {total:14.1f}")
    print(
        f"reclustering / weighting time: {t_recluster / t_weights:.1f}×; mean weight {w.mean():.3f}, "
        f"ε(τ21<0.35) {eff['uncorrected']:.3f} → {eff['corrected']:.3f} ± {eff['total']:.3f}"
    )
    out = {
        "jets": n,
        "distinct_jets": n_src,
        "subjets": len(sub),
        "seconds": {"fit_ratio": t_fit, "recluster": t_recluster, "weights": t_weights, "efficiency_toys": t_eff},
        "seconds_per_million_jets": {
            "recluster": t_recluster * per_m,
            "weights_and_variations": t_weights * per_m,
            "total": total,
            "efficiency_with_toys": t_eff * per_m,
        },
        "variations": sorted(variations),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
