"""The global p-value beyond the reach of the toys: the tail of the largest local Z of a Gaussian field.

A finite number of background-only toys measures P(max Z ≥ u) only where enough toys reach u. Beyond, the
largest local Z is treated as the maximum of a Gaussian vector — every mass hypothesis of every selection,
each Z standard normal under the null (Wilks), correlated as the toys measure — and its tail is computed
by importance sampling, not extrapolated:

    P(max_k Z_k ≥ u) = Σ_k P(Z_k ≥ u) · E[ 1 / #{j : Z_j ≥ u} | Z_k ≥ u ]

(each hypothesis forced above u in turn, a draw weighted by one over the number of hypotheses above u:
unbiased, relative variance at most the number of hypotheses). A conditional draw is Z' + Σ_·k (z − Z'_k)
with Z' ~ N(0, Σ) and z from N(0, 1) above u. Known answer: for a stationary AR(1) scan (neighbouring
hypotheses correlated 0.91–0.98, as the search's are) the exact tail from a transfer-operator integral is
reproduced within a few per cent at Z = 4 and 5 (``tests/core/test_global_tail.py``), where Gross–Vitells
upcrossings overstate it by 1.4–2× and the fitted N_eff of Φ(u)^N_eff understated it by up to 2×.

The levels at which the tail is computed are stored with the search, so a local Z read later (another
method's excess) gets its global p by interpolation in ln p.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

TAIL_LEVELS = tuple(np.round(np.arange(1.0, 8.01, 0.25), 2))  # Z at which the tail is computed
N_SAMPLES = 20_000  # importance-sampling draws (relative error of the tail ≲ 2% on the search's fields)


def correlation_of_toys(z_toys: list[np.ndarray]) -> np.ndarray:
    """The correlation matrix of every hypothesis's local Z over the toys (selections side by side).

    A toy whose fit failed at a hypothesis (non-finite Z) counts at that hypothesis's median; a hypothesis
    that never varies is left uncorrelated with the others."""
    z = np.concatenate([np.asarray(a, dtype=float).reshape(len(a), -1) for a in z_toys], axis=1)
    med = np.nanmedian(np.where(np.isfinite(z), z, np.nan), axis=0)
    z = np.where(np.isfinite(z), z, np.nan_to_num(med)[None, :])
    z = z - z.mean(axis=0)
    sd = z.std(axis=0)
    live = sd > 0
    c = np.eye(z.shape[1])
    if live.sum() > 1:
        zl = z[:, live] / sd[live]
        c[np.ix_(live, live)] = zl.T @ zl / len(zl)
    np.fill_diagonal(c, 1.0)
    return c


def gaussian_field_tail(corr: np.ndarray, levels=TAIL_LEVELS, n_samples: int = N_SAMPLES, seed: int = 0) -> np.ndarray:
    """P(max Z ≥ u) at each level u for Z ~ N(0, corr) (module text)."""
    corr = np.asarray(corr, dtype=float)
    n = len(corr)
    levels = np.asarray(levels, dtype=float)
    if n == 0:
        return np.zeros(len(levels))
    lam, vec = np.linalg.eigh((corr + corr.T) / 2)
    root = vec * np.sqrt(np.clip(lam, 0.0, None))  # corr ≈ root rootᵀ (noise of the estimate clipped)
    sigma = root @ root.T
    sigma /= np.sqrt(np.outer(np.diag(sigma), np.diag(sigma)))  # unit variances again
    rng = np.random.default_rng(seed)
    out = np.empty(len(levels))
    chunk = max(1, min(n_samples, 20_000_000 // max(n, 1)))  # bounded memory: ≈ 160 MB per chunk
    sums = np.zeros(len(levels))
    done = 0
    while done < n_samples:
        m = min(chunk, n_samples - done)
        base = rng.standard_normal((m, n)) @ root.T  # Z' ~ N(0, Σ)
        k = rng.integers(0, n, m)
        cols = sigma[:, k].T  # Σ_·k of each draw
        v = rng.uniform(0.0, 1.0, m)
        for i, u in enumerate(levels):
            zk = -ndtri(v * ndtr(-u))  # N(0, 1) above u
            z = base + cols * (zk - base[np.arange(m), k])[:, None]
            above = np.count_nonzero(z >= u, axis=1)
            sums[i] += np.sum(1.0 / np.maximum(above, 1))
        done += m
    out[:] = n * ndtr(-np.asarray(levels, dtype=float)) * sums / n_samples
    return np.clip(out, 0.0, 1.0)


def tail_p(z: float, levels, p) -> float:
    """P(max Z ≥ z) interpolated in ln p between the stored levels (NaN outside them)."""
    levels, p = np.asarray(levels, dtype=float), np.asarray(p, dtype=float)
    if not len(levels) or not np.isfinite(z) or z < levels[0] or z > levels[-1]:
        return float("nan")
    return float(np.exp(np.interp(z, levels, np.log(np.clip(p, 1e-300, None)))))
