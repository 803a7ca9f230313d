"""Profile likelihood for binned signal + background models: ν = μ·s + b(θ).

The background is either fixed (a template, no free parameters) or a dijet function whose
parameters θ are profiled. μ multiplies the signal template; with a template of bin fractions it
is the number of signal events. All test statistics are differences of the Poisson deviance
(= 2 ΔNLL), so they follow Cowan, Cranmer, Gross, Vitells (arXiv:1007.1727).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from iminuit import Minuit

from anomalyscope.core.bumphunt.fit import BackgroundFit, FitError, poisson_deviance
from anomalyscope.core.bumphunt.functions import Quadrature, expected_counts


class FixedBackground:
    n_params = 0

    def __init__(self, b: np.ndarray):
        self.b = np.asarray(b, dtype=float)
        self.start = np.zeros(0)

    def expected(self, theta) -> np.ndarray:
        return self.b


class DijetBackground:
    """The dijet function of a background fit, its parameters free (starting at the fit's values)."""

    def __init__(self, fit: BackgroundFit):
        self.q: Quadrature = fit.quadrature
        self.n_params = fit.order
        self.start = np.concatenate([[fit.total], fit.shape])
        self.step = np.sqrt(np.clip(np.diag(fit.covariance), 1e-12, None))

    def expected(self, theta) -> np.ndarray:
        return expected_counts(self.q, theta[0], np.asarray(theta[1:]))


@dataclass
class FitPoint:
    mu: float
    theta: np.ndarray
    deviance: float
    mu_error: float = float("nan")


class ProfileLikelihood:
    def __init__(self, n_obs: np.ndarray, signal: np.ndarray, background):
        self.n = np.asarray(n_obs, dtype=float)
        self.s = np.asarray(signal, dtype=float)
        self.bkg = background
        if len(self.s) != len(self.n):
            raise FitError(f"likelihood: signal template has {len(self.s)} bins, data {len(self.n)}")

    def deviance(self, mu: float, theta) -> float:
        return poisson_deviance(self.n, mu * self.s + self.bkg.expected(theta))

    def with_data(self, n_obs: np.ndarray) -> "ProfileLikelihood":
        return ProfileLikelihood(n_obs, self.s, self.bkg)

    def fit(
        self, mu: float | None = None, mu_min: float | None = None, mu_start: float = 0.0, theta_start=None
    ) -> FitPoint:
        """Minimise over θ (and μ unless fixed); μ ≥ mu_min when given."""
        th0 = self.bkg.start if theta_start is None else np.asarray(theta_start)
        if mu is not None and self.bkg.n_params == 0:
            return FitPoint(mu, th0, self.deviance(mu, th0))
        names = [f"t{i}" for i in range(self.bkg.n_params)]
        s_tot = max(self.s.sum(), 1e-12)

        def cost(*p):
            return self.deviance(p[0], p[1:])

        m = Minuit(cost, mu if mu is not None else mu_start, *th0, name=["mu"] + names)
        m.errordef = Minuit.LEAST_SQUARES
        m.errors["mu"] = max(np.sqrt(max(self.n.sum(), 1.0)) / s_tot, 1e-3)
        if hasattr(self.bkg, "step"):
            for nm, st in zip(names, self.bkg.step):
                m.errors[nm] = st
        if mu is not None:
            m.fixed["mu"] = True
        elif mu_min is not None:
            m.limits["mu"] = (mu_min, None)
        m.migrad(ncall=20000)
        if not m.valid:
            m.migrad(ncall=40000)  # one retry from where it stopped
        if not m.valid:
            raise FitError(f"likelihood: the fit {'at fixed mu' if mu is not None else 'of mu'} did not converge")
        err = float("nan")
        if mu is None:
            m.hesse()
            err = float(m.errors["mu"])
        return FitPoint(float(m.values["mu"]), np.array(m.values[1:]), float(m.fval), err)

    # ------------------------------------------------------------------ discovery
    def q0(self, signed: bool = False) -> tuple[float, FitPoint]:
        """Discovery statistic q0 = D(μ=0) − D(μ̂). One-sided (q0 = 0 for μ̂ < 0) unless ``signed``,
        where Z = sign(μ̂)·√|q0| is returned as a signed significance (normal under the null)."""
        free = self.fit(mu_min=None if signed else 0.0)
        null = self.fit(mu=0.0, theta_start=free.theta)
        q = max(null.deviance - free.deviance, 0.0)
        if signed:
            return float(np.sign(free.mu) * np.sqrt(q)), free
        return (q if free.mu >= 0 else 0.0), free

    # ------------------------------------------------------------------ limits
    def qtilde(self, mu: float, free: FitPoint) -> float:
        """q̃_μ with μ̂ bounded at 0 (the fit ``free`` must have μ ≥ 0): 0 where μ̂ > μ."""
        if free.mu > mu:
            return 0.0
        fixed = self.fit(mu=mu, theta_start=free.theta)
        return max(fixed.deviance - free.deviance, 0.0)
