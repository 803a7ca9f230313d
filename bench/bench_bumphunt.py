"""Benchmark of the bump hunt: one background fit of a 40–60 bin spectrum (target well under 50 ms),
the F-test, a full local-significance scan, 1,000 background-only toys, and a comparison of the local
significance with pyBumpHunter's BumpHunter scan on the same histogram.

    python bench/bench_bumphunt.py [--toys 1000]

Prints a table and writes bench/results/bumphunt.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from anomalyscope.core.bumphunt.fit import f_test, fit_background
from anomalyscope.core.bumphunt.functions import Quadrature, expected_counts
from anomalyscope.core.bumphunt.histogram import Spectrum, cms_edges
from anomalyscope.core.bumphunt.signal import SignalModel
from anomalyscope.core.bumphunt.significance import local_significance, toy_local_z


def timed(fn, repeat=1):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, np.array(times)


def bumphunter_local_z(counts, bkg, edges, seed):
    """BumpHunter (pyBumpHunter) local significance of the most significant window."""
    import pyBumpHunter as BH

    bh = BH.BumpHunter1D(
        rang=(edges[0], edges[-1]),
        width_min=2,
        width_max=6,
        width_step=1,
        scan_step=1,
        npe=1000,
        bins=edges,
        nworker=1,
        seed=seed,
    )
    bh.bump_scan(counts, bkg, is_hist=True, do_pseudo=True)
    from scipy.stats import norm

    loc, width = int(bh.min_loc_ar[0]), int(bh.min_width_ar[0])
    return float(norm.isf(bh.min_Pval_ar[0])), float(bh.significance), (float(edges[loc]), float(edges[loc + width]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--toys", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bumphunt.json")
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    edges = cms_edges(1455, 8000)[:56]  # 55 bins from 1455 GeV
    q = Quadrature(edges)
    truth = expected_counts(q, 1_000_000, np.array([9.0, 4.5, 0.1]))
    mass = 3558.0
    template = SignalModel.gaussian().at(mass).bin_fractions(edges)
    data = rng.poisson(truth + 500 * template)
    spec = Spectrum(data, edges)

    fit, t_fit = timed(lambda: fit_background(spec, 4), repeat=30)
    _, t_fit1 = timed(lambda: fit_background(spec, 4, n_starts=1), repeat=30)
    ft, t_ft = timed(lambda: f_test(spec), repeat=5)
    scan, t_scan = timed(lambda: local_significance(spec, fit), repeat=2)
    toys, t_toys = timed(lambda: toy_local_z(fit, template, a.toys, seed=3))
    bh_local, bh_global, bh_window = bumphunter_local_z(data, fit.expected, edges, seed=4)
    i_best = int(np.argmax(scan.z))

    rows = {
        "n_bins": len(spec.counts),
        "fit_4par_median_ms (4 starts)": 1e3 * np.median(t_fit),
        "fit_4par_median_ms (1 start)": 1e3 * np.median(t_fit1),
        "ftest_3_4_5_median_ms": 1e3 * np.median(t_ft),
        "ftest_chosen_order": ft.chosen.order,
        "scan_points": len(scan.masses),
        "scan_total_s": float(np.median(t_scan)),
        f"toys_{a.toys}_refit_q0_s": float(t_toys[0]),
        "toys_fraction_z_above_2 (asymptotic 0.0228)": float(np.mean(toys > 2)),
        "ours_local_z_at_best_mass": float(scan.z[i_best]),
        "ours_best_mass_gev": float(scan.masses[i_best]),
        "bumphunter_local_z": bh_local,
        "bumphunter_global_z": bh_global,
        "bumphunter_window_gev": list(bh_window),
    }
    width = max(len(k) for k in rows)
    for k, v in rows.items():
        print(f"{k:{width}}  {v:.4g}" if isinstance(v, float) else f"{k:{width}}  {v}")
    print(
        "\nWhy the two local significances differ (same histogram, same fitted background):"
        "\n- BumpHunter counts events in the most discrepant window of 2-6 bins and takes the background-only"
        "\n  fit as exact: a Poisson counting p-value with no signal shape and no background uncertainty. That"
        "\n  fit was made to data containing the bump, so it is already pulled towards it, which lowers"
        "\n  BumpHunter's excess."
        "\n- Our q0 fits a resolution-width signal template at each mass together with the background"
        "\n  parameters, so the background is not pulled by the bump (higher Z) but its freedom is profiled"
        "\n  (lower Z where the function can mimic a bump); the shape weights bins by their S/B."
        "\n- BumpHunter's global significance comes from its own pseudo-experiments with the background"
        "\n  fixed; with 1000 of them it is a lower limit once no pseudo-experiment exceeds the data."
    )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten {a.out}")


if __name__ == "__main__":
    main()
