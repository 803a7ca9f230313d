"""Closure tests of the Lund-plane reweighting on independent halves of the control samples.

The ratio is measured on events with even event_id; the simulation's odd events are reweighted and
compared with the data's odd events (so statistical fluctuations of the measurement do not close by
construction). Reported per observable (τ21, τ32, soft-drop mass): χ²/ndf of the normalised distributions
before and after reweighting (both samples' statistics, the weights' sum of squares; after, also with the
correction's per-bin uncertainty band). Per jet cut: the efficiency in data, in simulation, and corrected ±
its uncertainty, with the residual non-closure in units of the combined uncertainty (the correction's and
both samples' statistics). Self-closure: data measured against its own other half gives weights whose
spread is only the statistical one.
"""

from __future__ import annotations

import numpy as np

from anomalyscope.core.bumphunt.histogram import efficiency_interval
from anomalyscope.core.data.eventset import EventSet
from anomalyscope.core.lund.control import ControlSelection, control_subjets, fit_ratio
from anomalyscope.core.lund.ratio import LundBinning, LundCounts, LundRatio
from anomalyscope.core.lund.subjets import Subjets
from anomalyscope.core.lund.weights import N_TOYS, LundWeights
from anomalyscope.core.results.records.lund import LundClosure

OBSERVABLES = {
    "tau21": ("τ21", np.linspace(0.0, 1.0, 21)),
    "tau32": ("τ32", np.linspace(0.0, 1.0, 21)),
    "msoftdrop": ("m_SD [GeV]", np.linspace(0.0, 200.0, 21)),
}
# jet cuts whose efficiency must close (W-tag-like cuts of the control sample's jets)
CUTS = {
    "tau21 < 0.35": lambda j: j["tau21"] < 0.35,
    "tau32 < 0.70": lambda j: j["tau32"] < 0.70,
    "65 < m_SD < 105 GeV": lambda j: (j["msoftdrop"] > 65.0) & (j["msoftdrop"] < 105.0),
}


def chi2(h: np.ndarray, h_w2: np.ndarray, ref: np.ndarray, band: np.ndarray | None = None) -> tuple[float, int]:
    """χ² between two normalised histograms (h with sum of squared weights h_w2) over bins with entries;
    ``band``: an extra per-bin uncertainty of h's normalised contents (bin-to-bin correlations ignored)."""
    n, nr = h / h.sum(), ref / ref.sum()
    var = h_w2 / h.sum() ** 2 + ref / ref.sum() ** 2 + (0.0 if band is None else band**2)
    ok = var > 0
    return float(np.sum((n - nr)[ok] ** 2 / var[ok])), int(ok.sum())


def closure_study(
    data: EventSet,
    sim: EventSet,
    control: ControlSelection = ControlSelection(),
    binning: LundBinning = LundBinning(),
    sim_alt: EventSet | None = None,
    n_toys: int = N_TOYS,
) -> LundClosure:
    ratio = fit_ratio(data, sim, control, binning, sim_alt, part="even")
    sub_s, jets_s = control_subjets(sim, control, part="odd")
    sub_d, jets_d = control_subjets(data, control, part="odd")
    keep_s, keep_d = sub_s.n_prongs > 0, control.passes(jets_d)
    weights = LundWeights(ratio, sub_s.take(keep_s))
    w = weights.nominal()
    sim_sel = {k: v[keep_s] for k, v in jets_s.items() if isinstance(v, np.ndarray)}
    data_sel = {k: v[keep_d] for k, v in jets_d.items() if isinstance(v, np.ndarray)}

    variations = weights.variations()
    toys = np.concatenate(list(weights.toy_weights(n_toys)), axis=1)
    observables = {}
    for key, (label, bins) in OBSERVABLES.items():
        hd, _ = np.histogram(data_sel[key], bins)
        hs, _ = np.histogram(sim_sel[key], bins)
        hw, _ = np.histogram(sim_sel[key], bins, weights=w)
        hw2, _ = np.histogram(sim_sel[key], bins, weights=w**2)
        band = _correction_band(sim_sel[key], bins, w, variations, toys)
        c0, n0 = chi2(hs, hs.astype(float), hd)
        c1, n1 = chi2(hw, hw2, hd)
        c2, n2 = chi2(hw, hw2, hd, band)
        observables[key] = {
            "label": label,
            "bins": bins.tolist(),
            "data": hd.tolist(),
            "sim": hs.tolist(),
            "reweighted": hw.tolist(),
            "reweighted_w2": hw2.tolist(),
            "band": band.tolist(),
            "chi2_ndf_before": [c0, n0],
            "chi2_ndf_after": [c1, n1],
            "chi2_ndf_after_with_uncertainty": [c2, n2],
            "mean": {
                "data": float(np.mean(data_sel[key])),
                "sim": float(np.mean(sim_sel[key])),
                "reweighted": float(np.average(sim_sel[key], weights=w)),
            },
        }
    cuts = {}
    for name, cut in CUTS.items():
        eff = weights.efficiency(cut(sim_sel), n_toys=n_toys)
        eff_data = float(np.mean(cut(data_sel)))
        lo, hi = efficiency_interval(int(np.sum(cut(data_sel))), len(data_sel["pt"]))
        data_stat = (hi - lo) / 2  # Clopper–Pearson half-width: not 0 when every event (or none) passes
        combined = float(np.sqrt(eff["total"] ** 2 + eff["corrected_stat"] ** 2 + data_stat**2))
        cuts[name] = {
            **eff,
            "data": eff_data,
            "data_stat": data_stat,
            "non_closure": eff["corrected"] - eff_data,
            "non_closure_in_sigma": (eff["corrected"] - eff_data) / combined if combined > 0 else float("nan"),
            "before_in_sigma": (eff["uncorrected"] - eff_data) / float(np.hypot(eff["uncorrected_stat"], data_stat)),
        }
    study = {
        "ratio_from": "even event_id",
        "evaluated_on": "odd event_id",
        "n_jets": {"data": int(keep_d.sum()), "sim": int(keep_s.sum())},
        "observables": observables,
        "cuts": cuts,
        "self_closure": self_closure(ratio.data, sub_d, binning),
    }
    return LundClosure.from_writer(study, "Lund closure study")


def _correction_band(x: np.ndarray, bins: np.ndarray, w: np.ndarray, variations: dict, toys: np.ndarray) -> np.ndarray:
    """Per-bin uncertainty of the reweighted, normalised distribution of x from the correction: the toys'
    standard deviation and each variation's shift, in quadrature."""

    def norm(h):
        return h / np.sum(h, axis=0, keepdims=True)

    idx = np.digitize(x, bins) - 1
    inside = (idx >= 0) & (idx < len(bins) - 1)
    nominal = norm(np.bincount(idx[inside], weights=w[inside], minlength=len(bins) - 1))
    onehot = np.zeros((len(bins) - 1, int(inside.sum())))
    onehot[idx[inside], np.arange(int(inside.sum()))] = 1.0
    var = np.std(norm(onehot @ toys[inside]), axis=1, ddof=1) ** 2
    for v in variations.values():
        var += (norm(np.bincount(idx[inside], weights=v[inside], minlength=len(bins) - 1)) - nominal) ** 2
    return np.sqrt(var)


def self_closure(data_even: LundCounts, sub_odd: Subjets, binning: LundBinning) -> dict:
    """Data's even half (its counts, as measured for the ratio) against its odd half (its subjets): the
    weights should be 1 up to statistics.

    Reported: mean, median and RMS of ln W over the odd half's jets, and the RMS expected from statistics
    alone (each jet's Σ_bins count² · (relative uncertainty of the ratio)², averaged over jets).
    """
    ratio = LundRatio(binning, data_even, LundCounts.of(sub_odd, binning))
    weights = LundWeights(ratio, sub_odd.take(sub_odd.n_prongs > 0))
    w = weights.nominal()
    log_r = np.log(ratio.ratio).reshape(-1)
    # expected spread of ln W from statistics: propagate the per-bin relative uncertainty
    rel = np.minimum(ratio.stat_error().reshape(-1), 1.0)
    expected = np.sqrt(weights.counts.power(2) @ (rel**2))
    return {
        "mean_weight": float(np.mean(w)),
        "median_weight": float(np.median(w)),
        "rms_ln_weight": float(np.sqrt(np.mean(np.log(w) ** 2))),
        "expected_rms_ln_weight_from_statistics": float(np.sqrt(np.mean(expected**2))),
        "max_abs_ln_ratio": float(np.max(np.abs(log_r))),
    }
