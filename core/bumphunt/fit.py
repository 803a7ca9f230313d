"""Binned Poisson-likelihood fits of the dijet functions with iminuit, F-test and goodness of fit.

The fit minimises the Poisson deviance D = 2 Σ [ν − n + n ln(n/ν)] (twice the negative log-likelihood
relative to the saturated model), so errordef = 1 and D at the minimum is itself a goodness-of-fit
statistic. Several starting points are tried (the log-linear solution and perturbations of it) and
the best valid minimum is kept. Every failure raises ``FitError`` with the reason: the dashboard
shows that message instead of a curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from iminuit import Minuit
from scipy import stats

from core.bumphunt.functions import ORDERS, SQRT_S, Quadrature, expected_counts, linear_start, p0_from_total
from core.bumphunt.histogram import Spectrum
from core.errors import InputError

MIN_EVENTS = 20


class FitError(InputError):
    """A fit that cannot be done or did not converge; the message says why."""


def poisson_deviance(n: np.ndarray, nu: np.ndarray) -> float:
    if np.any(~np.isfinite(nu)) or np.any(nu <= 0):
        return 1e30
    t = nu - n
    pos = n > 0
    t[pos] += n[pos] * np.log(n[pos] / nu[pos])
    return float(2.0 * t.sum())


@dataclass
class BackgroundFit:
    spectrum: Spectrum
    order: int
    total: float
    shape: np.ndarray
    covariance: np.ndarray  # of (total, shape...)
    deviance: float
    expected: np.ndarray
    quadrature: Quadrature = field(repr=False)

    @property
    def n_bins(self) -> int:
        return len(self.spectrum.counts)

    @property
    def ndf(self) -> int:
        return self.n_bins - self.order

    @property
    def chi2(self) -> float:
        """Pearson χ² = Σ (n − ν)²/ν over the fitted bins."""
        return float(np.sum((self.spectrum.counts - self.expected) ** 2 / self.expected))

    @property
    def chi2_pvalue(self) -> float:
        return float(stats.chi2.sf(self.chi2, self.ndf)) if self.ndf > 0 else float("nan")

    @property
    def pulls(self) -> np.ndarray:
        """(n − ν)/√ν per bin."""
        return (self.spectrum.counts - self.expected) / np.sqrt(self.expected)

    @property
    def p0(self) -> float:
        return p0_from_total(self.quadrature, self.total, self.shape)

    @property
    def params(self) -> np.ndarray:
        """Conventional parameters (p0, p1, ...) of the dijet function."""
        return np.concatenate([[self.p0], self.shape])

    def summary(self) -> dict:
        return {
            "order": self.order,
            "chi2": self.chi2,
            "ndf": self.ndf,
            "chi2_pvalue": self.chi2_pvalue,
            "deviance": self.deviance,
            "params": self.params.tolist(),
            "n_bins": self.n_bins,
        }


def check_spectrum(spec: Spectrum, n_params: int) -> None:
    if spec.total == 0:
        raise FitError("fit: the histogram is empty")
    if spec.total < MIN_EVENTS:
        raise FitError(f"fit: only {spec.total:g} events in the fit range; at least {MIN_EVENTS} are needed")
    nonzero = int(np.sum(spec.counts > 0))
    if nonzero <= n_params:
        raise FitError(f"fit: {nonzero} non-empty bins cannot constrain {n_params} parameters")
    if spec.edges[-1] >= SQRT_S:
        raise FitError(f"fit: the range must end below √s = {SQRT_S:g} GeV")


def fit_background(spec: Spectrum, order: int = 4, n_starts: int = 4, seed: int = 0) -> BackgroundFit:
    """Fit one dijet function (3, 4 or 5 parameters) to the spectrum; the best of several starts."""
    if order not in ORDERS:
        raise FitError(f"fit: order must be one of {ORDERS}, got {order}")
    check_spectrum(spec, order)
    q = Quadrature(spec.edges)
    n = spec.counts
    start = linear_start(q, n, spec.widths, order)
    rng = np.random.default_rng(seed)
    starts = [start] + [start * (1 + 0.2 * rng.standard_normal(len(start))) for _ in range(n_starts - 1)]

    def cost(*theta):
        return poisson_deviance(n, expected_counts(q, theta[0], np.asarray(theta[1:])))

    best = None
    for s in starts:
        m = Minuit(cost, spec.total, *s, name=["total"] + [f"p{k + 1}" for k in range(order - 1)])
        m.errordef = Minuit.LEAST_SQUARES
        m.limits["total"] = (0, None)
        m.strategy = 1
        m.migrad(ncall=20000)
        if m.valid and (best is None or m.fval < best.fval - 1e-9):
            best = m
    if best is None:
        raise FitError(f"fit: the {order}-parameter fit did not converge from {n_starts} starting points")
    best.hesse()
    theta = np.array(best.values)
    expected = expected_counts(q, theta[0], theta[1:])
    return BackgroundFit(
        spec, order, float(theta[0]), theta[1:], np.array(best.covariance), float(best.fval), expected, q
    )


@dataclass
class FTestResult:
    chosen: BackgroundFit
    fits: dict  # order -> BackgroundFit
    tests: list  # (order_low, order_high, F, p-value)
    alpha: float


def f_test(spec: Spectrum, orders=ORDERS, alpha: float = 0.05) -> FTestResult:
    """Choose the number of parameters: add one while the Fisher F-test says it improves the fit
    significantly (p < alpha), with F = [(D₁ − D₂)/(k₂ − k₁)] / [D₂/(N − k₂)] on the Poisson deviances."""
    fits, tests = {}, []
    for k in orders:
        try:
            fits[k] = fit_background(spec, k)
        except FitError:
            if not fits:
                raise
            break
    ks = sorted(fits)
    chosen = fits[ks[0]]
    for lo, hi in zip(ks, ks[1:]):
        d1, d2 = fits[lo].deviance, fits[hi].deviance
        ndf2 = fits[hi].ndf
        if ndf2 <= 0:
            break
        f = max(d1 - d2, 0.0) / (hi - lo) / max(d2 / ndf2, 1e-12)
        p = float(stats.f.sf(f, hi - lo, ndf2))
        tests.append((lo, hi, f, p))
        if p < alpha:
            chosen = fits[hi]
        else:
            break
    return FTestResult(chosen, fits, tests, alpha)
