"""Peak memory of the trigger pile-up study's overlay: every zero-bias crossing overlaid at once (what the demo's
build did, its 11.1 GB peak) against ``pileup.CHUNK`` events at a time, side by side in one run.

    python bench/bench_pileup_memory.py [--events 2000] [--mu 60] [--pool 10000]

Zero-bias events and a pool of minimum-bias interactions are generated once (bench/results/pileup-memory-work);
each setting then runs in a fresh process (its own peak resident memory, VmHWM) that overlays Poisson(⟨μ⟩)
interactions on every event and reduces them to the trigger models' inputs. Prints a table and writes
bench/results/pileup_memory.json; the inputs must come out identical in shape and statistically alike.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
WORK = RESULTS / "pileup-memory-work"

CHILD = """
import sys, time, json
import awkward as ak, numpy as np
from anomalyscope.core.trigger.pileup import trigger_inputs
work, mu, chunk = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
parts, pool = ak.from_parquet(work + "/zero_bias.parquet"), ak.from_parquet(work + "/pool.parquet")
t0 = time.perf_counter()
x, img, n_pu = trigger_inputs(parts, pool, mu, np.random.default_rng(1), chunk=chunk)
wall = time.perf_counter() - t0
hwm = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(json.dumps({"peak_gb": hwm / 1e6, "seconds": wall, "mean_region_et": float(img.sum(axis=(1, 2)).mean()),
                  "mean_overlaid": float(n_pu.mean()), "shape": list(x.shape)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--mu", type=float, default=60.0)
    ap.add_argument("--pool", type=int, default=10000)
    a = ap.parse_args()
    import awkward as ak

    from anomalyscope.core.data.atomic import write_json_atomic
    from anomalyscope.core.trigger.pileup import CHUNK, _generate

    WORK.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("zero_bias", a.events, 8), ("pool", a.pool, 7)):
        path = WORK / f"{name}.parquet"
        if not path.exists() or len(ak.from_parquet(path)) != n:
            ak.to_parquet(_generate("minbias", {}, n, seed, 2, WORK), path)
    rows = {}
    for label, chunk in (("all at once", a.events), (f"{CHUNK} at a time", CHUNK)):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(WORK), str(a.mu), str(chunk)], capture_output=True, text=True, check=True
        )
        rows[label] = {**json.loads(out.stdout.strip().splitlines()[-1]), "chunk": chunk}
        rows[label]["process_seconds"] = time.perf_counter() - t0
    print(f"{a.events} zero-bias crossings, ⟨μ⟩ = {a.mu:g}, pool of {a.pool} interactions (one process each):")
    print(f"{'overlay':>16s} {'peak GB':>8s} {'s':>6s} {'⟨region ET⟩ GeV':>16s} {'⟨n_pu⟩':>7s}")
    for label, r in rows.items():
        print(
            f"{label:>16s} {r['peak_gb']:8.2f} {r['seconds']:6.1f} {r['mean_region_et']:16.1f} {r['mean_overlaid']:7.2f}"
        )
    first, second = rows.values()
    print(f"peak memory ratio: {first['peak_gb'] / second['peak_gb']:.1f}×")
    write_json_atomic(RESULTS / "pileup_memory.json", {"events": a.events, "mu": a.mu, "pool": a.pool, "rows": rows})


if __name__ == "__main__":
    main()
