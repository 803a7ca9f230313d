"""Flat-efficiency selections: keep the top ε of the score in every m_jj region, so a cut does not
sculpt the background spectrum.

The (1 − ε) quantile of the score is regressed on m_jj (a quadratic in ln m_jj) by minimising the
pinball loss, smoothed at a width of 1% of the score spread so L-BFGS converges in milliseconds
(the exact linear-programming solution takes about a minute for 40k events and agrees within the
statistical precision). The regression is done out of fold: an event's threshold comes from a fit
to the other folds, so no event decides its own cut.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from core.errors import InputError

DEGREE = 2
M_REF = 3000.0


def _basis(mjj: np.ndarray, degree: int) -> np.ndarray:
    t = np.log(np.asarray(mjj, dtype=float) / M_REF) / 0.3
    return np.column_stack([t**k for k in range(degree + 1)])


def quantile_regression(mjj: np.ndarray, score: np.ndarray, quantile: float, degree: int = DEGREE) -> np.ndarray:
    """Coefficients of the ``quantile`` of score given m_jj (polynomial in ln m_jj)."""
    x = _basis(mjj, degree)
    y = np.asarray(score, dtype=float)
    h = max(0.01 * float(np.std(y)), 1e-9)

    def loss(b):
        r = y - x @ b
        z = r / h
        smooth_pos = h * np.logaddexp(0.0, z)  # smooth max(r, 0)
        g = (quantile - 1.0) + expit(z)
        return float(np.mean((quantile - 1.0) * r + smooth_pos)), -(x * g[:, None]).mean(axis=0)

    b0 = np.zeros(degree + 1)
    b0[0] = np.quantile(y, quantile)
    res = minimize(loss, b0, jac=True, method="L-BFGS-B")
    return res.x


def thresholds_out_of_fold(
    mjj: np.ndarray,
    score: np.ndarray,
    efficiencies,
    folds: int = 5,
    seed: int = 0,
    degree: int = DEGREE,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Per-event score thresholds (n, len(efficiencies)); NaN scores (events outside every window)
    get NaN thresholds and are never selected.

    A constant score cannot be cut: every event passes (threshold −inf), as for the inclusive search.
    ``groups`` (e.g. the m_jj window of a windowed method, whose classifiers differ from window to
    window) gets its own regression per group, so each window keeps ε of its events.
    """
    eff = np.asarray(efficiencies, dtype=float)
    if np.any(eff <= 0) or np.any(eff > 1):
        raise InputError(f"efficiencies must lie in (0, 1], got {eff.tolist()}")
    mjj, score = np.asarray(mjj, dtype=float), np.asarray(score, dtype=float)
    groups = np.zeros(len(mjj), dtype=int) if groups is None else np.asarray(groups)
    ok = np.isfinite(score)
    fold = np.random.default_rng(seed).integers(0, folds, len(mjj))
    out = np.full((len(mjj), len(eff)), np.nan)
    for j, e in enumerate(eff):
        if e >= 1.0:
            out[ok, j] = -np.inf
            continue
        for g in np.unique(groups[ok]):
            in_g = ok & (groups == g)
            for k in range(folds):
                train, test = in_g & (fold != k), in_g & (fold == k)
                if train.sum() < 10 or not test.any():
                    continue
                if np.ptp(score[train]) == 0:  # a constant score (the inclusive reference) cuts nothing
                    out[test, j] = -np.inf
                    continue
                beta = quantile_regression(mjj[train], score[train], 1.0 - e, degree)
                out[test, j] = _basis(mjj[test], degree) @ beta
    return out


def select(score: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Boolean (n, n_eff) selections: score above the event's threshold."""
    s = np.asarray(score, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        return np.isfinite(s) & ((s > thresholds) | (thresholds == -np.inf))
