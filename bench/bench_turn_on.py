"""Where a QCD sample generated with PhaseSpace:pTHatMin = X stops sculpting m_jj: the generator threshold's
efficiency per m_jj bin, for several X, from one sample generated at a lower threshold. Prints a table and
writes bench/results/turn_on.json.

    python bench/bench_turn_on.py [--events 48000] [--pthat-min 600] [--thresholds 750 850 1000]

An event with pTHat < X is missing from a sample generated at X; in the low-threshold sample it is there, so
the efficiency of threshold X at m_jj is the fraction of its events (|Δη| < 1.3, the preselection) with
pTHat ≥ X. Hard initial-state radiation lets events below the threshold reach m_jj well above the parton-level
bound 2·X·cosh(0.65) = 2.44·X. The edge is the lowest m_jj (10 GeV steps) above which at most 1% of the events
are lost (``core.generate.turn_on``, the definition generated samples use for their fit start), with the
Clopper–Pearson 95% upper bound on that loss.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.generate.runner import generate_or_reuse
from anomalyscope.core.generate.turn_on import TOLERANCE, fully_efficient_above

RESULTS = Path(__file__).parent / "results"
DETA_MAX = 1.3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=48000)
    ap.add_argument("--pthat-min", type=float, default=600.0, help="the low threshold the sample is generated at")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[750.0, 850.0, 1000.0])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    es = generate_or_reuse(
        "qcd",
        a.events,
        a.seed,
        RESULTS / "turn-on-work" / f"qcd-{a.pthat_min:.0f}",
        params={"pthat_min": a.pthat_min},
        workers=a.workers,
    )
    wall = time.perf_counter() - t0
    sel = es.column("deta") < DETA_MAX
    mjj, pthat = es.column("mjj")[sel], es.column("pthat")[sel]
    edges = np.arange(1800.0, 4000.0 + 1, 100.0)
    rows, summary = [], {}
    print(f"{len(mjj)} events with |Δη| < {DETA_MAX} from {a.events} generated at pTHat > {a.pthat_min:.0f} GeV")
    print(f"{'m_jj [GeV]':>12s} {'N':>6s} " + " ".join(f"{'ε(' + str(int(x)) + ')':>8s}" for x in a.thresholds))
    for lo, hi in itertools.pairwise(edges):
        b = (mjj >= lo) & (mjj < hi)
        n = int(b.sum())
        effs = [float(np.mean(pthat[b] >= x)) if n else None for x in a.thresholds]
        rows.append({"mjj_lo": lo, "mjj_hi": hi, "n": n, "efficiency": dict(zip(map(str, a.thresholds), effs))})
        print(f"{lo:6.0f}–{hi:5.0f} {n:6d} " + " ".join("       —" if e is None else f"{e:8.3f}" for e in effs))
    print(f"\nfully efficient (≤ {TOLERANCE:.0%} of events above lost):")
    for x in a.thresholds:
        s = fully_efficient_above(mjj, pthat < x)
        s["ratio_to_threshold"] = s["edge_gev"] / x
        summary[str(x)] = s
        print(
            f"  pTHat > {x:.0f} GeV: above {s['edge_gev']:.0f} GeV (= {s['ratio_to_threshold']:.2f} × pTHat_min), "
            f"{s['lost_above']} of {s['n_above']} lost, 95% CL ≤ {s['loss_upper_95']:.1%}"
        )
    write_json_atomic(
        RESULTS / "turn_on.json",
        {
            "sample": {"pthat_min": a.pthat_min, "generated": a.events, "selected_deta": len(mjj), "seed": a.seed},
            "deta_max": DETA_MAX,
            "tolerance": TOLERANCE,
            "bins": rows,
            "fully_efficient": summary,
            "wall_seconds": wall,
        },
    )


if __name__ == "__main__":
    main()
