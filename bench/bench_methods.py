"""Benchmark of the anomaly methods on the demo: max SIC of every method next to the supervised and
idealised (IAD) references, AUC, and training wall time on this machine.

    python bench/bench_methods.py [--extra-events 30000] [--methods ...] [--no-signal]

The IAD and QUAK need a second, independent background sample (QCD with the demo's settings and
another seed, cached beside the demo as ``qcd_extra``); QUAK's prior is a mixture of other signal
models than the demo's W' → X Y (generated once, cached as ``prior_<model>``). ``--no-signal``
trains on the demo's QCD alone (no injected signal) and evaluates on the same signal sample: the
weakly supervised methods must then show no gain (max SIC ≈ 1).
Prints a table and writes bench/results/methods.json (methods_nosignal.json).
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

from anomalyscope.core.generate.runner import generate_or_reuse
from anomalyscope.core.methods.runner import execute, load_config
from anomalyscope.core.workflows.demo import SEED, build_demo, default_demo_dir

ALL = [
    "inclusive",
    "cut_tau21",
    "cut_tau32",
    "supervised",
    "iad",
    "cwola",
    "vae_qr",
    "tnt",
    "cathode",
    "cathode_b",
    "quak",
]
PRIOR_MODELS = ("x_yyprime", "wprime_bprime_t", "qstar_qw")  # not the demo's wprime_xy
PRIOR_EVENTS = 2000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", type=Path, default=None)
    ap.add_argument("--extra-events", type=int, default=30000)
    ap.add_argument("--no-signal", action="store_true", help="train on the demo's QCD only (null test)")
    ap.add_argument("--methods", nargs="*", default=ALL)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "methods.json")
    a = ap.parse_args()
    demo = a.demo or default_demo_dir()
    paths = build_demo(demo)
    extra = demo / "qcd_extra"
    needs_extra = bool({"iad", "quak"} & set(a.methods))
    if needs_extra:
        generate_or_reuse("qcd", a.extra_events, SEED + 100, extra)
    methods = list(a.methods)
    if "quak" in methods:
        prior = [
            str(generate_or_reuse(m, PRIOR_EVENTS, SEED + 200 + i, demo / f"prior_{m}").path)
            for i, m in enumerate(PRIOR_MODELS)
        ]
        methods[methods.index("quak")] = {"quak": {"prior": prior}}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = {
            "eventset": str(paths["qcd"] if a.no_signal else paths["data"]),
            "signal": str(paths["signal"]),
            "background_extra": str(extra) if needs_extra else None,
            "out": str(Path(tmp) / "run"),
            "search": {"windows": "lhco"},
            "folds": a.folds,
            "methods": methods,
        }
        (Path(tmp) / "run.yaml").write_text(yaml.safe_dump(cfg))
        t0 = time.perf_counter()
        run = execute(load_config(Path(tmp) / "run.yaml"))
        wall = time.perf_counter() - t0
        ev = run.evaluation()
        method_info = run.manifest.method_info or {}
        rows = {
            name: {
                "max_sic": p.max_sic,
                "auc": p.auc,
                "eps_b_floor": p.eps_b_floor,
                "train_seconds": run.manifest.training_seconds[name],
            }
            for name, p in ev.evaluated().items()
        }
    device = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores)"
    data = paths["qcd"] if a.no_signal else paths["data"]
    print(f"demo {data}: {ev.region}  device: {device}  whole run {wall:.0f} s")
    print(f"{'method':12s} {'max SIC':>8s} {'AUC':>6s} {'train [s]':>10s}")
    for name, r in rows.items():
        print(f"{name:12s} {r['max_sic']:8.2f} {r['auc']:6.3f} {r['train_seconds']:10.1f}")
    print(
        f"max SIC quoted where eps_B >= {next(iter(rows.values()))['eps_b_floor']:.1e} (at least 20 background events)"
    )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    if a.no_signal:
        a.out = a.out.with_name(a.out.stem + "_nosignal.json")
    comp = ev.get("complementarity", {})
    for sample in ("background", "signal"):
        if sample in comp:
            names = comp[sample]["methods"]
            print(f"Spearman correlation of scores on {sample} (LHCO SR):")
            print(" " * 11 + "".join(f"{n[:9]:>10s}" for n in names))
            for n, row in zip(names, comp[sample]["spearman"]):
                print(f"{n[:10]:11s}" + "".join(f"{v:10.2f}" for v in row))
    a.out.write_text(
        json.dumps(
            {
                "region": ev["region"],
                "device": device,
                "wall_seconds": wall,
                "signal_injected": not a.no_signal,
                "methods": rows,
                "complementarity": comp,
                "method_info": method_info,
            },
            indent=2,
        )
    )
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
