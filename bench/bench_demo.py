"""The demo's story, measured: build time, the inclusive search's local Z at the signal mass, the best
data-driven method's local and global Z, and the background-only twin's largest global Z per method.

    python bench/bench_demo.py [--out DIR] [--force]

``--out`` builds a fresh demo there (default: the user's demo, reused when complete); the twin is built
next to it. Prints a table and writes bench/results/demo.json. The demo's promise (README): inclusive local
Z < 2 at the signal, a method with local Z ≥ 5 and global Z ≥ 3 there, the twin without a global excess > 2σ.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data import EventSet
from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.methods import best_data_driven
from anomalyscope.core.results import Run
from anomalyscope.core.workflows.demo import build_demo, build_null_twin, default_demo_dir


def story(run: Run, peak: float | None) -> dict:
    res = run.search_result()
    best = res.best_excesses() if res is not None else {}
    out = {"methods": {m: e.to_dict() for m, e in best.items()}}
    out["inclusive_z_at_signal"] = run.search().inclusive_z_at(run.table(), peak)
    found = best_data_driven(best)
    if found:
        out["best_data_driven"] = {"method": found[0], **found[1].to_dict()}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--result", type=Path, default=Path(__file__).parent / "results" / "demo.json")
    a = ap.parse_args()
    out = a.out or default_demo_dir()
    t0 = time.perf_counter()
    paths = build_demo(out, force=a.force)
    t_demo = time.perf_counter() - t0
    t1 = time.perf_counter()
    twin = out / "null" / "run"
    reuse = not a.force and (twin / "manifest.json").exists()  # the twin of this demo (`demo --null-twin`)
    if not reuse:
        twin = build_null_twin(out)
    t_twin = time.perf_counter() - t1 if not reuse else None
    sig = EventSet.open(paths["signal"])
    region = sig.column("deta") < Run.open(paths["run"]).search().definition.deta_max
    peak = float(np.median(sig.column("mjj")[region]))
    demo, null = story(Run.open(paths["run"]), peak), story(Run.open(twin), peak)
    schema = EventSet.open(paths["data"]).schema["demo"]
    twin_time = "reused" if t_twin is None else f"{t_twin / 60:.1f} min"
    print(f"demo in {out}: built in {t_demo / 60:.1f} min, null twin {twin_time} ({os.cpu_count()} cores)")
    print(
        f"  injected {schema['n_injected']} signal events (S/√B = {schema['target_s_over_sqrt_b_in_sr']} in "
        f"{schema['signal_region_gev']} GeV); signal peak {peak:.0f} GeV"
    )
    print(
        f"  inclusive local Z at the signal peak: {demo['inclusive_z_at_signal']:.2f} "
        f"(null twin there: {null['inclusive_z_at_signal']:.2f})"
    )
    b = demo.get("best_data_driven")
    if b:
        print(
            f"  best data-driven: {b['method']} local {b['z_local']:.2f}σ at {b['mass']:.0f} GeV "
            f"({b['window']}, ε = {b['eff']:g}), global {b['z_global']:.2f}σ"
        )
    print(f"  {'method':11s} {'demo local/global':>18s} {'null twin local/global':>23s}")
    for m in demo["methods"]:
        d, n = demo["methods"][m], null["methods"].get(m, {})
        f = lambda e: f"{e.get('z_local', np.nan):5.2f} / {e.get('z_global', np.nan):4.2f}"  # noqa: E731
        print(f"  {m:11s} {f(d):>18s} {f(n):>23s}")
    write_json_atomic(
        a.result,
        {
            "demo": demo,
            "null_twin": null,
            "injection": schema,
            "signal_peak_gev": peak,
            "build_seconds": t_demo,
            "twin_seconds": t_twin,
            "cores": os.cpu_count(),
            "out": str(out),
        },
    )


if __name__ == "__main__":
    main()
