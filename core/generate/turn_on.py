"""Where a QCD sample's generator thresholds stop sculpting m_jj: the fit start a generated EventSet records.

A sample generated with PhaseSpace:pTHatMin = X misses every event with pTHat < X. At parton level those stay
below 2·X·cosh(Δη_max/2) (2.44·X for |Δη| < 1.3), but hard initial-state radiation clustered into a jet lifts
some of them far above: measured on 48k events at pTHat > 600 GeV (``bench/bench_turn_on.py``), a threshold
of 1 TeV still loses 12% of the events at m_jj = 2.6–2.7 TeV, 7% at 2.7–2.8 TeV and 2–4% up to 3.1 TeV.

The edge is therefore defined by a tolerance, not by the largest m_jj a lost event reaches (that maximum
grows with the calibration sample's size without bound): the lowest m_jj above which at most
``TOLERANCE`` of the calibration events would be lost. With fewer than 1/TOLERANCE calibration events above
it, the two definitions agree (no loss is tolerated); the Clopper–Pearson 95% upper bound on the loss above
the edge is recorded so a reader can see how well the edge is established.
"""

from __future__ import annotations

import math

import numpy as np

from anomalyscope.core.bumphunt.histogram import upper_bound_95
from anomalyscope.core.data.eventset import EDGE_STEP

TOLERANCE = 0.01  # the largest fraction of events above the edge the thresholds may lose


def loss_upper_95(lost: int, n: int) -> float:
    """Clopper–Pearson 95% upper bound on the fraction lost / n."""
    return upper_bound_95(lost, n)


def fully_efficient_above(mjj: np.ndarray, lost: np.ndarray, step: float = EDGE_STEP) -> dict:
    """The lowest multiple of ``step`` above which at most TOLERANCE of the events are ``lost``."""
    mjj, lost = np.asarray(mjj, dtype=float), np.asarray(lost, dtype=bool)
    if not lost.any():
        return {"edge_gev": 0.0, "n_above": len(mjj), "lost_above": 0, "loss_upper_95": loss_upper_95(0, len(mjj))}
    order = np.argsort(mjj)
    m, lo = mjj[order], lost[order]
    lost_from = np.concatenate([np.cumsum(lo[::-1])[::-1], [0]])  # lost events at index ≥ i
    n_from = len(m) - np.arange(len(m) + 1)
    top = math.ceil(float(m[lo].max()) / step) * step  # above the largest lost m_jj nothing is lost
    edges = np.arange(math.floor(float(m[0]) / step) * step, top + step / 2, step)
    i = np.searchsorted(m, edges)
    ok = lost_from[i] <= TOLERANCE * n_from[i]
    # the lowest edge from which every higher edge also satisfies the tolerance
    bad = np.flatnonzero(~ok)
    k = bad[-1] + 1 if len(bad) else 0
    edge, j = float(edges[k]), int(i[k])
    return {
        "edge_gev": edge,
        "n_above": int(n_from[j]),
        "lost_above": int(lost_from[j]),
        "loss_upper_95": loss_upper_95(int(lost_from[j]), int(n_from[j])),
    }


def measure_edge(mjj: np.ndarray, pthat: np.ndarray, mhat: np.ndarray, thresholds: dict, mjj_min: float) -> dict:
    """Fully-efficient m_jj edge from a calibration sample generated below the thresholds.

    An event with pTHat < pthat_min or mHat < mhat_min would be missing from the real sample; the edge is the
    lowest m_jj above which at most TOLERANCE of the calibration events are such events.
    """
    lost = (pthat < thresholds.get("pthat_min", 0.0)) | (mhat < thresholds.get("mhat_min", 0.0))
    found = fully_efficient_above(mjj, lost)
    edge = found["edge_gev"]
    bins = np.arange(0.0, max(float(mjj.max(initial=0.0)), edge) + 200.0, 100.0)
    n_all, _ = np.histogram(mjj, bins)
    n_kept, _ = np.histogram(mjj[~lost], bins)
    eff = np.divide(n_kept, n_all, out=np.full(len(n_all), np.nan), where=n_all > 0)
    return {
        "method": f"calibration sample with lowered generator thresholds; edge = lowest m_jj above which at most "
        f"{TOLERANCE:.0%} of the calibration events passing jet pT, |eta| and |deta| < deta_max lie below the "
        "sample's thresholds",
        "thresholds": thresholds,
        "tolerance": TOLERANCE,
        "edge_gev": edge,
        "mjj_fit_min": max(edge, mjj_min),
        "n_calibration_selected": len(mjj),
        "n_above_edge": found["n_above"],
        "lost_above_edge": found["lost_above"],
        "inefficiency_95cl_above_edge": found["loss_upper_95"],
        "efficiency_curve": {
            "mjj_bin_edges": bins.tolist(),
            "efficiency": [None if np.isnan(e) else round(float(e), 4) for e in eff],
        },
    }
