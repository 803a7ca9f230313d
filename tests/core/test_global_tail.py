"""The global p-value beyond the toys against a closed form: the largest value of a correlated scan.

A stationary AR(1) sequence Z_{k+1} = ρ Z_k + √(1−ρ²) ε is a scan of n mass hypotheses whose neighbours are
correlated ρ (the search's are 0.91–0.98). P(max Z < u) is computed exactly by the transfer-operator integral
f_{k+1}(y) = ∫_{−∞}^{u} f_k(x) φ((y − ρx)/√(1−ρ²)) / √(1−ρ²) dx on a fine grid; the Gaussian-field tail, given
only the correlations measured on 2000 toys, must reproduce it at Z = 4 (where no realistic number of toys
reaches) within 15%.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from anomalyscope.core.bumphunt.significance import global_from_toy_scans
from anomalyscope.core.bumphunt.tail import correlation_of_toys, gaussian_field_tail


def exact_max_tail(rho: float, n: int, u: float, grid: int = 3000) -> float:
    """P(max of n AR(1) standard normals ≥ u), by numerical integration."""
    x = np.linspace(-9.0, u, grid)
    dx = x[1] - x[0]
    s = np.sqrt(1 - rho**2)
    kernel = stats.norm.pdf((x[:, None] - rho * x[None, :]) / s) / s * dx
    f = stats.norm.pdf(x)
    for _ in range(n - 1):
        f = kernel @ f
    return float(1 - f.sum() * dx)


def ar1_toys(rng, rho: float, n: int, n_toys: int) -> np.ndarray:
    z = np.empty((n_toys, n))
    z[:, 0] = rng.standard_normal(n_toys)
    for k in range(1, n):
        z[:, k] = rho * z[:, k - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n_toys)
    return z


def test_the_exact_integral_agrees_with_a_million_toys_where_they_reach():
    rng = np.random.default_rng(1)
    z = ar1_toys(rng, 0.95, 15, 1_000_000)
    p_toys = float(np.mean(z.max(axis=1) >= 3.0))
    assert abs(p_toys / exact_max_tail(0.95, 15, 3.0) - 1) < 0.05  # ≈ 7000 toys above: ±1.2%


@pytest.mark.parametrize("rho,n", [(0.91, 15), (0.95, 40), (0.98, 60)])
def test_the_tail_beyond_the_toys_matches_the_closed_form(rho, n):
    rng = np.random.default_rng(int(rho * 100) + n)
    z = ar1_toys(rng, rho, n, 2000)
    # the hypotheses split into three "selections" side by side, as the search hands them over
    parts = np.array_split(z, 3, axis=1)
    for u in (4.0, 5.0):
        p = gaussian_field_tail(correlation_of_toys(parts), (u,), seed=2)[0]
        exact = exact_max_tail(rho, n, u)
        assert abs(p / exact - 1) < 0.15, (u, p, exact)
    g = global_from_toy_scans(4.0, parts, 3)
    assert g.p_from == "gaussian_tail" and abs(g.p_global / exact_max_tail(rho, n, 4.0) - 1) < 0.15
    # the toys' own reach: 0 of 2000 reach 4σ, which alone supports only Z_global > 2.7σ
    assert 2.5 < g.z_global_toys_95 < 3.0 < g.z_global


def test_independent_hypotheses_give_the_textbook_trials_factor():
    p = gaussian_field_tail(np.eye(50), (3.0, 4.0))
    exact = 1 - stats.norm.cdf([3.0, 4.0]) ** 50
    assert np.allclose(p, exact, rtol=0.02)


def test_the_stored_global_significance_reads_back_as_computed_and_an_older_file_as_a_toy_bound():
    """One type from the search to search.json: the record a reader gets back quotes what was computed; a file
    written before the Gaussian-field tail (no p_from, no tail) quotes what its toys alone support, a bound."""
    import json

    from anomalyscope.core.bumphunt.significance import GlobalSignificance

    rng = np.random.default_rng(5)
    z_toys = [ar1_toys(rng, 0.95, 30, 400)]
    g = global_from_toy_scans(4.5, z_toys, 1)  # beyond every toy: from the tail
    assert g.p_from == "gaussian_tail" and g.text().startswith(f"global {g.z_global:.1f}σ (p = ")
    back = GlobalSignificance.from_dict(json.loads(json.dumps(g.to_dict())), "search.json")
    assert back.text() == g.text() and back.at(4.5).z_global == pytest.approx(g.z_global)
    older = {k: v for k, v in g.to_dict().items() if k not in ("p_from", "n_eff", "tail_levels", "tail_p",
                                                                "z_global_toys_95")}  # fmt: skip
    old = GlobalSignificance.from_dict(older, "search.json")
    assert old.short().startswith("global > ") and "0 of 400 toys reach it" in old.text()
    assert old.at(4.5).p_from == "toy_bound" and old.at(4.5).z_global < g.z_global
