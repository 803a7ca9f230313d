"""Benchmark of the anomaly methods on the demo: max SIC of every method next to the supervised and
idealised (IAD) references, AUC, and training wall time on this machine.

    python bench/bench_methods.py [--extra-events 60000] [--methods ...]

The IAD needs a second, independent background sample in the signal region; it is generated once
(QCD with the demo's settings and another seed) and cached beside the demo as ``qcd_extra``.
Prints a table and writes bench/results/methods.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
import yaml

from core.demo import SEED, build_demo, default_demo_dir
from core.methods.runner import execute, load_config

ALL = ["inclusive", "cut_tau21", "cut_tau32", "supervised", "iad", "cwola", "vae_qr"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", type=Path, default=None)
    ap.add_argument("--extra-events", type=int, default=60000)
    ap.add_argument("--methods", nargs="*", default=ALL)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "methods.json")
    a = ap.parse_args()
    demo = a.demo or default_demo_dir()
    paths = build_demo(demo)
    extra = demo / "qcd_extra"
    if "iad" in a.methods:
        from core.demo import _reuse_or_generate

        _reuse_or_generate("qcd", a.extra_events, SEED + 100, extra, None, True)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = {
            "eventset": str(paths["data"]),
            "signal": str(paths["signal"]),
            "background_extra": str(extra) if "iad" in a.methods else None,
            "out": str(Path(tmp) / "run"),
            "windows": "lhco",
            "folds": a.folds,
            "methods": a.methods,
        }
        (Path(tmp) / "run.yaml").write_text(yaml.safe_dump(cfg))
        t0 = time.perf_counter()
        run = execute(load_config(Path(tmp) / "run.yaml"))
        wall = time.perf_counter() - t0
        ev = run.evaluation()
        rows = {
            name: {
                "max_sic": p.get("max_sic"),
                "auc": p.get("auc"),
                "eps_b_floor": p.get("eps_b_floor"),
                "train_seconds": run.manifest["training_seconds"][name],
            }
            for name, p in ev["methods"].items()
        }
    device = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)"
    print(f"demo {paths['data']}: {ev['region']}  device: {device}  whole run {wall:.0f} s")
    print(f"{'method':12s} {'max SIC':>8s} {'AUC':>6s} {'train [s]':>10s}")
    for name, r in rows.items():
        print(f"{name:12s} {r['max_sic']:8.2f} {r['auc']:6.3f} {r['train_seconds']:10.1f}")
    print(
        f"max SIC quoted where eps_B >= {next(iter(rows.values()))['eps_b_floor']:.1e} (at least 20 background events)"
    )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        json.dumps({"region": ev["region"], "device": device, "wall_seconds": wall, "methods": rows}, indent=2)
    )
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
