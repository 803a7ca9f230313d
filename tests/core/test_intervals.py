"""Honest intervals: Clopper–Pearson for efficiencies and Garwood for counts and rates, with their known
values and their coverage in pseudo-experiments (the old √(ε(1−ε)/n) and √max(n, 1) gave 0 ± 0 and 0 ± 1)."""

from __future__ import annotations

import numpy as np
import pytest

from anomalyscope.core.bumphunt import efficiency_interval, poisson_interval
from anomalyscope.core.results.records.trigger import Efficiency
from anomalyscope.core.trigger.rates import BX_RATE_HZ, efficiency_at, threshold_for_rate

ONE_SIGMA_TAIL = 0.15865525393145707  # P(Z > 1)


def test_clopper_pearson_known_values():
    lo, hi = efficiency_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(1 - ONE_SIGMA_TAIL**0.1, rel=1e-9)  # 0.168: (1 − hi)^n = 0.1587
    lo, hi = efficiency_interval(50, 50)
    assert hi == 1 and lo == pytest.approx(ONE_SIGMA_TAIL ** (1 / 50), rel=1e-9)  # 0.964
    lo, hi = efficiency_interval(np.array([5, 500]), np.array([10, 1000]))
    assert lo[1] < 0.5 < hi[1] and (hi - lo)[1] < (hi - lo)[0] / 9  # ~1/√n narrower
    with pytest.raises(ValueError, match="0 <= k <= n"):
        efficiency_interval(11, 10)


def test_clopper_pearson_covers_a_small_efficiency_where_the_gaussian_formula_does_not():
    rng = np.random.default_rng(4)
    p, n = 0.03, 40
    k = rng.binomial(n, p, 4000)
    lo, hi = efficiency_interval(k, np.full_like(k, n))
    assert np.mean((lo <= p) & (p <= hi)) >= 0.683  # exact intervals never undercover
    e = k / n
    half = np.sqrt(e * (1 - e) / n)
    assert np.mean(np.abs(e - p) <= half) < 0.6  # 0 ± 0 whenever no event passes (30% of the time)


def test_garwood_known_values_and_coverage():
    assert poisson_interval(0) == (0.0, pytest.approx(1.8410, abs=1e-4))
    lo, hi = poisson_interval(1)
    assert lo == pytest.approx(0.1727, abs=1e-4) and hi == pytest.approx(3.2995, abs=1e-4)
    rng = np.random.default_rng(5)
    for mu in (0.7, 4.0, 30.0):
        n = rng.poisson(mu, 4000)
        lo, hi = poisson_interval(n)
        assert np.mean((lo <= mu) & (mu <= hi)) >= 0.683, mu


def test_garwood_and_the_toy_bound_equal_the_libraries_they_stand_in_for():
    """poisson_interval and upper_bound_95 call scipy.special (no scipy.stats import for a dashboard page): they
    must give what hist.intervals and scipy.stats.beta give, at every count and coverage."""
    import hist.intervals
    from scipy import stats

    from anomalyscope.core.bumphunt.histogram import upper_bound_95

    n = np.array([0, 1, 2, 3, 7, 25, 100, 1e3, 1e5, 1e7])
    for cl in (0.682689492137086, 0.9, 0.95):
        lo, hi = poisson_interval(n, cl)
        ref = hist.intervals.poisson_interval(n, coverage=cl)
        np.testing.assert_allclose(lo, ref[0], rtol=1e-12, atol=0)
        np.testing.assert_allclose(hi, ref[1], rtol=1e-12)
    for k, m in ((0, 50), (0, 200), (3, 50), (49, 50), (120, 1000)):
        assert upper_bound_95(k, m) == pytest.approx(stats.beta.ppf(0.95, k + 1, m - k), rel=1e-12)
    assert upper_bound_95(5, 5) == 1.0 and upper_bound_95(0, 0) == 1.0


def test_a_trigger_efficiency_of_one_or_zero_has_an_interval_and_a_silent_rate_has_an_upper_bound():
    full = efficiency_at(np.ones(50), 0.5)
    assert full["efficiency"] == 1.0 and full["interval"][1] == 1.0
    assert full["interval"][0] == pytest.approx(ONE_SIGMA_TAIL ** (1 / 50)) and full["uncertainty"] > 0.01
    assert Efficiency.from_dict(full, "efficiency_at").text() == "1.000 [0.964, 1.000]"
    none = efficiency_at(np.zeros(50), 0.5)
    assert none["interval"] == [0.0, pytest.approx(1 - ONE_SIGMA_TAIL ** (1 / 50))]
    old = Efficiency.from_dict({"efficiency": 0.5, "uncertainty": 0.1}, "a report from before intervals")
    assert old.text() == "0.500 ± 0.100" and old.bounds() == (0.4, 0.6)
    thr = threshold_for_rate(np.arange(1000.0), rate_hz=1.0)  # 1 Hz of 40 MHz from 1000 events: none may fire
    assert thr["zero_bias_events_above"] == 0 and thr["achieved_rate_hz"] == 0
    assert thr["rate_interval_hz"] == [0.0, pytest.approx(1.8410 * BX_RATE_HZ / 1000, rel=1e-4)]
