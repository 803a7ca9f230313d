"""Training beside other training: the time of one training workload (the shared classifier, a CATHODE-size
flow, a boosted-tree ensemble) alone and with a second copy running at the same time, with one thread per
process (the default, ``methods.device``) and with as many as the machine has cores.

    python bench/bench_threads.py [--copies 2]

Run it on an otherwise idle machine. Prints the table and writes bench/results/threads.json. The goal: side by
side costs at most ≈ 2.5× the time alone on 2 cores (each process gets half the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def workload() -> dict:
    import numpy as np

    from anomalyscope.core.methods.classifier import Classifier, TrainConfig
    from anomalyscope.core.methods.device import THREADS
    from anomalyscope.core.methods.flow import DensityFlow, FlowConfig
    from anomalyscope.core.methods.trees import TreeClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 7)).astype(np.float32)
    y = (rng.random(20000) < 0.3).astype(np.float32)
    out = {"threads": THREADS}
    t = time.perf_counter()
    Classifier(TrainConfig(epochs=5, patience=100)).fit(x[:16000], y[:16000], x[16000:], y[16000:])
    out["classifier_s"] = time.perf_counter() - t
    t = time.perf_counter()
    DensityFlow(FlowConfig(epochs=3, min_steps=0), seed=1).fit(rng.normal(size=(8000, 4)), rng.uniform(3, 4, 8000))
    out["flow_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cfg = TrainConfig(classifier="bdt", bdt_iterations=100, patience=100)
    TreeClassifier(cfg).fit(x[:16000], y[:16000], x[16000:], y[16000:])
    out["bdt_s"] = time.perf_counter() - t
    out["total_s"] = out["classifier_s"] + out["flow_s"] + out["bdt_s"]
    return out


def side_by_side(copies: int, threads: int) -> list[dict]:
    env = {**os.environ, "ANOMALYSCOPE_THREADS": str(threads)}
    procs = [
        subprocess.Popen([sys.executable, __file__, "--worker"], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(copies)
    ]
    return [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "threads.json")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(workload()))
        return
    cores = os.cpu_count() or 1
    rows = []
    for threads in sorted({1, cores}):
        alone = side_by_side(1, threads)[0]
        beside = side_by_side(a.copies, threads)
        worst = max(b["total_s"] for b in beside)
        rows.append({"threads": threads, "alone": alone, "beside": beside, "slowdown": worst / alone["total_s"]})
    print(f"{cores} cores, {a.copies} copies side by side")
    print(
        f"{'threads':>7s} {'alone [s]':>10s} {'beside [s]':>11s} {'slowdown':>9s}   (classifier / flow / trees alone)"
    )
    for r in rows:
        al = r["alone"]
        print(f"{r['threads']:7d} {al['total_s']:10.2f} {max(b['total_s'] for b in r['beside']):11.2f} "
              f"{r['slowdown']:8.1f}×   ({al['classifier_s']:.2f} / {al['flow_s']:.2f} / {al['bdt_s']:.2f} s)")  # fmt: skip
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"cores": cores, "copies": a.copies, "rows": rows}, indent=1))
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
