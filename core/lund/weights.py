"""Per-jet (or per-event) Lund-plane weights, their uncertainty variations, and corrected efficiencies.

W = ∏_subjets ∏_splittings ρ(pT_subjet, ln R/ΔR, ln kt) — computed as exp(C · ln ρ) with C the sparse
(row × bin) matrix of splitting counts, so the statistical toys cost one sparse product per block of toys.
A row is a jet, or an event (all its corrected jets: a dijet event weight is the product of its jets').

Variations (each gives its own weights; an efficiency is computed with each):
- ``stat``: Poisson toys of the control-sample counts (the spread of the efficiency over toys);
- ``model``: the ratio measured against the alternative simulation (different shower/hadronisation);
- ``pt_extrapolation``: subjets above the control sample's last pT edge take the ratio fitted linearly
  in ln pT and extrapolated to their pT, instead of the last bin's ratio;
- ``unmatched`` / ``shared``: subjets with no generator quark within the matching radius, or with two
  or more quarks (the prong hypothesis fails for them), left uncorrected (factor 1).
The uncertainty of an efficiency is |ε(variation) − ε(nominal)| per source, the toys' standard deviation
for ``stat``, and their sum in quadrature.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from anomalyscope.core.bumphunt.histogram import efficiency_interval
from anomalyscope.core.lund.ratio import LundRatio
from anomalyscope.core.lund.subjets import SHARED, UNMATCHED, Subjets

N_TOYS = 100
TOY_BLOCK = 20


class LundWeights:
    """Weights of rows (jets or events) under a measured LundRatio."""

    def __init__(self, ratio: LundRatio, subjets: Subjets, rows: np.ndarray | None = None, n_rows: int | None = None):
        """``rows[j]`` is the row of jet j (default: one row per jet)."""
        self.ratio = ratio
        b = ratio.binning
        n_bins = int(np.prod(b.shape))
        rows = np.arange(subjets.n_jets) if rows is None else np.asarray(rows)
        self.n_rows = int(n_rows if n_rows is not None else (rows.max() + 1 if len(rows) else 0))
        flat_bin, owner = b.splitting_bins(subjets)
        row_of_split = rows[subjets.jet[owner]]
        cat = subjets.category[owner]

        def matrix(mask):
            ones = np.ones(int(mask.sum()))
            return sparse.csr_matrix((ones, (row_of_split[mask], flat_bin[mask])), shape=(self.n_rows, n_bins))

        everything = np.ones(len(flat_bin), dtype=bool)
        self.counts = matrix(everything)
        self.counts_unmatched = matrix(cat == UNMATCHED)
        self.counts_shared = matrix(cat == SHARED)
        self.has_truth = bool(np.any(subjets.category >= 0))
        # subjets above the control sample's pT reach: the extrapolated ratio instead of the last bin's
        pt = subjets.pt[owner]
        beyond = pt > b.subjet_pt[-1]
        lund_bin = flat_bin[beyond] % (b.shape[1] * b.shape[2])
        nominal = np.log(ratio.ratio.reshape(-1)[flat_bin[beyond]])
        fitted = np.log(ratio.extrapolated(pt[beyond], lund_bin))
        self.extrapolation_shift = np.bincount(row_of_split[beyond], weights=fitted - nominal, minlength=self.n_rows)
        self.n_subjets_beyond = int(np.sum(subjets.pt > b.subjet_pt[-1]))
        self.n_subjets = len(subjets)
        self.category_counts = {
            "matched": int(np.sum(subjets.category == 0)),
            "unmatched": int(np.sum(subjets.category == UNMATCHED)),
            "shared": int(np.sum(subjets.category == SHARED)),
        }

    # ------------------------------------------------------------------ weights
    def _weights(self, log_ratio: np.ndarray, matrix=None) -> np.ndarray:
        m = self.counts if matrix is None else matrix
        w = np.exp(m @ log_ratio.reshape(-1))
        return w / w.mean() if len(w) else w

    def nominal(self) -> np.ndarray:
        """Weights normalised to mean 1 (the correction changes shapes and efficiencies, not the yield)."""
        return self._weights(np.log(self.ratio.ratio))

    def variations(self) -> dict[str, np.ndarray]:
        """Weights under each systematic variation (see the module docstring)."""
        log_r = np.log(self.ratio.ratio).reshape(-1)
        out = {}
        if self.ratio.sim_alt is not None:
            out["model"] = self._weights(np.log(self.ratio.ratio_alt))
        raw = self.counts @ log_r
        out["pt_extrapolation"] = _normalised(np.exp(raw + self.extrapolation_shift))
        if self.has_truth:
            out["unmatched"] = _normalised(np.exp(raw - self.counts_unmatched @ log_r))
            out["shared"] = _normalised(np.exp(raw - self.counts_shared @ log_r))
        return out

    def toy_weights(self, n_toys: int = N_TOYS, seed: int = 0):
        """Blocks of toy weights, each (n_rows, block) — never all toys at once (1M rows × 100 toys is 800 MB)."""
        toys = np.log(self.ratio.toys(n_toys, seed)).reshape(n_toys, -1)
        for start in range(0, n_toys, TOY_BLOCK):
            block = np.exp(self.counts @ toys[start : start + TOY_BLOCK].T)
            yield block / block.mean(axis=0, keepdims=True)

    # ------------------------------------------------------------------ efficiencies
    def efficiency(self, passed: np.ndarray, n_toys: int = N_TOYS, seed: int = 0) -> dict:
        """Efficiency of a selection (``passed`` per row) before and after the correction, with uncertainties."""
        out = weighted_efficiency(passed, self.nominal(), self.variations(), self.toy_weights(n_toys, seed))
        out.update(
            n_subjets=self.n_subjets,
            subjet_categories=self.category_counts,
            n_subjets_beyond_pt_range=self.n_subjets_beyond,
        )
        return out

    def table(self, n_toys: int = N_TOYS, seed: int = 0) -> dict[str, np.ndarray]:
        """All weights as columns (nominal, one per variation, toys as an (n_rows, n_toys) float32 array),
        for storing with a Run so efficiencies at any cut are computed later without the subjets."""
        toys = np.concatenate(list(self.toy_weights(n_toys, seed)), axis=1).astype(np.float32)
        return {"nominal": self.nominal(), **self.variations(), "toys": toys}


def _half_width(k: int, n: int) -> float:
    """Half the Clopper–Pearson 68% interval of k/n (not 0 at k = 0 or k = n); NaN without events."""
    if not n:
        return float("nan")
    lo, hi = efficiency_interval(k, n)
    return (hi - lo) / 2


def weighted_efficiency(passed, nominal: np.ndarray, variations: dict, toy_blocks) -> dict:
    """ε = Σw·pass/Σw with nominal weights, its uncertainty per source and in total, and the uncorrected ε."""
    passed = np.asarray(passed, dtype=bool)
    if passed.shape != nominal.shape:
        raise ValueError(f"passed has shape {passed.shape}, the weights {nominal.shape}")

    def eff(w):
        return float(np.sum(w * passed) / np.sum(w))

    corrected = eff(nominal)
    toy_eff = np.concatenate([(b * passed[:, None]).sum(0) / b.sum(0) for b in toy_blocks])
    unc = {"stat": float(np.std(toy_eff, ddof=1))}
    for name, w in variations.items():
        unc[name] = abs(eff(w) - corrected)
    total = float(np.sqrt(sum(u**2 for u in unc.values())))
    n = len(passed)
    raw = float(passed.mean()) if n else float("nan")
    # statistical uncertainty of the weighted sample itself (not part of the correction's uncertainty)
    mc_stat = float(np.sqrt(np.sum(nominal**2 * (passed - corrected) ** 2)) / np.sum(nominal))
    return {
        "uncorrected": raw,
        "uncorrected_stat": _half_width(int(passed.sum()), n),
        "corrected": corrected,
        "corrected_stat": mc_stat,
        "uncertainty": unc,
        "total": total,
        "relative_total": total / corrected if corrected > 0 else float("nan"),
        "scale_factor": corrected / raw if raw > 0 else float("nan"),
        "n_rows": n,
    }


def _normalised(w: np.ndarray) -> np.ndarray:
    return w / w.mean() if len(w) else w
