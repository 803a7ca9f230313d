"""Discovery sensitivity of every method: the injection scan (core.workflows.injection) on the demo or
on any background / signal EventSets, with the injected signal for a median 3σ and 5σ and the
improvement over the inclusive search. Zero injection is always scanned: it is the background-only
test of the trained methods (every Run's observed Z at the signal mass, and the median).

    python bench/bench_sensitivity.py [--background QCD --signal SIG] [--injections 0 50 100 200 400]
                                      [--draws 5] [--methods ...] [--eff 0.01] [--lumi-fb 5.8]

Defaults: the demo's QCD and W' → X Y samples (built if missing), the demo Run's methods. Prints a
table and writes bench/results/sensitivity.json (with the events it was measured on and the wall time).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data import EventSet
from anomalyscope.core.workflows.injection import report, run_injection_scan

FAST = ["inclusive", "cut_tau21", "cut_tau32", "supervised"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--background", type=Path, default=None)
    ap.add_argument("--signal", type=Path, default=None)
    ap.add_argument("--mass", type=float, default=3500.0)
    ap.add_argument("--injections", type=int, nargs="*", default=[0, 50, 100, 200, 400])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--eff", type=float, default=0.01)
    ap.add_argument("--methods", nargs="*", default=None, help="default: the demo Run's methods")
    ap.add_argument("--lumi-fb", type=float, default=None, help="luminosity of the background sample")
    ap.add_argument("--work", type=Path, default=Path(__file__).parent / "results" / "sensitivity-work")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sensitivity.json")
    a = ap.parse_args()
    if a.background is None or a.signal is None:
        from anomalyscope.core.workflows.demo import DEMO_RUN, build_demo

        paths = build_demo()
        a.background, a.signal = a.background or paths["qcd"], a.signal or paths["wprime_xy"]
        methods = a.methods or DEMO_RUN["methods"]
    else:
        methods = a.methods or FAST
    bkg = EventSet.open(a.background)
    cfg = {
        "background": str(a.background),
        "signal": str(a.signal),
        "out": str(a.work),
        "injections": a.injections,
        "draws": a.draws,
        "efficiency": a.eff,
        "mass": a.mass,
        "run": {"methods": methods, "folds": 5},
    }
    if a.lumi_fb:
        cfg["luminosity_fb"] = a.lumi_fb
    t0 = time.perf_counter()
    res = run_injection_scan(cfg)
    wall = time.perf_counter() - t0
    print(report(res))
    print(f"\nmeasured on {len(bkg)} background events ({a.background}); {wall / 60:.1f} min")
    rows = []
    print(f"\n{'method':12s} {'Z(0) median':>11s} {'3σ at':>12s} {'5σ at':>12s} {'×incl (5σ)':>10s}")
    for m, s in res.sensitivity.items():
        z0 = float(np.nanmedian(res.z_observed[m][0])) if res.injections[0] == 0 else float("nan")
        fmt = lambda v, e: "—" if v is None else f"{v:.0f}±{e or 0:.0f}"  # noqa: E731
        imp = s.improvement_5sigma
        print(
            f"{m:12s} {z0:11.2f} {fmt(*s.events(3)):>12s} {fmt(*s.events(5)):>12s} "
            f"{'—' if imp is None else f'{imp:.2f}':>10s}"
        )
        rows.append({"method": m, "median_z_no_signal": z0, **s.to_dict()})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        json.dumps(
            {"n_background": len(bkg), "background": str(a.background), "wall_seconds": wall, "rows": rows}
            | res.to_dict(),
            indent=1,
        )
    )
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
