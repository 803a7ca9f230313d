"""Trigger rates and efficiencies from anomaly scores.

Zero-bias events stand for bunch crossings: an event fires when its score is strictly above the
threshold, and the rate is the bunch-crossing rate (40 MHz by default, as the issue's convention) times the
fraction of zero-bias events that fire. The threshold for a target rate is the lowest score threshold at
which at most ⌊target/40 MHz · N⌋ of the N zero-bias events fire, so the achieved rate never exceeds the
target on the sample used.

A 1 kHz rate is 2.5×10⁻⁵ of the bunch crossings: the empirical threshold needs ≳ 400k zero-bias events to
rest on tens of events. For smaller samples ``trigger_threshold`` extrapolates the tail instead: a
generalised-Pareto fit to the scores above a high quantile (peaks over threshold — by the
Pickands–Balkema–de Haan theorem the excesses over a high threshold of any smooth tail follow a generalised
Pareto distribution), with the threshold's uncertainty from bootstrap replicas of the sample.
Measured on toys of 20k scores at 1 kHz (40 toys each, 40 bootstraps): fitting the top 3% rather than 1% cuts the
spread of the threshold by 20–30% (exponential 0.97 → 0.68, χ²₈ 2.2 → 1.8); the 68% interval covered the truth in
55–80% of the toys (exponential, Gaussian, χ²₈, log-normal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomalyscope.core.bumphunt.histogram import efficiency_interval, poisson_interval
from anomalyscope.core.results.records.trigger import Threshold

BX_RATE_HZ = 40e6
MIN_EVENTS_ABOVE = 10  # fewer zero-bias events above the threshold than this: the empirical threshold is too coarse
TAIL_FRACTION = 0.03  # the tail fit uses the top 3% of the zero-bias scores (why: the toy study above) ...
MIN_TAIL_EVENTS = 50  # ... and at least this many
MAX_TAIL_FRACTION = 0.1  # so a tail fit needs 500 events or more
HEAVY_SHAPE = 0.5  # a tail fitted with a larger shape is fitted again in ln(score) (see TailFit)
MAX_EXTRAPOLATION = 10  # a tail fit reaches at most 10× below the one-event fraction 1/n (1 kHz: n ≥ 4000)


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
        **rate_interval(fired, n, bx_rate_hz),
        "zero_bias_events": n,
        "zero_bias_events_above": fired,
        "limited_by_statistics": allowed < MIN_EVENTS_ABOVE,
    }


@dataclass(frozen=True)
class TailFit:
    """A generalised-Pareto fit to the zero-bias scores above ``u`` (the top ``k`` of ``n``): shape ``c``, scale
    ``sigma``. P(score > t) = k/n · (1 + c (t − u)/σ)^(−1/c) for t ≥ u.

    With ``log``, the fit is to ln(score) instead (ln t and ln u in that formula). Thresholds do not change under a
    monotone transformation, and a positive score whose tail spans decades (a fitted shape above
    ``HEAVY_SHAPE``: infinite variance) has a much lighter tail in the logarithm. Measured on the demo's
    AXOL1TL-like score (8000-event subsamples, predicting the 10-in-40k threshold 0.0157): raw fit 0.038 ± 0.019,
    log fit 0.023 ± 0.010; on the CICADA-like score (shape ≈ 0) both agree with the truth."""

    u: float
    k: int
    n: int
    c: float
    sigma: float
    log: bool = False

    @classmethod
    def fit(cls, scores: np.ndarray, tail_fraction: float = TAIL_FRACTION, min_tail: int = MIN_TAIL_EVENTS):
        from scipy.stats import genpareto

        s = np.sort(np.asarray(scores, dtype=np.float64))
        n = len(s)
        k = max(min_tail, int(tail_fraction * n))
        if k > MAX_TAIL_FRACTION * n:
            raise ValueError(f"{n} zero-bias scores are too few for a tail fit (the top {k} would not be a tail)")
        u = s[n - k - 1]
        # scores tied at u are not in the tail: a point mass (e.g. many events scoring exactly 0) is no smooth tail
        excess = s[s > u] - u
        if len(excess) < min_tail or np.ptp(excess) == 0:
            raise ValueError(f"only {len(excess)} distinct-enough zero-bias scores above {u:g}: no tail to fit")
        c, _, sigma = genpareto.fit(excess, floc=0.0)
        if c > HEAVY_SHAPE and u > 0:
            c, _, sigma = genpareto.fit(np.log(s[s > u]) - np.log(u), floc=0.0)
            return cls(float(u), len(excess), n, float(c), float(sigma), log=True)
        return cls(float(u), len(excess), n, float(c), float(sigma))

    def threshold(self, fraction: float) -> float:
        """The score above which ``fraction`` of zero-bias events lie (for fractions below k/n)."""
        from scipy.stats import genpareto

        tail_p = fraction * self.n / self.k
        if fraction * self.n * MAX_EXTRAPOLATION < 1.0:
            raise ValueError(
                f"a fraction {fraction:g} is more than {MAX_EXTRAPOLATION}× beyond what {self.n} events resolve "
                f"(1/{self.n}): too far to extrapolate"
            )
        if tail_p >= 1.0:
            raise ValueError(f"fraction {fraction:g} is not in the fitted tail (top {self.k}/{self.n})")
        excess = genpareto.isf(tail_p, self.c, loc=0.0, scale=self.sigma)
        return float(self.u * np.exp(excess) if self.log else self.u + excess)


def trigger_threshold(
    background: np.ndarray, rate_hz: float, bx_rate_hz: float = BX_RATE_HZ, n_boot: int = 200, seed: int = 0
) -> dict:
    """The threshold used for a target rate: the empirical one (``threshold_for_rate``) when at least
    ``MIN_EVENTS_ABOVE`` zero-bias events lie above it, else the tail-fit extrapolation, with its bootstrap
    uncertainty. Both are reported; ``method`` says which one ``threshold`` is."""
    emp = threshold_for_rate(background, rate_hz, bx_rate_hz)
    out = {**emp, "method": "empirical quantile", "threshold_empirical": emp["threshold"]}
    if not emp["limited_by_statistics"]:
        return out
    s = np.asarray(background, dtype=np.float64)
    fraction = rate_hz / bx_rate_hz
    try:
        fit = TailFit.fit(s)
        t = fit.threshold(fraction)
    except ValueError as err:
        return {**out, "tail_fit": {"status": f"not possible: {err}"}}
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        try:
            boots.append(TailFit.fit(rng.choice(s, len(s))).threshold(fraction))
        except ValueError:
            continue
    lo, hi = np.percentile(boots, [16, 84]) if boots else (np.nan, np.nan)
    fired = int(np.sum(s > t))
    return {
        **out,
        "threshold": t,
        "method": f"generalised-Pareto fit to the top {fit.k} of {fit.n} zero-bias "
        + ("ln(scores)" if fit.log else "scores")
        + ", extrapolated",
        "threshold_uncertainty": float((hi - lo) / 2),
        "threshold_interval_68": [float(lo), float(hi)],
        "achieved_rate_hz": fired / len(s) * bx_rate_hz,
        "zero_bias_events_above": fired,
        **rate_interval(fired, len(s), bx_rate_hz),
        "tail_fit": {
            "status": "ok",
            "u": fit.u,
            "k": fit.k,
            "shape": fit.c,
            "scale": fit.sigma,
            "in_log_score": fit.log,
            "bootstraps": len(boots),
        },
    }


def rate_curve(background: np.ndarray, n_points: int = 60, bx_rate_hz: float = BX_RATE_HZ) -> dict:
    """Rate against threshold, at thresholds spanning the zero-bias scores (quantiles, log-spaced in rate)."""
    s = np.sort(np.asarray(background, dtype=np.float64))
    n = len(s)
    fractions = np.unique(np.round(np.logspace(0, np.log10(n), n_points)).astype(int))[::-1]
    thresholds = s[np.clip(n - fractions, 0, n - 1)]  # rising
    above = n - np.searchsorted(s, thresholds, side="right")
    lo, hi = poisson_interval(above)
    return {
        "threshold": thresholds.tolist(),
        "rate_hz": (above / n * bx_rate_hz).tolist(),
        "rate_interval_hz": [(lo / n * bx_rate_hz).tolist(), (hi / n * bx_rate_hz).tolist()],
        "rate_uncertainty_hz": ((hi - lo) / 2 / n * bx_rate_hz).tolist(),
    }


def rate_interval(fired: int, n: int, bx_rate_hz: float = BX_RATE_HZ) -> dict:
    """The Garwood 68% interval of a rate measured as ``fired`` of ``n`` zero-bias events (0 fired: [0, 1.84]
    events' worth, not 0 ± 1), and its half-width as the symmetric uncertainty."""
    lo, hi = poisson_interval(fired)
    scale = bx_rate_hz / n
    return {"rate_interval_hz": [lo * scale, hi * scale], "rate_uncertainty_hz": (hi - lo) / 2 * scale}


def efficiency_at(signal: np.ndarray, threshold: float, threshold_uncertainty: float = 0.0) -> dict:
    """Signal efficiency at a threshold with its Clopper–Pearson 68% interval (never 0 ± 0 at ε = 0 or 1;
    ``uncertainty`` is the interval's half-width), and the shift from the threshold's own uncertainty
    (efficiency at threshold ∓ its uncertainty) when one is given."""
    s = np.asarray(signal, dtype=np.float64)
    eff = fraction_above(s, threshold)
    if len(s):
        lo, hi = efficiency_interval(int(np.sum(s > threshold)), len(s))
        out = {"efficiency": eff, "interval": [lo, hi], "uncertainty": (hi - lo) / 2, "events": len(s)}
    else:
        out = {"efficiency": float("nan"), "interval": [float("nan")] * 2, "uncertainty": float("nan"), "events": 0}
    if threshold_uncertainty > 0:
        out["uncertainty_from_threshold"] = [
            fraction_above(s, threshold + threshold_uncertainty) - eff,
            fraction_above(s, threshold - threshold_uncertainty) - eff,
        ]
    return out


def efficiency_vs_rate(background: np.ndarray, signal: np.ndarray, rates_hz=None, bx_rate_hz=BX_RATE_HZ) -> dict:
    """Signal efficiency at the thresholds of a list of target rates; rates the zero-bias sample cannot resolve
    (fewer than ``MIN_EVENTS_ABOVE`` events above) use one tail fit, and are flagged in ``extrapolated``."""
    rates_hz = np.logspace(2, 6, 17) if rates_hz is None else np.asarray(rates_hz, dtype=float)
    out = {"rate_hz": [], "efficiency": [], "extrapolated": []}
    fit, previous = None, np.inf
    for r in np.sort(rates_hz):
        emp = threshold_for_rate(background, r, bx_rate_hz)
        t, extrapolated = emp["threshold"], False
        if emp["limited_by_statistics"]:
            try:
                fit = fit or TailFit.fit(background)
                t, extrapolated = fit.threshold(r / bx_rate_hz), True
            except ValueError:
                pass
        t = previous = min(t, previous)  # a larger rate never has a higher threshold (fit and quantile meet here)
        out["rate_hz"].append(float(r))
        out["efficiency"].append(fraction_above(signal, t))
        out["extrapolated"].append(extrapolated)
    return out


def tail_curve(threshold: Threshold, bx_rate_hz: float = BX_RATE_HZ, n_points: int = 40) -> dict | None:
    """Rate against threshold from a report's tail fit, from the fitted tail's start down to a tenth of the
    target rate or as far as the fit may reach; None when no tail fit was made."""
    tf = threshold.tail_fit
    if tf is None or tf.status != "ok":
        return None
    fit = TailFit(tf.u, tf.k, threshold.zero_bias_events, tf.shape, tf.scale, tf.in_log_score)
    lowest = max(threshold.target_fraction / 10, 1.001 / (MAX_EXTRAPOLATION * fit.n))
    fractions = np.logspace(np.log10(0.999 * fit.k / fit.n), np.log10(lowest), n_points)
    return {"threshold": [fit.threshold(f) for f in fractions], "rate_hz": (fractions * bx_rate_hz).tolist()}
