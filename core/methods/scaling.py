"""Input scalings the networks share: the classifiers' clipped standardisation, and the flows' logit
map of bounded features to the real line (exactly invertible, with its Jacobian for densities).
"""

from __future__ import annotations

import numpy as np

CLIP_SIGMA = 5.0


class Standardizer:
    """Zero mean, unit variance, clipped at ±5σ: far-out inputs (a 500 GeV jet among QCD jets) reach
    the network at the edge of what it was trained on, not extrapolated to where its output is
    arbitrary."""

    def __init__(self, x: np.ndarray):
        self.mean = x.mean(axis=0)
        self.std = x.std(axis=0) + 1e-6

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / self.std, -CLIP_SIGMA, CLIP_SIGMA).astype(np.float32)


ALPHA = 1e-3
MARGIN = 0.01


class LogitScaler:
    def __init__(self, x: np.ndarray):
        lo, hi = x.min(axis=0), x.max(axis=0)
        pad = MARGIN * np.maximum(hi - lo, 1e-6)
        self.lo, self.hi = lo - pad, hi + pad
        y = self._logit(x)
        self.mean, self.std = y.mean(axis=0), y.std(axis=0) + 1e-6

    def _logit(self, x):
        u = np.clip((x - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        u = ALPHA + (1 - 2 * ALPHA) * u
        return np.log(u) - np.log1p(-u)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return ((self._logit(np.asarray(x, dtype=np.float64)) - self.mean) / self.std).astype(np.float32)

    def log_abs_det(self, x: np.ndarray) -> np.ndarray:
        """log|dz/dx| per row (x clipped to the range like forward)."""
        u = np.clip((np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        v = ALPHA + (1 - 2 * ALPHA) * u
        d = (1 - 2 * ALPHA) / ((self.hi - self.lo) * v * (1 - v) * self.std)
        return np.log(d).sum(axis=1)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        y = np.asarray(z, dtype=np.float64) * self.std + self.mean
        u = (1.0 / (1.0 + np.exp(-y)) - ALPHA) / (1 - 2 * ALPHA)
        return self.lo + np.clip(u, 0.0, 1.0) * (self.hi - self.lo)
