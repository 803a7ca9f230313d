"""95% CL upper limits on the signal strength with the asymptotic CLs method (q̃_μ, arXiv:1007.1727).

CLs(μ) = p_{s+b} / p_b with, for t = √q̃_μ and the Asimov t_A = √q̃_{μ,A} of the background-only
Asimov data set (background parameters fitted to the observed data at μ = 0):

    statistic  u = t − t_A                    if q̃_μ ≤ q̃_{μ,A}
               u = (q̃_μ − q̃_{μ,A}) / (2 t_A)  otherwise
    p_{s+b} = 1 − Φ(u + t_A),   p_b = 1 − Φ(u).

Under the background-only hypothesis u ~ N(0, 1). The expected limit band "+N σ" (the weaker, higher
limit) solves CLs = 1 − CL with u = −N; "−N σ" with u = +N. This matches pyhf's expected set, whose
entries run from the −2σ to the +2σ band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from anomalyscope.core.bumphunt.fit import FitError
from anomalyscope.core.bumphunt.likelihood import ProfileLikelihood

BANDS = (-2, -1, 0, 1, 2)


def _cls_from(q: float, q_a: float) -> float:
    t, t_a = np.sqrt(q), np.sqrt(max(q_a, 1e-16))
    u = t - t_a if q <= q_a else (q - q_a) / (2 * t_a)
    p_sb = ndtr(-(u + t_a))  # the normal upper tail
    p_b = ndtr(-u)
    return float(p_sb / p_b) if p_b > 0 else 1.0


def _cls_expected(q_a: float, n_sigma: float) -> float:
    t_a = np.sqrt(max(q_a, 1e-16))
    u = -n_sigma
    return float(ndtr(-(u + t_a)) / ndtr(-u))


@dataclass
class CLsLimit:
    observed: float
    expected: dict  # n_sigma -> μ limit
    cl: float

    def to_dict(self) -> dict:
        return {"observed": self.observed, "expected": {str(k): v for k, v in self.expected.items()}, "cl": self.cl}


class CLsCalculator:
    def __init__(self, pl: ProfileLikelihood):
        self.pl = pl
        self.free = pl.fit(mu_min=0.0)
        null = pl.fit(mu=0.0, theta_start=self.free.theta)
        self.asimov = pl.with_data(pl.bkg.expected(null.theta))
        self.asimov_free = self.asimov.fit(mu=0.0, theta_start=null.theta)

    def q_obs(self, mu: float) -> float:
        return self.pl.qtilde(mu, self.free)

    def q_asimov(self, mu: float) -> float:
        fixed = self.asimov.fit(mu=mu, theta_start=self.asimov_free.theta)
        return max(fixed.deviance - self.asimov_free.deviance, 0.0)

    def cls(self, mu: float) -> float:
        return _cls_from(self.q_obs(mu), self.q_asimov(mu))

    def cls_expected(self, mu: float, n_sigma: float) -> float:
        return _cls_expected(self.q_asimov(mu), n_sigma)


def _solve(f, target: float, start: float) -> float:
    lo, hi = 0.0, max(start, 1e-6)
    for _ in range(60):
        if f(hi) < target:
            break
        lo, hi = hi, hi * 2
    else:
        raise FitError("limits: CLs never dropped below the target; the signal template may be empty")
    from scipy.optimize import brentq

    return float(brentq(lambda m: f(m) - target, lo if lo > 0 else hi * 1e-6, hi, rtol=1e-5))


def cls_limit(pl: ProfileLikelihood, cl: float = 0.95) -> CLsLimit:
    """Observed and expected (±1σ, ±2σ) upper limits on μ at confidence level ``cl``."""
    calc = CLsCalculator(pl)
    target = 1.0 - cl
    s = max(pl.s.sum(), 1e-12)
    b = max(pl.bkg.expected(calc.free.theta).sum(), 1.0)
    start = 3 * np.sqrt(b) / s + 3 / s
    observed = _solve(calc.cls, target, start)
    expected = {n: _solve(lambda m, n=n: calc.cls_expected(m, n), target, start) for n in BANDS}
    return CLsLimit(observed, expected, cl)
