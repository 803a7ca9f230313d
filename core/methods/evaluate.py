"""Performance where truth exists: ROC, AUC, the significance improvement SIC = ε_S/√ε_B, max SIC
above a stated background-efficiency floor, and background rejection at fixed signal efficiency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_BKG_EVENTS = 20  # max SIC is quoted only where at least this many background events pass


@dataclass
class Performance:
    eps_s: np.ndarray
    eps_b: np.ndarray
    auc: float
    max_sic: float
    eps_b_floor: float
    rejection_at: dict  # ε_S -> 1/ε_B
    n_signal: int
    n_background: int

    @property
    def sic(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.eps_b > 0, self.eps_s / np.sqrt(self.eps_b), np.nan)

    def to_dict(self, n_points: int = 200) -> dict:
        idx = np.unique(np.linspace(0, len(self.eps_s) - 1, min(n_points, len(self.eps_s))).round().astype(int))
        return {
            "auc": self.auc,
            "max_sic": self.max_sic,
            "eps_b_floor": self.eps_b_floor,
            "rejection_at": {str(k): v for k, v in self.rejection_at.items()},
            "n_signal": self.n_signal,
            "n_background": self.n_background,
            "eps_s": self.eps_s[idx].tolist(),
            "eps_b": self.eps_b[idx].tolist(),
        }


def performance(signal_scores: np.ndarray, background_scores: np.ndarray, at_eps_s=(0.2, 0.3, 0.5)) -> Performance:
    s = np.asarray(signal_scores, dtype=float)
    b = np.asarray(background_scores, dtype=float)
    s, b = s[np.isfinite(s)], b[np.isfinite(b)]
    if len(s) == 0 or len(b) == 0:
        raise ValueError("performance: needs finite scores for both signal and background")
    thr = np.unique(np.concatenate([s, b]))[::-1]
    s_sorted, b_sorted = np.sort(s), np.sort(b)
    eps_s = 1.0 - np.searchsorted(s_sorted, thr, side="left") / len(s)
    eps_b = 1.0 - np.searchsorted(b_sorted, thr, side="left") / len(b)
    eps_s = np.concatenate([[0.0], eps_s])
    eps_b = np.concatenate([[0.0], eps_b])
    auc = float(np.trapezoid(eps_s, eps_b))
    floor = MIN_BKG_EVENTS / len(b)
    ok = eps_b >= floor
    with np.errstate(divide="ignore", invalid="ignore"):
        sic = np.where(ok, eps_s / np.sqrt(eps_b), np.nan)
    rejection = {}
    for e in at_eps_s:
        i = np.searchsorted(eps_s, e)
        rejection[e] = float(1.0 / eps_b[i]) if i < len(eps_b) and eps_b[i] > 0 else float("inf")
    return Performance(
        eps_s, eps_b, auc, float(np.nanmax(sic)) if ok.any() else float("nan"), floor, rejection, len(s), len(b)
    )
