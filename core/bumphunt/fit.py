"""Binned Poisson-likelihood fits of the dijet functions with iminuit, F-test and goodness of fit.

The fit minimises the Poisson deviance D = 2 Σ [ν − n + n ln(n/ν)] (twice the negative log-likelihood
relative to the saturated model), so D at the minimum is itself a goodness-of-fit statistic. Several
starting points are tried (the log-linear solution and perturbations of it) and the best minimum is
kept. (An iminuit version stalled above the minimum on some toys; the batched fitter does not.) Every failure raises ``FitError`` with the reason: the dashboard
shows that message instead of a curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import chdtrc, fdtrc

from anomalyscope.core.bumphunt.fastfit import design, fisher_information, fit_batch
from anomalyscope.core.bumphunt.functions import (
    ORDERS,
    SQRT_S,
    Quadrature,
    bin_integrals,
    falling_start,
    linear_start,
    p0_from_total,
)
from anomalyscope.core.bumphunt.histogram import Spectrum
from anomalyscope.core.errors import FitError, InputError
from anomalyscope.core.records import Record

MIN_EVENTS = 20
MAX_SHAPE_PARAMETER = 500.0  # |p_k| beyond this the dijet function is degenerate (fits empty tails exactly)


def poisson_deviance(n: np.ndarray, nu: np.ndarray) -> float:
    if np.any(~np.isfinite(nu)) or np.any(nu <= 0):
        return 1e30
    t = nu - n
    pos = n > 0
    t[pos] += n[pos] * np.log(n[pos] / nu[pos])
    return float(2.0 * t.sum())


def pulls(counts, expected) -> np.ndarray:
    """(n − ν)/√ν per bin: observed counts against a fitted background."""
    nu = np.asarray(expected, dtype=float)
    return (np.asarray(counts, dtype=float) - nu) / np.sqrt(nu)


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
        return float(chdtrc(self.ndf, self.chi2)) if self.ndf > 0 else float("nan")

    @property
    def pulls(self) -> np.ndarray:
        return pulls(self.spectrum.counts, self.expected)

    @property
    def p0(self) -> float:
        return p0_from_total(self.quadrature, self.total, self.shape)

    @property
    def params(self) -> np.ndarray:
        """Conventional parameters (p0, p1, ...) of the dijet function."""
        return np.concatenate([[self.p0], self.shape])

    def summary(self) -> FitSummary:
        return FitSummary(
            self.order, self.chi2, self.ndf, self.chi2_pvalue, float(self.deviance), self.params.tolist(), self.n_bins
        )


@dataclass(frozen=True)
class FitSummary(Record):
    """A background fit as stored (search.json, ``bump_hunt``'s output): the dijet function of ``order``
    parameters and its goodness of fit."""

    order: int
    chi2: float
    ndf: int
    chi2_pvalue: float
    deviance: float
    params: list[float]
    n_bins: int


def _check_spectrum(spec: Spectrum, n_params: int) -> None:
    if spec.total == 0:
        raise FitError("fit: the histogram is empty")
    if spec.total < MIN_EVENTS:
        raise FitError(f"fit: only {spec.total:g} events in the fit range; at least {MIN_EVENTS} are needed")
    nonzero = int(np.sum(spec.counts > 0))
    if nonzero <= n_params:
        raise FitError(f"fit: {nonzero} non-empty bins cannot constrain {n_params} parameters")
    if spec.edges[-1] >= SQRT_S:
        raise InputError(f"fit: the range must end below √s = {SQRT_S:g} GeV")


def fit_background(spec: Spectrum, order: int = 4, n_starts: int = 4, seed: int = 0) -> BackgroundFit:
    """Fit one dijet function (3, 4 or 5 parameters) to the spectrum; the best of several starts.

    The starts (the log-linear solution, perturbations of it, and a generic falling shape) are minimised
    together by the batched Fisher-scoring fitter of ``fastfit``; the covariance of (total, shape) is the
    inverse expected information at the minimum. The generic start matters for sparse spectra (a tight cut):
    a log-linear fit through a few low-mass bins can extrapolate to a *rising* function, from which the
    fitter cannot find the falling one (seen: 24 events, a fit that put them all in the last bin).
    """

    if order not in ORDERS:
        raise InputError(f"fit: order must be one of {ORDERS}, got {order}")
    _check_spectrum(spec, order)
    q = Quadrature(spec.edges)
    n = spec.counts
    start = linear_start(q, n, spec.widths, order)
    rng = np.random.default_rng(seed)
    starts = [start] + [start * (1 + 0.2 * rng.standard_normal(len(start))) for _ in range(n_starts - 1)]
    starts.append(falling_start(order))
    thetas = []
    for s in starts:  # ln p0 that gives the observed total for this shape
        integ = bin_integrals(q, s).sum()
        with np.errstate(over="ignore", divide="ignore"):
            ln_p0 = np.log(spec.total / integ) if np.isfinite(integ) and integ > 0 else np.nan
        if np.isfinite(ln_p0):
            thetas.append(np.concatenate([[ln_p0], s]))
    if not thetas:
        raise FitError(f"fit: no usable starting point for the {order}-parameter fit")
    a = design(q, order)
    theta, _, dev, _ = fit_batch(np.broadcast_to(n, (len(thetas), len(n))), a, q.w, np.array(thetas))
    best = int(np.argmin(dev))
    if not np.isfinite(dev[best]):
        raise FitError(f"fit: the {order}-parameter fit did not converge from {len(thetas)} starting points")
    th = theta[best]
    shape = th[1:]
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.sum(q.w * np.exp(np.einsum("k,bqk->bq", th, a)), axis=1)
    total = float(expected.sum())
    if not np.all(np.isfinite(expected)) or np.any(np.abs(shape) > MAX_SHAPE_PARAMETER):
        raise FitError(
            f"fit: the {order}-parameter fit ran away (parameters {np.round(shape, 1).tolist()}); the spectrum "
            "cannot constrain that many"
        )
    info = fisher_information(a, q.w, th, expected)
    try:
        cov_th = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        raise FitError(f"fit: the {order}-parameter fit has a singular covariance") from None
    # (ln p0, shape) → (total, shape): d total/d ln p0 = total, d total/d shape = Σ_b ∂ν_b/∂shape
    jac = np.eye(order)
    grad_nu = np.einsum("bq,bqk->bk", np.exp(np.einsum("k,bqk->bq", th, a)) * q.w, a)
    jac[0] = grad_nu.sum(axis=0)
    cov = jac @ cov_th @ jac.T
    return BackgroundFit(spec, order, total, shape, cov, float(dev[best]), expected, q)


@dataclass
class FTestResult:
    chosen: BackgroundFit
    fits: dict  # order -> BackgroundFit
    tests: list  # (order_low, order_high, F, p-value)
    alpha: float


F_TEST_ALPHA = 0.05  # a higher order is taken when it improves the fit with p below this


def f_test(spec: Spectrum, orders=ORDERS, alpha: float = F_TEST_ALPHA) -> FTestResult:
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
        p = float(fdtrc(hi - lo, ndf2, f))
        tests.append((lo, hi, f, p))
        if p < alpha:
            chosen = fits[hi]
        else:
            break
    return FTestResult(chosen, fits, tests, alpha)


def deviance_pvalue(fit: BackgroundFit) -> float:
    """Goodness of fit from the Poisson deviance (≈ χ²(ndf)); unlike Pearson's χ² it is not inflated by
    the nearly empty bins of the high-mass tail."""
    return float(chdtrc(fit.ndf, fit.deviance)) if fit.ndf > 0 else float("nan")
