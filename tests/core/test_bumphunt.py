"""The bump hunt against known answers: injected signals, background-only toys, pyhf, the F-test."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from anomalyscope.core.bumphunt.fit import FitError, f_test, fit_background
from anomalyscope.core.bumphunt.functions import Quadrature, expected_counts
from anomalyscope.core.bumphunt.histogram import Spectrum, cms_edges, mjj_spectrum, poisson_interval
from anomalyscope.core.bumphunt.likelihood import DijetBackground, FixedBackground, ProfileLikelihood
from anomalyscope.core.bumphunt.limits import CLsCalculator, cls_limit
from anomalyscope.core.bumphunt.signal import SignalModel, SignalShape, dscb, fit_signal_shape
from anomalyscope.core.bumphunt.significance import (
    asimov_z,
    asimov_z_fixed,
    discovery_sensitivity,
    global_significance,
    local_significance,
)
from anomalyscope.core.errors import FieldError, InputError
from anomalyscope.core.results.records.injection_scan import InjectionScan

EDGES = cms_edges(2600, 7000)
Q = Quadrature(EDGES)
TRUTH3 = expected_counts(Q, 40000, np.array([10.0, 5.0]))
TRUTH4 = expected_counts(Q, 40000, np.array([8.0, 2.0, -1.0]))
MASS = 3700.0


def _toy(rng, truth=TRUTH4, signal=0.0, template=None):
    return Spectrum(rng.poisson(truth + (signal * template if template is not None else 0)), EDGES)


def test_spectrum_binning_follows_cms_edges_and_hist_counts():
    rng = np.random.default_rng(0)
    mjj = rng.uniform(2700, 6000, 10000)
    spec = mjj_spectrum(mjj, 2670, 6100)
    assert spec.edges[0] == 2775 and spec.edges[-1] == 6099 and spec.total == np.sum(mjj >= 2775)
    assert np.all(np.diff(spec.edges) / spec.centers < 0.05)
    fixed = mjj_spectrum(mjj, 2700, 6000, binning=100.0)
    assert len(fixed.counts) == 33 and fixed.total == 10000
    lo, hi = poisson_interval(np.array([0, 1, 100]))
    assert lo[0] == 0 and abs(hi[0] - 1.841) < 1e-3 and abs(lo[1] - 0.173) < 1e-3 and abs(hi[2] - 111.03) < 0.01


def test_background_only_fits_have_sane_chi2_and_uniform_local_pvalues():
    rng = np.random.default_rng(1)
    template = SignalModel.gaussian().at(MASS).bin_fractions(EDGES)
    chi2, ndf, z = [], None, []
    for _ in range(60):
        spec = _toy(rng)
        fit = fit_background(spec, 4)
        chi2.append(fit.chi2)
        ndf = fit.ndf
        zz, _ = ProfileLikelihood(spec.counts, template, DijetBackground(fit)).q0(signed=True)
        z.append(zz)
    assert abs(np.mean(chi2) - ndf) < 3 * np.sqrt(2 * ndf / 60) + 1
    # signed significance is standard normal under the null (toy-based check of the asymptotics)
    assert stats.kstest(z, "norm").pvalue > 0.01
    assert abs(np.mean(z)) < 0.5 and 0.6 < np.std(z) < 1.4


def test_injected_gaussian_signal_is_recovered_with_asimov_significance():
    rng = np.random.default_rng(2)
    template = SignalModel.gaussian().at(MASS).bin_fractions(EDGES)
    n_sig = 300.0
    asimov_fit = fit_background(Spectrum(TRUTH4, EDGES), 4)
    z_asimov = asimov_z(n_sig * template, DijetBackground(asimov_fit))
    pulls, zs = [], []
    for _ in range(30):
        spec = _toy(rng, signal=n_sig, template=template)
        bkg = fit_background(spec, 4)
        z, free = ProfileLikelihood(spec.counts, template, DijetBackground(bkg)).q0(signed=True)
        pulls.append((free.mu - n_sig) / free.mu_error)
        zs.append(z)
    pulls = np.array(pulls)
    assert np.mean(np.abs(pulls) < 1) > 0.5, "fitted yield within its uncertainty in most toys"
    assert abs(np.mean(pulls)) < 0.6
    assert 2.5 < z_asimov < 8
    assert abs(np.median(zs) - z_asimov) < 0.5


def test_scan_finds_the_injected_mass():
    rng = np.random.default_rng(3)
    template = SignalModel.gaussian().at(MASS).bin_fractions(EDGES)
    spec = _toy(rng, signal=600.0, template=template)
    scan = local_significance(spec)
    assert abs(scan.best_mass - MASS) < 250
    assert scan.max_z > 4
    assert np.all(np.isfinite(scan.z))


def test_ftest_picks_the_generating_order():
    rng = np.random.default_rng(4)
    picks3 = [f_test(_toy(rng, truth=TRUTH3)).chosen.order for _ in range(12)]
    truth_curved = expected_counts(Q, 200000, np.array([5.0, -2.0, -2.0]))
    picks4 = [f_test(_toy(rng, truth=truth_curved)).chosen.order for _ in range(12)]
    assert np.mean(np.array(picks3) == 3) >= 0.75
    assert np.mean(np.array(picks4) == 4) >= 0.6


@pytest.mark.parametrize("s,b,n", [([8.0], [50.0], [62]), ([5.0, 10.0, 3.0], [50.0, 40.0, 30.0], [55, 48, 28])])
def test_discovery_significance_and_cls_limits_agree_with_pyhf(s, b, n):
    import pyhf  # a test dependency (pip install -e ".[test]")

    s, b, n = map(np.asarray, (s, b, n))
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "sig",
                        "data": s.tolist(),
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "bkg", "data": b.tolist(), "modifiers": []},
                ],
            }
        ]
    }
    model = pyhf.Model(spec, poi_name="mu")
    data = n.tolist() + model.config.auxdata
    pl = ProfileLikelihood(n, s, FixedBackground(b))
    p0 = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0", calctype="asymptotics"))
    q0, _ = pl.q0()
    assert abs(np.sqrt(q0) - stats.norm.isf(p0)) / stats.norm.isf(p0) < 0.02
    obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(data, model, 0.01, 9.9, rtol=1e-6)
    ours = cls_limit(pl)
    assert abs(ours.observed - float(obs)) / float(obs) < 0.02
    for band, value in zip((-2, -1, 0, 1, 2), exp):
        assert abs(ours.expected[band] - float(value)) / float(value) < 0.02
    calc = CLsCalculator(pl)
    cls_obs, cls_exp = pyhf.infer.hypotest(1.0, data, model, test_stat="qtilde", return_expected_set=True)
    assert abs(calc.cls(1.0) - float(cls_obs)) < 0.02 * float(cls_obs)


def test_limits_with_a_profiled_dijet_background_shrink_with_more_data():
    rng = np.random.default_rng(5)
    template = SignalModel.gaussian().at(MASS).bin_fractions(EDGES)
    spec = _toy(rng)
    bkg = fit_background(spec, 4)
    lim = cls_limit(ProfileLikelihood(spec.counts, template, DijetBackground(bkg)))
    exp = lim.expected
    assert exp[-2] < exp[-1] < exp[0] < exp[1] < exp[2]
    b_peak = np.sum(bkg.expected * template) / np.sum(template**2)
    assert 1.0 < exp[0] / np.sqrt(b_peak) < 6.0, "median limit ≈ 2 √B in the signal window"
    assert lim.observed > 0


def test_discovery_sensitivity_known_answer_and_improvement_factor():
    b = np.array([1e6])
    sens = discovery_sensitivity(b, np.array([1.0]), efficiency=1.0)
    assert abs(sens.n_injected[5.0] - 5000) / 5000 < 0.01
    assert abs(asimov_z_fixed(np.array([sens.n_injected[3.0]]), b) - 3.0) < 1e-3
    # a cut keeping 50% of signal and 1% of background improves the 5σ reach by 0.5/√0.01 = 5
    cut = discovery_sensitivity(b * 0.01, np.array([1.0]), efficiency=0.5)
    assert abs(sens.n_injected[5.0] / cut.n_injected[5.0] - 5.0) < 0.25
    assert "fixed" in cut.mode
    with_lumi = discovery_sensitivity(b, np.array([1.0]), luminosity_fb=100.0)
    assert abs(with_lumi.cross_section_fb[5.0] - with_lumi.n_injected[5.0] / 100) < 1e-9


def test_improvement_extrapolates_in_luminosity_only_as_far_as_it_was_measured_to_grow():
    """A fixed selection (50% of the signal, 1% of the background) improves the 5σ reach by 0.5/√0.01 = 5 at any
    luminosity: measured at 3.4 and 10.2 fb⁻¹ it extrapolates to 5 at 26.8. One that grows as L^0.4 between the
    two is read on that law; a method with no improvement stays at 1; the supervised reference caps it."""
    from anomalyscope.core.workflows.luminosity import improvement_at

    factors = {}
    for lumi in (3.4, 10.2):
        b = np.array([3e4 * lumi])  # background in the signal window grows with luminosity
        incl = discovery_sensitivity(b, np.array([1.0]), efficiency=1.0).n_injected[5.0]
        cut = discovery_sensitivity(b * 0.01, np.array([1.0]), efficiency=0.5).n_injected[5.0]
        factors[lumi] = incl / cut
    fixed = improvement_at(factors, 26.8)
    assert abs(fixed.value - 5.0) < 0.25 and abs(fixed.slope) < 0.02 and not fixed.capped
    growing = improvement_at({3.4: 1.5, 10.2: 1.5 * 3**0.4}, 26.8)
    assert abs(growing.value - 1.5 * (26.8 / 3.4) ** 0.4) < 1e-9 and abs(growing.slope - 0.4) < 1e-9
    assert improvement_at({3.4: 1.0, 10.2: 1.0}).value == pytest.approx(1.0)
    capped = improvement_at({3.4: 1.5, 10.2: 1.5 * 3**0.4}, 26.8, cap=2.0)
    assert capped.value == 2.0 and capped.capped
    with pytest.raises(FieldError, match="two luminosities"):
        improvement_at({3.4: 2.0})
    with pytest.raises(FieldError, match="positive"):
        improvement_at({3.4: 2.0, 10.2: 0.0})


def test_global_significance_of_a_single_mass_equals_the_local_one():
    rng = np.random.default_rng(6)
    spec = _toy(rng)
    scan = local_significance(spec, masses=np.array([MASS]))
    glob = global_significance([scan], n_toys=150, seed=1)
    p_local = stats.norm.sf(scan.max_z)
    lo, hi = glob.p_global_interval
    assert lo - 0.05 <= p_local <= hi + 0.05
    wide = local_significance(spec)
    glob_wide = global_significance([wide], n_toys=40, seed=2)
    assert glob_wide.p_global >= stats.norm.sf(wide.max_z) - 1e-12


def test_dscb_is_the_textbook_formula_and_stays_finite_for_steep_tails():
    import warnings

    p = {"mu": 0.0, "sigma": 1.0, "alpha_l": 1.2, "n_l": 4.0, "alpha_r": 2.0, "n_r": 8.0}
    t = np.array([-6.0, -1.5, -1.2, 0.3, 2.0, 3.5])
    # A·(B − t)^−n on the left, A·(B + t)^−n on the right, A = (n/α)^n e^{−α²/2}, B = n/α − α (moderate n: no overflow)
    a_l, b_l = (4 / 1.2) ** 4 * np.exp(-0.72), 4 / 1.2 - 1.2
    a_r, b_r = (8 / 2.0) ** 8 * np.exp(-2.0), 8 / 2.0 - 2.0
    textbook = np.where(
        t < -1.2, a_l * (b_l - t) ** -4.0, np.where(t > 2.0, a_r * (b_r + t) ** -8.0, np.exp(-(t**2) / 2))
    )
    assert np.allclose(dscb(t, **p), textbook, rtol=1e-12, atol=0)
    # continuous at both joins, and no overflow warning (nor inf/nan) for the steep tails a fit may try
    for join in (-1.2, 2.0):
        assert abs(dscb(join - 1e-9, **p) - dscb(join + 1e-9, **p)) < 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        steep = dscb(np.linspace(-50, 50, 1001), 0.0, 1.0, 0.5, 150.0, 0.5, 150.0)
    assert np.all(np.isfinite(steep)) and steep.max() == 1.0


def test_dscb_fit_recovers_parameters_and_interpolation_is_linear():
    truth = {"mu": 3400.0, "sigma": 170.0, "alpha_l": 1.2, "n_l": 4.0, "alpha_r": 2.0, "n_r": 8.0}
    grid = np.linspace(1700, 5100, 200001)
    cdf = np.cumsum(dscb(grid, **truth))
    cdf /= cdf[-1]
    sample = np.interp(np.random.default_rng(7).uniform(0, 1, 20000), cdf, grid)
    shape = fit_signal_shape(sample, 3500.0, "dscb", (1750.0, 5250.0))
    for k in ("mu", "sigma"):
        assert abs(shape.params[k] - truth[k]) < 4 * shape.errors[k] + 1e-3 * truth[k]
    assert abs(shape.params["alpha_l"] - truth["alpha_l"]) < 0.3
    model = SignalModel(
        [
            SignalShape("gauss", {"mu": 2000.0, "sigma": 100.0}, {}, 2000.0, (1000, 3000)),
            SignalShape("gauss", {"mu": 4000.0, "sigma": 240.0}, {}, 4000.0, (2000, 6000)),
        ]
    )
    mid = model.at(3000.0)
    assert abs(mid.params["mu"] - 3000.0) < 1e-9 and abs(mid.params["sigma"] - 3000 * 0.055) < 1e-9
    fr = mid.bin_fractions(np.array([2000.0, 3000.0, 4000.0]))
    assert abs(fr.sum() - stats.norm.cdf(1000 / 165) * 2 + 1) < 1e-3 and abs(fr[0] - fr[1]) < 1e-3


def test_bad_input_gives_a_clear_status():
    empty = Spectrum(np.zeros(len(EDGES) - 1), EDGES)
    with pytest.raises(FitError, match="histogram is empty"):
        fit_background(empty)
    few = np.zeros(len(EDGES) - 1)
    few[:3] = 4
    with pytest.raises(FitError, match="only 12 events"):
        fit_background(Spectrum(few, EDGES))
    with pytest.raises(InputError, match="order must be one of"):
        fit_background(_toy(np.random.default_rng(0)), order=7)
    with pytest.raises(InputError, match="finite and non-negative"):
        Spectrum(np.array([1.0, np.nan]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(InputError, match="counts need"):
        Spectrum(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="at least 50"):
        fit_signal_shape(np.array([3500.0] * 10), 3500.0)


def test_bump_hunt_on_an_eventset_starts_above_its_fully_efficient_edge(qcd_es, signal_es, tmp_path):
    from anomalyscope.core.bumphunt import SearchDefinition, bump_hunt, search_of_eventset, signal_model_from_eventsets

    search = search_of_eventset(qcd_es, SearchDefinition(binning=200.0))
    mjj, deta = qcd_es.column("mjj"), qcd_es.column("deta")
    spec = search.spectrum(mjj[search.in_region(mjj, deta)])
    # a generated sample knows where its generator thresholds are fully efficient: the fit starts there
    assert qcd_es.threshold_known and "known threshold" in search.fit_min_how
    assert spec.edges[0] == search.fit_min >= qcd_es.mjj_fit_min and search.fit_min < qcd_es.mjj_fit_min + 200
    assert spec.total == np.sum((mjj >= spec.edges[0]) & (mjj < spec.edges[-1]) & (deta < 1.3))
    forced = search_of_eventset(qcd_es, SearchDefinition(binning=200.0, fit_min=qcd_es.mjj_fit_min + 100))
    assert forced.fit_min == qcd_es.mjj_fit_min + 100 and forced.fit_min_how == "set by the user"
    model = signal_model_from_eventsets([signal_es], kind="gauss")
    shape = model.at(3500.0)
    assert 3200 < shape.params["mu"] < 3600 and 50 < shape.params["sigma"] < 400
    mixed = np.random.default_rng(0).poisson(expected_counts(Quadrature(EDGES), 5000, np.array([10.0, 5.0])))
    hunt = bump_hunt(Spectrum(mixed, EDGES), model)
    assert "background fit" in hunt.report() and hunt.limit_at_best.observed > 0


def test_crossing_interpolates_in_sqrt_n():
    from anomalyscope.core.workflows.injection import crossing

    n = np.array([0, 100, 400, 900])
    z = 0.1 * np.sqrt(n)  # Z ∝ √N: exact in √N interpolation
    assert abs(crossing(n, z, 1.5) - 225.0) < 1e-9
    assert crossing(n, z, 5.0) is None


def test_sensitivity_is_not_interpolated_through_fits_that_could_not_be_read():
    """Where a finished draw's fit could not be read at the signal mass (too few events passed a tight cut), the
    median of the other draws is not used for a crossing: it would be taken over the Runs whose fit worked. A
    signal read in every draw survives at its expected strength; one read in a single draw of three is not
    turned into a sensitivity; draws not yet trained (a stopped scan) are not held against the finished ones."""
    from anomalyscope.core.workflows.injection import _scan_config, _summarise

    c = _scan_config({"background": "b", "signal": "s", "run": {}, "injections": [0, 100, 400, 900],
                      "efficiency": 0.01, "mass": 3500.0, "out": "o", "draws": 3})  # fmt: skip
    n = np.array([0, 100, 400, 900], dtype=float)
    every = np.repeat((0.2 * np.sqrt(n))[:, None], 3, axis=1)  # Z = 0.2 √N in each draw: 3σ at 225, 5σ at 625
    z = {"inclusive": np.repeat((0.1 * np.sqrt(n))[:, None], 3, axis=1), "m": every}
    s = _summarise(c, [0, 100, 400, 900], 3500.0, z, z, 0.01).sensitivity["m"]
    assert abs(s.n_3sigma - 225.0) < 1e-6 and abs(s.n_5sigma - 625.0) < 1e-6 and s.n_5sigma_err == 0.0
    assert abs(s.improvement_3sigma - 4.0) < 1e-6  # the inclusive's 3σ at 900 over 225
    # at 900 only one draw of three could be read (a high Z there): no 5σ from it, and 3σ still from 100 → 400
    partial = every.copy()
    partial[3, 1:] = np.nan
    s = _summarise(c, [0, 100, 400, 900], 3500.0, {**z, "m": partial}, z, 0.01).sensitivity["m"]
    assert s.n_5sigma is None and abs(s.n_3sigma - 225.0) < 1e-6
    assert s.n_5sigma_reached_in < 0.5  # only bootstrap samples drawing that one draw thrice reach it
    # the same NaN where the draws have not been trained yet (a scan stopped after its first draw): read as before
    finished = np.zeros((4, 3), dtype=bool)
    finished[:, 0] = True
    s = _summarise(c, [0, 100, 400, 900], 3500.0, {**z, "m": partial}, z, 0.01, finished).sensitivity["m"]
    assert abs(s.n_5sigma - 625.0) < 1e-6
    # nothing invented: a method reading Z ≈ 0 everywhere but one high, lone reading is not sensitive
    lone = np.zeros((4, 3))
    lone[2, 0], lone[2, 1:] = 9.0, np.nan
    s = _summarise(c, [0, 100, 400, 900], 3500.0, {**z, "m": lone}, z, 0.01).sensitivity["m"]
    assert s.n_3sigma is None and s.n_5sigma is None


def test_injection_scan_retrains_every_draw_and_reports_median_sensitivity(tmp_path, qcd_es, signal_es):
    import yaml

    from anomalyscope.core.workflows.injection import load_scan_config, run_injection_scan

    cfg = {
        "background": str(qcd_es.path),
        "signal": str(signal_es.path),
        "out": "scan",
        "injections": [0, 60, 200],
        "draws": 5,
        "efficiency": 0.3,
        "mass": 3500.0,
        "luminosity_fb": 2.0,
        "toys": 40,
        "run": {
            "search": {"windows": "lhco", "min_window_events": 5, "toys": 10, "efficiencies": [0.5]},
            "folds": 2,
            "inner_folds": 2,
            "methods": ["inclusive", "cut_tau21"],
        },
    }
    (tmp_path / "scan.yaml").write_text(yaml.safe_dump(cfg))
    res = run_injection_scan(load_scan_config(tmp_path / "scan.yaml"), base=tmp_path, progress=False)
    assert res.injections == [0, 60, 200] and res.draws == 5
    for m in ("inclusive", "cut_tau21"):
        med = res.median_z[m]
        assert abs(med[0]) < 1, f"{m}: no signal, median Z {med[0]:.2f}"
        assert np.all(np.abs(res.z_observed[m][0]) < 3.5), "no Run invents a signal"
        assert med[2] > med[0] + 1, f"{m}: Z grows with the injected signal ({med})"
        assert np.isfinite(np.asarray(res.z[m][2])).sum() == 5, "five independent draws at each amount"
    for n in (0, 60, 200):
        for d in range(5):
            assert (tmp_path / "scan" / f"run-{n}-{d}" / "manifest.json").exists(), "one re-trained Run per draw"
    assert not (tmp_path / "scan" / "data-60-0").exists(), "injected datasets are removed once their Run is written"
    saved = json.loads((tmp_path / "scan" / "injection_scan.json").read_text())
    assert saved["mode"].startswith("re-trained for every draw") and saved["injections"] == res.injections
    sens, incl = res.sensitivity["cut_tau21"], res.sensitivity["inclusive"]
    if incl.n_3sigma is not None:
        assert 0 < incl.n_3sigma <= 200 and incl.improvement_3sigma == 1.0
        assert abs(incl.xsec_3sigma_fb - incl.n_3sigma / 2.0) < 1e-9
    if sens.n_3sigma is not None and incl.n_3sigma is not None:
        assert sens.improvement_3sigma == incl.n_3sigma / sens.n_3sigma
    # resumable: a second call reuses every finished Run and gives the same answer; a scan stopped by an older
    # version (its points in points.json alone) too
    manifest = tmp_path / "scan" / "run-200-4" / "manifest.json"
    written = manifest.stat().st_mtime_ns
    for f in (tmp_path / "scan").glob("stats-*.json"):
        f.unlink()
    again = run_injection_scan(load_scan_config(tmp_path / "scan.yaml"), base=tmp_path, progress=False)
    assert again.median_z == res.median_z and manifest.stat().st_mtime_ns == written
    # Runs trained side by side in worker processes give the same Z draw by draw as in this process
    par = {**cfg, "out": "scan2", "injections": [0, 200], "draws": 2, "workers": 2}
    two = run_injection_scan(par, base=tmp_path, progress=False)
    for m in ("inclusive", "cut_tau21"):
        np.testing.assert_array_equal(np.asarray(two.z_observed[m]), np.asarray(res.z_observed[m])[[0, 2], :2])
        np.testing.assert_array_equal(np.asarray(two.z[m]), np.asarray(res.z[m])[[0, 2], :2])
    # a scan stopped part-way is summarised over the draws it has, training nothing
    (tmp_path / "scan" / "stats-200-4.json").unlink()
    points = json.loads((tmp_path / "scan" / "points.json").read_text())
    del points["200-4"]
    (tmp_path / "scan" / "points.json").write_text(json.dumps(points))
    part = run_injection_scan(load_scan_config(tmp_path / "scan.yaml"), base=tmp_path, progress=False, train=False)
    assert np.isnan(part.z["cut_tau21"][2][4]) and part.z["cut_tau21"][2][:4] == res.z["cut_tau21"][2][:4]
    assert part.median_z["cut_tau21"][2] == np.median(res.z["cut_tau21"][2][:4])
    assert manifest.stat().st_mtime_ns == written
    # every efficiency the Runs searched is read too, and the scan's file holds each reading (the sensitivity view
    # shows any of them); stats written before that are filled in from the Runs (the injected labels come back from
    # the seed) with the same Z
    stats = json.loads((tmp_path / "scan" / "stats-200-1.json").read_text())
    assert sorted(stats["cut_tau21"]["by_efficiency"]) == ["0.3", "0.5"]  # the scan's and the Run's
    assert stats["cut_tau21"]["by_efficiency"]["0.3"]["expected"] == stats["cut_tau21"]["expected"]
    old = {m: {k: v for k, v in zz.items() if k != "by_efficiency"} for m, zz in stats.items()}
    (tmp_path / "scan" / "stats-200-1.json").write_text(json.dumps(old))
    refilled = run_injection_scan(load_scan_config(tmp_path / "scan.yaml"), base=tmp_path, progress=False, train=False)
    assert json.loads((tmp_path / "scan" / "stats-200-1.json").read_text()) == stats

    def text(r):  # NaN (a draw not finished) compares equal as text
        return json.dumps(r.to_dict(), sort_keys=True)

    assert text(refilled) == text(part) and part.efficiencies == [0.3, 0.5]
    saved = InjectionScan.from_dict(json.loads((tmp_path / "scan" / "injection_scan.json").read_text()), "scan")
    other = part.at(0.5)
    assert other.efficiency == 0.5 and text(saved.at(0.5)) == text(other)
    med = other.median_z["cut_tau21"]
    assert abs(med[0]) < 1 and med[2] > med[0] + 1, f"at ε = 0.5: no signal invented, the injected one seen ({med})"
    assert med != part.median_z["cut_tau21"], "another cut, other Z"
    assert other.median_z["inclusive"] == part.median_z["inclusive"], "the inclusive search has no cut to change"
    with pytest.raises(KeyError, match="not 0.05"):
        part.at(0.05)
    # carried to another machine: a file with the finished points and the samples' digests seeds an empty scan
    # directory, whose summary is the scan's without a Run there; other events or another cut are refused
    from anomalyscope.core.data import EventSet
    from anomalyscope.core.workflows.injection import sample_digest, seed_points

    digests = {"background": sample_digest(qcd_es), "signal": sample_digest(signal_es)}
    assert digests["background"] == sample_digest(EventSet.open(qcd_es.path)) != digests["signal"]
    kept = tmp_path / "kept.json"
    points = json.loads((tmp_path / "scan" / "points.json").read_text())
    kept.write_text(json.dumps({"digests": digests, "scan": {"efficiency": 0.3}, "points": points}))
    assert seed_points(kept, tmp_path / "moved", digests, {"efficiency": 0.3}) == len(points) == 14
    moved = run_injection_scan({**cfg, "out": "moved"}, base=tmp_path, progress=False, train=False)
    assert text(moved) == text(part) and not list((tmp_path / "moved").glob("run-*"))
    assert seed_points(kept, tmp_path / "moved", digests, {"efficiency": 0.3}) == 0, "points already there win"
    with pytest.raises(FieldError, match="digests.background .*not the same events") as err:
        seed_points(kept, tmp_path / "other", {**digests, "background": sample_digest(signal_es)}, {})
    assert err.value.field == "digests.background" and not (tmp_path / "other" / "points.json").exists()
    with pytest.raises(FieldError, match="scan.efficiency is 0.3, here 0.1: another scan"):
        seed_points(kept, tmp_path / "other", digests, {"efficiency": 0.1})


def test_sparse_spectra_after_a_tight_cut_are_fitted_and_invent_no_excess():
    """A 0.1% cut leaves a few dozen events in the lowest bins (on the demo: 24 events; a log-linear start
    through those bins extrapolated to a rising function, the fit put every event in the last bin and the scan
    read 34σ). Known answers both ways, on such spectra: background-only pseudo-experiments are described by
    their fits and show no large local excess at any mass, and a small resonance injected on top is found at
    its strength."""
    from anomalyscope.core.bumphunt.fastfit import signed_z

    edges = cms_edges(2775, 8000)
    q = Quadrature(edges)
    truth = expected_counts(q, 40.0, np.array([15.0, 8.0]))
    assert truth[:7].sum() > 0.9 * truth.sum(), "the test spectrum is as steep as the demo's"
    masses = np.array([3100.0, 3400.0, 3700.0, 4100.0, 4600.0, 5200.0])
    templates = SignalModel.gaussian().templates(masses, edges)
    rng = np.random.default_rng(7)
    z_null, z_sig, mu_sig, failed = [], [], [], 0
    signal = 10.0 * templates[1]
    for _ in range(150):
        for counts, out in ((rng.poisson(truth), z_null), (rng.poisson(truth + signal), z_sig)):
            spec = Spectrum(counts, edges)
            try:
                fit = fit_background(spec, 3)
            except FitError:
                failed += 1
                continue
            assert fit.expected[-5:].sum() < 1.0, "the fit keeps the empty tail empty"
            z, mu, _ = signed_z(counts[None, :].astype(float), fit, templates, with_mu=True)
            out.append(z[0])
            if out is z_sig:
                mu_sig.append(mu[0, 1])
    z_null, z_sig = np.array(z_null), np.array(z_sig)
    assert failed < 0.15 * 300, "too few events or a runaway fit: refused, not scanned"
    assert np.nanmax(z_null) < 4.5 and np.mean(np.nanmax(z_null, axis=1) > 3) < 0.03
    assert abs(np.nanmean(z_null)) < 0.5
    # the resonance: its median Z is the Asimov one (the expected spectrum fitted as data), its yield recovered
    asimov = truth + signal
    z_a = signed_z(asimov[None, :], fit_background(Spectrum(asimov, edges), 3), templates)[0, 1]
    assert z_a > 1.0
    assert abs(np.nanmedian(z_sig[:, 1]) - z_a) < 0.3 * z_a and abs(np.nanmedian(mu_sig) - 10.0) < 3.0


def test_a_spectrum_from_a_users_hist_equals_our_own_histogram():
    import hist

    rng = np.random.default_rng(4)
    m = rng.exponential(600.0, 5000) + 1500.0
    edges = cms_edges(1530.0, 4000.0)
    own = mjj_spectrum(m, edges[0], edges[-1])
    h = hist.Hist(hist.axis.Variable(edges, name="mjj")).fill(m)
    theirs = Spectrum.from_hist(h)
    np.testing.assert_array_equal(theirs.counts, own.counts)
    np.testing.assert_array_equal(theirs.edges, own.edges)
    assert theirs.variances is None
    w = rng.uniform(0.5, 2.0, len(m))
    hw = hist.Hist(hist.axis.Variable(edges, name="mjj"), storage=hist.storage.Weight()).fill(m, weight=w)
    weighted = Spectrum.from_hist(hw)
    np.testing.assert_allclose(weighted.variances, mjj_spectrum(m, edges[0], edges[-1], weights=w).variances)
    with pytest.raises(InputError, match="has one axis, this one has 2"):
        Spectrum.from_hist(hist.Hist(hist.axis.Regular(3, 0, 1), hist.axis.Regular(3, 0, 1)))
