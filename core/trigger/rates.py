"""Trigger rates and efficiencies from anomaly scores.

Zero-bias events stand for bunch crossings: an event fires when its score is strictly above the
threshold, and the rate is the bunch-crossing rate (40 MHz by default, as the issue's convention) times the
fraction of zero-bias events that fire. The threshold for a target rate is the lowest score threshold at
which at most ⌊target/40 MHz · N⌋ of the N zero-bias events fire, so the achieved rate never exceeds the
target on the sample used.
"""

from __future__ import annotations

import numpy as np

BX_RATE_HZ = 40e6


def fraction_above(scores: np.ndarray, threshold: float) -> float:
    s = np.asarray(scores, dtype=np.float64)
    return float(np.mean(s > threshold)) if len(s) else float("nan")


def threshold_for_rate(background: np.ndarray, rate_hz: float, bx_rate_hz: float = BX_RATE_HZ) -> dict:
    """Threshold giving at most ``rate_hz`` on the zero-bias sample, with the achieved rate and its Poisson
    uncertainty (from the number of zero-bias events that fire)."""
    s = np.sort(np.asarray(background, dtype=np.float64))
    n = len(s)
    if n == 0:
        raise ValueError("no zero-bias events")
    allowed = int(np.floor(rate_hz / bx_rate_hz * n))
    if allowed >= n:
        threshold = -np.inf
    else:
        # the (n − allowed)-th smallest score: exactly `allowed` events lie strictly above it, ties included below
        threshold = s[n - allowed - 1]
    fired = int(np.sum(s > threshold))
    return {
        "threshold": float(threshold),
        "target_rate_hz": rate_hz,
        "target_fraction": rate_hz / bx_rate_hz,
        "achieved_rate_hz": fired / n * bx_rate_hz,
        "rate_uncertainty_hz": np.sqrt(max(fired, 1)) / n * bx_rate_hz,
        "zero_bias_events": n,
        "zero_bias_events_above": fired,
        "limited_by_statistics": allowed < 10,
    }


def rate_curve(background: np.ndarray, n_points: int = 60, bx_rate_hz: float = BX_RATE_HZ) -> dict:
    """Rate against threshold, at thresholds spanning the zero-bias scores (quantiles, log-spaced in rate)."""
    s = np.sort(np.asarray(background, dtype=np.float64))
    n = len(s)
    fractions = np.unique(np.round(np.logspace(0, np.log10(n), n_points)).astype(int))[::-1]
    thresholds = s[np.clip(n - fractions, 0, n - 1)]  # rising
    above = n - np.searchsorted(s, thresholds, side="right")
    return {
        "threshold": thresholds.tolist(),
        "rate_hz": (above / n * bx_rate_hz).tolist(),
        "rate_uncertainty_hz": (np.sqrt(np.maximum(above, 1)) / n * bx_rate_hz).tolist(),
    }


def efficiency_at(signal: np.ndarray, threshold: float) -> dict:
    s = np.asarray(signal, dtype=np.float64)
    eff = fraction_above(s, threshold)
    return {"efficiency": eff, "uncertainty": float(np.sqrt(eff * (1 - eff) / len(s))) if len(s) else float("nan")}


def efficiency_vs_rate(background: np.ndarray, signal: np.ndarray, rates_hz=None, bx_rate_hz=BX_RATE_HZ) -> dict:
    """Signal efficiency at the thresholds of a list of target rates."""
    rates_hz = np.logspace(2, 6, 17) if rates_hz is None else np.asarray(rates_hz, dtype=float)
    out = {"rate_hz": [], "efficiency": []}
    for r in rates_hz:
        t = threshold_for_rate(background, r, bx_rate_hz)["threshold"]
        out["rate_hz"].append(float(r))
        out["efficiency"].append(fraction_above(signal, t))
    return out
