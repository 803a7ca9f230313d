"""How the methods complement each other: correlations of their scores and overlaps of their selections.

Small correlations and overlaps mean the methods look at the data differently, which is why the CMS
search ran five of them. Windowed methods' scores are comparable only inside one m_jj window, so a
Run quotes these numbers in its evaluation window (where the signal sample peaks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def informative(scores: dict[str, np.ndarray]) -> list[str]:
    """Methods whose scores vary (a constant score, e.g. the inclusive baseline, correlates with nothing)."""
    return [m for m, s in scores.items() if np.sum(np.isfinite(s)) > 2 and np.nanstd(s) > 0]


def score_correlations(scores: dict[str, np.ndarray], kind: str = "pearson") -> pd.DataFrame:
    """Matrix of Pearson or Spearman coefficients between methods' scores over the same events
    (pairwise over events where both scores are finite)."""
    if kind not in ("pearson", "spearman"):
        raise ValueError(f"correlation kind must be 'pearson' or 'spearman', got '{kind}'")
    names = informative(scores)
    return pd.DataFrame({m: scores[m] for m in names}).corr(method=kind)


def top_fraction(score: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the events among the top ``fraction`` of finite scores (at least one event)."""
    ok = np.isfinite(score)
    n = max(1, int(round(fraction * ok.sum())))
    order = np.argsort(np.where(ok, score, -np.inf))[::-1][:n]
    mask = np.zeros(len(score), dtype=bool)
    mask[order] = True
    return mask


def jaccard(selections: dict[str, np.ndarray]) -> pd.DataFrame:
    """|A ∩ B| / |A ∪ B| of every pair of selections (boolean masks over the same events)."""
    names = list(selections)
    mat = [
        [np.sum(selections[a] & selections[b]) / max(np.sum(selections[a] | selections[b]), 1) for b in names]
        for a in names
    ]
    return pd.DataFrame(mat, index=names, columns=names)


def complementarity(samples: dict[str, dict[str, np.ndarray]], top: float = 0.01) -> dict:
    """For each sample (e.g. background, signal, data: method → scores over the same events), Pearson
    and Spearman matrices and the Jaccard overlap of each method's top ``top`` fraction."""
    out = {"top_fraction": top}
    for sample, scores in samples.items():
        names = informative(scores)
        if len(names) < 2:
            continue
        out[sample] = {
            "n_events": int(len(next(iter(scores.values())))),
            "methods": names,
            "pearson": score_correlations(scores, "pearson").values.round(4).tolist(),
            "spearman": score_correlations(scores, "spearman").values.round(4).tolist(),
            "jaccard_top": jaccard({m: top_fraction(scores[m], top) for m in names}).values.round(4).tolist(),
        }
    return out
