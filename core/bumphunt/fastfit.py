"""Batched profile-likelihood fits for pseudo-experiments: thousands of dijet fits at once in numpy.

The look-elsewhere toys and the injection scan refit the same spectrum shape hundreds of times per
selection; one iminuit fit per toy and mass would take most of an hour for a Run. Here every toy (and
every mass hypothesis) is fitted together by Fisher scoring on the Poisson likelihood:

    ν_b(θ, μ) = Σ_q w_bq exp(A_bq · θ) + μ s_b,   A_bq = (1, ln(1−x), −ln x, −ln²x, −ln³x)[:order]

(the dijet function of ``functions.py`` integrated with the same Gauss–Legendre nodes; θ₀ = ln p0).
Each step solves (Σ_b J Jᵀ/ν) δ = Σ_b (n/ν − 1) J with J = ∂ν/∂(θ, μ), halving it until the deviance
falls. The minima agree with iminuit's where iminuit converges (tested: |ΔZ| < 0.02) and are lower where it
stalls; μ is free in sign, so Z = sign(μ̂)·√q0 is
the signed significance of ``ProfileLikelihood.q0(signed=True)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from anomalyscope.core.bumphunt.functions import Quadrature

if TYPE_CHECKING:
    from anomalyscope.core.bumphunt.fit import BackgroundFit

N_ITER = 40
N_HALVINGS = 12


def design(q: Quadrature, order: int) -> np.ndarray:
    """(bins, nodes, order) regressors of ln(density) at the quadrature nodes."""
    lx = q.log_x
    cols = [np.ones_like(lx), q.log_1mx, -lx, -(lx**2), -(lx**3)]
    return np.stack(cols[:order], axis=-1)


def _start_theta(fit: "BackgroundFit") -> np.ndarray:
    """(ln p0, p1, p2, ...) of a background fit: where every toy's fit starts."""
    return np.concatenate([[np.log(fit.p0)], fit.shape])


def _deviance(n: np.ndarray, nu: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = nu - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / nu), 0.0)
        d = 2.0 * t.sum(axis=-1)
    return np.where(np.all(nu > 0, axis=-1) & np.isfinite(d), d, np.inf)


def _expected(theta, mu, a, w, s):
    with np.errstate(over="ignore", invalid="ignore"):  # a wild trial step overflows; its deviance is inf
        e = w * np.exp(np.einsum("...k,bqk->...bq", theta, a))
        b = e.sum(axis=-1)
    return b + (mu[..., None] * s if s is not None else 0.0), e


def fit_batch(n, a, w, theta0, s=None, mu0=None):
    """Minimise the Poisson deviance for every row of ``n`` (shape (..., bins)).

    ``s``: signal template (..., bins) with a free yield μ, or None for background only. Returns
    (theta, mu, deviance, mu_error); rows that never found a finite deviance come back with deviance
    inf. mu_error is √(F⁻¹)_μμ at the minimum (NaN without a signal term). Rows are iterated only
    until they converge, and each step is halved only for the rows whose deviance it did not lower.
    """
    n = np.asarray(n, dtype=float)
    batch, n_bins = n.shape[:-1], n.shape[-1]
    k = np.shape(theta0)[-1]
    n = n.reshape(-1, n_bins)
    rows = len(n)
    theta = np.broadcast_to(theta0, batch + (k,)).reshape(rows, k).astype(float).copy()
    mu = np.zeros(rows) if mu0 is None else np.broadcast_to(mu0, batch).reshape(rows).astype(float).copy()
    sig = None if s is None else np.broadcast_to(s, batch + (n_bins,)).reshape(rows, n_bins)
    nu, e = _expected(theta, mu, a, w, sig)
    dev = _deviance(n, nu)
    active = np.isfinite(dev)
    for _ in range(N_ITER):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        s_i = None if sig is None else sig[idx]
        grad, fisher = _score_and_fisher(n[idx], nu[idx], e[idx], a, s_i)
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(fisher, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = np.zeros_like(grad)
        step = np.where(np.isfinite(step), step, 0.0)
        scale = np.ones(len(idx))
        todo = np.arange(len(idx))
        old = dev[idx].copy()
        for _ in range(N_HALVINGS):
            j = idx[todo]
            t_try = theta[j] + scale[todo, None] * step[todo, :k]
            m_try = mu[j] + scale[todo] * step[todo, k] if sig is not None else mu[j]
            nu_try, e_try = _expected(t_try, m_try, a, w, None if sig is None else sig[j])
            d_try = _deviance(n[j], nu_try)
            ok = d_try <= dev[j] + 1e-10
            jj = j[ok]
            theta[jj], mu[jj], nu[jj], e[jj], dev[jj] = t_try[ok], m_try[ok], nu_try[ok], e_try[ok], d_try[ok]
            todo = todo[~ok]
            if len(todo) == 0:
                break
            scale[todo] *= 0.5
        active[idx] = np.abs(old - dev[idx]) >= 1e-7 * (1 + np.abs(old))
    mu_err = np.full(rows, np.nan)
    if sig is not None:
        _, fisher = _score_and_fisher(n, nu, e, a, sig)
        with np.errstate(invalid="ignore"):
            try:
                mu_err = np.sqrt(np.linalg.inv(fisher)[:, k, k])
            except np.linalg.LinAlgError:
                pass
    return theta.reshape(batch + (k,)), mu.reshape(batch), dev.reshape(batch), mu_err.reshape(batch)


def fisher_information(a: np.ndarray, w: np.ndarray, theta: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """Expected information Σ_b ∂ν_b ∂ν_bᵀ/ν_b of the background parameters at θ (one spectrum)."""
    jac = np.einsum("bq,bqk->bk", w * np.exp(np.einsum("k,bqk->bq", theta, a)), a)
    return np.einsum("bk,bl->kl", jac / nu[:, None], jac)


def _score_and_fisher(n, nu, e, a, s):
    """Gradient of ln L and the expected information Σ J Jᵀ/ν, J = ∂ν/∂(θ, μ)."""
    jac = np.einsum("...bq,bqk->...bk", e, a)
    if s is not None:
        jac = np.concatenate([jac, s[..., None]], axis=-1)
    safe_nu = np.where(nu > 0, nu, 1.0)
    grad = np.einsum("...b,...bk->...k", n / safe_nu - 1.0, jac)
    fisher = np.einsum("...bk,...bl->...kl", jac / safe_nu[..., None], jac)
    fisher = fisher + 1e-12 * np.eye(fisher.shape[-1]) * np.trace(fisher, axis1=-2, axis2=-1)[..., None, None]
    return grad, fisher


def signed_z(counts: np.ndarray, fit: "BackgroundFit", templates: np.ndarray, with_mu: bool = False):
    """Signed local Z (rows of ``counts`` × mass templates): shape (rows, masses); with ``with_mu``
    also the fitted signal yields and their errors, same shape.

    counts: (rows, bins) spectra on the fit's bins; templates: (masses, bins) signal bin fractions.
    Background parameters start from ``fit`` and are profiled for each row and mass.
    """
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    templates = np.atleast_2d(np.asarray(templates, dtype=float))
    q = fit.quadrature
    a, w = design(q, fit.order), q.w
    th0 = _start_theta(fit)
    th_b, _, d0, _ = fit_batch(counts, a, w, th0)
    n2 = np.broadcast_to(counts[:, None, :], (len(counts), len(templates), counts.shape[1]))
    _, mu, d1, mu_err = fit_batch(n2, a, w, th_b[:, None, :], s=templates[None, :, :])
    # the s+b fit starts at the background-only minimum, so d1 ≤ d0 up to rounding
    q0 = np.clip(d0[:, None] - d1, 0.0, None)
    ok = np.isfinite(d0[:, None]) & np.isfinite(d1)
    z = np.where(ok, np.sign(mu) * np.sqrt(q0), np.nan)
    return (z, np.where(ok, mu, np.nan), np.where(ok, mu_err, np.nan)) if with_mu else z
