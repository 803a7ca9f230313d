"""Signal m_jj shapes: Gaussian or double-sided Crystal Ball fits per mass point, interpolated in mass.

The double-sided Crystal Ball (the CMS dijet signal shape) is a Gaussian core (μ, σ) with power-law
tails below μ − α_L σ and above μ + α_R σ, exponents n_L, n_R. Fits are unbinned maximum likelihood
(iminuit) with the density normalised numerically over the fit range. Between mass points the
parameters are interpolated linearly in mass, with μ and σ taken relative to the mass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from iminuit import Minuit

from anomalyscope.core.errors import InputError

RESOLUTION = 0.05  # σ/m of the dijet mass: the Gaussian signal shape and the sliding windows (the search's default)

KINDS = ("gauss", "dscb")
PARAMS = {"gauss": ("mu", "sigma"), "dscb": ("mu", "sigma", "alpha_l", "n_l", "alpha_r", "n_r")}


def dscb(x, mu, sigma, alpha_l, n_l, alpha_r, n_r):
    """Unnormalised double-sided Crystal Ball. Each power-law tail is written as
    exp(-α²/2)·(n/α / (n/α − α + |t|))ⁿ, a number ≤ exp(-α²/2) where it applies, so no large power of n/α is
    formed (and the branch np.where discards is not evaluated at a pole)."""
    t = (np.asarray(x, dtype=float) - mu) / sigma
    out = np.exp(-0.5 * t**2)
    for side, alpha, n in ((t < -alpha_l, alpha_l, n_l), (t > alpha_r, alpha_r, n_r)):
        if np.any(side):
            u = np.where(side, np.abs(t), alpha)
            tail = np.exp(-0.5 * alpha**2) * ((n / alpha) / (n / alpha - alpha + u)) ** n
            out = np.where(side, tail, out)
    return out


def gauss(x, mu, sigma):
    return np.exp(-0.5 * ((np.asarray(x, dtype=float) - mu) / sigma) ** 2)


_FUNCS = {"gauss": gauss, "dscb": dscb}


@dataclass(frozen=True)
class SignalShape:
    kind: str
    params: dict
    errors: dict
    mass: float  # the resonance mass this shape belongs to
    fit_range: tuple

    def pdf(self, x: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
        """Density normalised to 1 over [lo, hi] (default: the fit range)."""
        lo, hi = self.fit_range if lo is None else (lo, hi)
        grid = np.linspace(lo, hi, 4001)
        f = _FUNCS[self.kind]
        norm = np.trapezoid(f(grid, **self.params), grid)
        return f(x, **self.params) / norm

    def bin_fractions(self, edges: np.ndarray) -> np.ndarray:
        """Fraction of the signal (normalised over the fit range) in each bin of ``edges``."""
        edges = np.asarray(edges, dtype=float)
        lo, hi = self.fit_range
        grid = np.linspace(min(lo, edges[0]), max(hi, edges[-1]), 20001)
        f = _FUNCS[self.kind](grid, **self.params)
        inside = (grid >= lo) & (grid <= hi)
        norm = np.trapezoid(np.where(inside, f, 0.0), grid)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(grid))]) / norm
        return np.diff(np.interp(edges, grid, cdf))


def fit_signal_shape(mjj: np.ndarray, mass: float, kind: str = "dscb", fit_range: tuple | None = None) -> SignalShape:
    """Unbinned fit of a signal sample's m_jj [GeV] to a Gaussian or double-sided Crystal Ball."""
    if kind not in KINDS:
        raise InputError(f"signal shape: kind must be one of {KINDS}, got '{kind}'")
    mjj = np.asarray(mjj, dtype=float)
    lo, hi = fit_range or (0.5 * mass, 1.5 * mass)
    x = mjj[(mjj >= lo) & (mjj <= hi)]
    if len(x) < 50:
        raise InputError(f"signal shape: {len(x)} events in {lo:g}–{hi:g} GeV; at least 50 are needed")
    med = float(np.median(x))
    core = x[np.abs(x - med) < 2.5 * 1.4826 * np.median(np.abs(x - med))]
    sigma0 = float(np.std(core)) or 0.05 * mass
    grid = np.linspace(lo, hi, 4001)
    f = _FUNCS[kind]

    def density(xx, *p):
        return f(xx, *p) / np.trapezoid(f(grid, *p), grid)

    start = {"gauss": (med, sigma0), "dscb": (med, sigma0, 1.0, 5.0, 1.5, 10.0)}[kind]
    from iminuit.cost import UnbinnedNLL  # here: it imports numba (0.15 s), which a page needs not

    m = Minuit(UnbinnedNLL(x, density), *start, name=PARAMS[kind])
    m.limits["mu"] = (lo, hi)
    m.limits["sigma"] = (1e-3 * mass, 0.5 * mass)
    if kind == "dscb":
        for k in ("alpha_l", "alpha_r"):
            m.limits[k] = (0.2, 5.0)
        for k in ("n_l", "n_r"):
            m.limits[k] = (1.01, 100.0)
    m.migrad()
    if not m.valid:
        raise InputError(f"signal shape: the {kind} fit at m = {mass:g} GeV did not converge")
    m.hesse()
    return SignalShape(
        kind,
        dict(zip(PARAMS[kind], map(float, m.values))),
        dict(zip(PARAMS[kind], map(float, m.errors))),
        float(mass),
        (float(lo), float(hi)),
    )


class SignalModel:
    """Shapes at several masses; ``at(mass)`` interpolates (μ/m and σ/m, tails linearly in m)."""

    def __init__(self, shapes: list[SignalShape]):
        if not shapes:
            raise InputError("signal model: needs at least one fitted mass point")
        kinds = {s.kind for s in shapes}
        if len(kinds) != 1:
            raise InputError(f"signal model: mixed shape kinds {sorted(kinds)}")
        self.kind = kinds.pop()
        self.shapes = sorted(shapes, key=lambda s: s.mass)
        self.masses = np.array([s.mass for s in self.shapes])

    def at(self, mass: float) -> SignalShape:
        rel = {}
        for name in PARAMS[self.kind]:
            vals = np.array([s.params[name] / (s.mass if name in ("mu", "sigma") else 1.0) for s in self.shapes])
            rel[name] = float(np.interp(mass, self.masses, vals))
        params = {k: v * (mass if k in ("mu", "sigma") else 1.0) for k, v in rel.items()}
        ref = self.shapes[int(np.argmin(np.abs(self.masses - mass)))]
        scale = mass / ref.mass
        return SignalShape(self.kind, params, {}, float(mass), (ref.fit_range[0] * scale, ref.fit_range[1] * scale))

    def templates(self, masses, edges: np.ndarray) -> np.ndarray:
        """(masses, bins) fractions of the signal in each bin, one row per mass hypothesis."""
        return np.array([self.at(m).bin_fractions(edges) for m in masses]).reshape(-1, len(edges) - 1)

    @classmethod
    def gaussian(cls, resolution: float = RESOLUTION, masses=(1000.0, 10000.0)) -> "SignalModel":
        """A generic narrow resonance: a Gaussian of relative width ``resolution``."""
        return cls(
            [SignalShape("gauss", {"mu": m, "sigma": resolution * m}, {}, m, (0.5 * m, 1.5 * m)) for m in masses]
        )
