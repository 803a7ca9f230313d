"""The standard dijet background functions, with x = m_jj/√s:

    3 parameters: p0 (1−x)^p1 / x^p2
    4 parameters: p0 (1−x)^p1 / x^(p2 + p3 ln x)
    5 parameters: p0 (1−x)^p1 / x^(p2 + p3 ln x + p4 ln²x)

Expected counts per bin are integrals of the density over the bin (5-point Gauss–Legendre per bin,
exact to < 1e-6 for these smooth functions on resolution-sized bins). Internally the fit uses the
total yield instead of p0 (p0 follows from it), which decorrelates the normalisation from the shape.
"""

from __future__ import annotations

import numpy as np

SQRT_S = 13000.0
ORDERS = (3, 4, 5)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(5)


class Quadrature:
    """Gauss–Legendre nodes for a fixed set of bins, reused by every evaluation of a fit."""

    def __init__(self, edges: np.ndarray, sqrt_s: float = SQRT_S):
        edges = np.asarray(edges, dtype=float)
        lo, hi = edges[:-1], edges[1:]
        half = 0.5 * (hi - lo)
        self.m = (0.5 * (hi + lo))[:, None] + half[:, None] * _GL_X[None, :]
        self.w = half[:, None] * _GL_W[None, :]
        self.x = self.m / sqrt_s
        self.log_x = np.log(self.x)
        self.log_1mx = np.log1p(-self.x)
        self.sqrt_s = sqrt_s


def _log_shape(q: Quadrature, shape_params: np.ndarray) -> np.ndarray:
    """ln of the unnormalised density (p0 = 1) at the quadrature nodes; shape_params = (p1, p2, ...)."""
    p = np.asarray(shape_params, dtype=float)
    expo = p[1] * np.ones_like(q.log_x)
    lx_power = q.log_x
    for k in range(2, len(p)):
        expo = expo + p[k] * lx_power
        lx_power = lx_power * q.log_x
    return p[0] * q.log_1mx - expo * q.log_x


def bin_integrals(q: Quadrature, shape_params: np.ndarray) -> np.ndarray:
    """∫ over each bin of the density with p0 = 1 (dm in GeV)."""
    ls = _log_shape(q, shape_params)
    with np.errstate(over="ignore"):  # a wild trial point overflows to inf; the fit rejects it
        return np.sum(np.exp(ls) * q.w, axis=1)


def expected_counts(q: Quadrature, total: float, shape_params: np.ndarray) -> np.ndarray:
    """Expected counts per bin for a total yield over the fitted bins."""
    integ = bin_integrals(q, shape_params)
    with np.errstate(over="ignore"):
        s = integ.sum()
    if not np.isfinite(s) or s <= 0:
        return np.full(len(integ), np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        return total * integ / s


def p0_from_total(q: Quadrature, total: float, shape_params: np.ndarray) -> float:
    """The conventional p0 [events/GeV] that gives ``total`` events in the fitted bins."""
    return float(total / bin_integrals(q, shape_params).sum())


def falling_start(order: int) -> np.ndarray:
    """A generic steeply falling dijet shape, (1 − x)^10 / x^5: a start that does not depend on the counts."""
    return np.array([10.0, 5.0] + [0.0] * (order - 3))


def linear_start(q: Quadrature, counts: np.ndarray, widths: np.ndarray, order: int) -> np.ndarray:
    """Starting shape parameters from a weighted linear fit of ln(dN/dm) — the functions are linear
    in their parameters after the log, so this lands close to the likelihood minimum."""
    ok = counts > 0
    xc = np.sum(q.x * q.w, axis=1) / np.sum(q.w, axis=1)
    y = np.log(counts[ok] / widths[ok])
    lx = np.log(xc[ok])
    cols = [np.ones(ok.sum()), np.log1p(-xc[ok]), -lx]
    for k in range(1, order - 2):
        cols.append(-(lx ** (k + 1)))
    a = np.column_stack(cols)
    w = np.sqrt(counts[ok])
    if ok.sum() < order:
        return falling_start(order)
    sol, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    return sol[1:]
