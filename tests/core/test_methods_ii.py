"""Anomaly methods II: Tag N' Train, CATHODE, QUAK, and how the methods' scores relate."""

from __future__ import annotations

import numpy as np
import pytest

from anomalyscope.core.bumphunt.windows import make_windows
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods import REGISTRY
from anomalyscope.core.methods.base import Context, run_out_of_fold
from anomalyscope.core.methods.cathode import cathode_features
from anomalyscope.core.methods.complementarity import complementarity, jaccard, score_correlations, top_fraction
from anomalyscope.core.methods.evaluate import performance
from anomalyscope.core.methods.quak import QUAK
from tests.core.synthetic import make_events, write_synthetic_eventset


@pytest.fixture(scope="module")
def prior_path(tmp_path_factory):
    """A QUAK prior: another 2-prong model (jets of 300 and 80 GeV), not the 500/100 GeV signal searched."""
    ev, truth = make_events(21, 0, n_sig=3000, jet_masses=(300.0, 80.0))
    return write_synthetic_eventset(tmp_path_factory.mktemp("prior") / "other", ev, truth, "other_model").path


def _sic_with_and_without_signal(name, params, folds=2, n_bkg=30000, lo=3100.0, hi=3900.0, drift=False):
    """Max SIC and AUC on a held-out signal sample, trained on data with 450 signal events in the SR
    and on background only (by default in the window alone, features independent of m_jj: the weak-supervision
    assumption; ``lo``, ``hi``: the spectrum generated and fitted)."""
    windows = make_windows("lhco")
    sig_eval, _ = make_events(9, 0, n_sig=2000)
    in_sr = windows[0].in_sr(sig_eval.mjj)
    out = {}
    for n_sig in (450, 0):
        ev, truth = make_events(4, n_bkg, n_sig=n_sig, lo=lo, hi=hi, drift=drift)
        ctx = Context(windows, seed=3, n_inner=2, fit_range=(lo, hi))
        res = run_out_of_fold(REGISTRY[name], params, ev, ctx, folds=folds, seed=2, signal_eval=sig_eval)
        sr = windows[0].in_sr(ev.mjj)
        assert np.all(np.isfinite(res.scores[sr])) and np.all(np.isnan(res.scores[~sr]))
        out[n_sig] = performance(res.signal_scores[in_sr], res.scores[sr & (truth == 0)])
    return out


def test_tag_n_train_finds_an_injected_signal_and_nothing_without_it():
    out = _sic_with_and_without_signal("tnt", {"epochs": 15})
    assert out[450].auc > 0.95 and out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    assert out[0].auc < 0.7, f"without signal: AUC {out[0].auc:.2f}"
    assert out[450].max_sic > 3 * out[0].max_sic


def test_cathode_finds_an_injected_signal_and_nothing_without_it():
    params = {"epochs": 15, "features": "lhco", "flow_epochs": 30, "flow_min_steps": 800}
    out = _sic_with_and_without_signal("cathode", params)
    assert out[450].auc > 0.95 and out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    # Without signal the classifier can only learn where the flow mis-models the background: it ranks
    # the signal sample no better than a coin flip would on average. (Max SIC is not compared: this
    # signal's 500 GeV jets lie beyond every background jet, so any score that happens to rank that
    # empty corner high has ε_B = 0 there — an extrapolation, not a gain on data.)
    assert out[0].auc < 0.7, f"without signal: AUC {out[0].auc:.2f}"


def test_cathode_on_the_spectrum_sidebands_interpolates_drifting_features_and_finds_an_injected_signal():
    """The CATHODE paper's sidebands: the background flow learns from the whole fitted spectrum outside the SR
    (2.6–5 TeV here, several times the events of the window's own 200 GeV sidebands), with background features
    that drift with m_jj, so it must interpolate into the SR. It learns the 450 injected events and, without them,
    ranks the signal sample no better than a coin flip (a flow that mis-modelled the SR would hand the classifier
    the drift to learn)."""
    params = {"epochs": 15, "features": "lhco", "sideband": "spectrum", "flow_epochs": 5, "flow_min_steps": 800}
    out = _sic_with_and_without_signal("cathode", params, n_bkg=40000, lo=2600.0, hi=5000.0, drift=True)
    assert out[450].auc > 0.95 and out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    assert out[0].auc < 0.7, f"without signal: AUC {out[0].auc:.2f}"


def test_spectrum_sidebands_are_the_fitted_range_outside_the_signal_region():
    from anomalyscope.core.methods.cathode import sideband_events

    w = make_windows("lhco")[0]
    mjj = np.array([2500.0, 2700.0, 3150.0, 3500.0, 3800.0, 4500.0, 5200.0])
    region = np.array([True, True, True, True, True, False, True])  # |Δη| of the sixth event out of the region
    ctx = Context([w], fit_range=(2600.0, 5000.0))
    assert sideband_events(w, mjj, region, ctx, "window").tolist() == [0, 0, 1, 0, 1, 0, 0]
    assert sideband_events(w, mjj, region, ctx, "spectrum").tolist() == [0, 1, 1, 0, 1, 0, 0]


def test_ranode_finds_an_injected_signal_and_nothing_without_it():
    """R-Anode's signal density, fitted in the SR with the sideband flow's background fixed, gives a held-out
    signal sample its most anomalous scores when 450 signal events are there to fit (max SIC 12 measured), and
    nothing without them (1.0). It learns the signal's core, not all of it: its AUC stays near 0.5 here (the
    signal events outside the learned core get a p_sig below p_bg), which a cut at ε ≤ 1% does not reach."""
    params = {"features": "lhco", "flow_epochs": 30, "flow_min_steps": 800}
    out = _sic_with_and_without_signal("ranode", params)
    assert out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    assert out[0].max_sic < 2.0 and out[0].auc < 0.7, f"without signal: {out[0].max_sic:.2f}, AUC {out[0].auc:.2f}"


def test_ranode_reuses_cathodes_sideband_flows_and_scores_as_if_trained_alone():
    """A Run trains CATHODE and R-Anode on the same features, folds and seeds: each window's background flow is
    learned once. R-Anode's scores are the same as when it trains its own flows."""
    from anomalyscope.core.methods import cathode

    windows = make_windows("lhco")
    ev, _ = make_events(4, 6000, n_sig=150, lo=3100, hi=3900, drift=False)
    light = {"features": "lhco", "flow_epochs": 2, "flow_min_steps": 0}
    ranode = {**light, "signal_epochs": 2, "signal_min_steps": 0}

    def train(name, params):
        return run_out_of_fold(REGISTRY[name], params, ev, Context(windows, seed=3, n_inner=2), folds=2, seed=2)

    cathode._FLOWS.clear()
    alone = train("ranode", ranode)
    cathode._FLOWS.clear()
    first = train("cathode", {**light, "epochs": 2})
    shared = train("ranode", ranode)
    for a, b in zip(first.models, shared.models, strict=True):
        assert a.flows and all(a.flows[w] is b.flows[w] for w in b.flows)
    np.testing.assert_array_equal(shared.scores, alone.scores)
    # another flow configuration is another density: not reused
    other = train("ranode", {**ranode, "flow_transforms": 2})
    assert all(other.models[0].flows[w] is not shared.models[0].flows[w] for w in other.models[0].flows)


def test_iad_on_cathodes_features_finds_an_injected_signal_and_nothing_without_it():
    """The idealised detector on CATHODE's four features (the papers' bound for CATHODE): data against a perfectly
    modelled background sample in the signal region learns the 450 injected events, and nothing without them."""
    windows = make_windows("lhco")
    sig_eval, _ = make_events(9, 0, n_sig=2000)
    extra, _ = make_events(13, 30000, lo=3100, hi=3900, drift=False)
    in_sr = windows[0].in_sr(sig_eval.mjj)
    out = {}
    for n_sig in (450, 0):
        ev, truth = make_events(4, 30000, n_sig=n_sig, lo=3100, hi=3900, drift=False)
        ctx = Context(windows, seed=3, n_inner=2, background_extra=extra)
        res = run_out_of_fold(REGISTRY["iad"], {"features": "cms", "epochs": 15}, ev, ctx, 2, 2, sig_eval)
        assert res.models[0].features(ev).shape == (len(ev), 4)
        sr = windows[0].in_sr(ev.mjj)
        out[n_sig] = performance(res.signal_scores[in_sr], res.scores[sr & (truth == 0)])
    assert out[450].auc > 0.95 and out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    assert out[0].auc < 0.7, f"without signal: AUC {out[0].auc:.2f}"


def test_cathode_feature_sets_order_jets_by_mass():
    ev, _ = make_events(3, 200)
    msd = ev.feature("msoftdrop")
    lhco = cathode_features(ev, "lhco")
    assert np.allclose(lhco[:, 0], msd.min(axis=1)) and np.all(lhco[:, 1] >= 0)
    assert np.allclose(lhco[:, 0] + lhco[:, 1], msd.max(axis=1))
    cms = cathode_features(ev, "cms")
    tau41 = ev.feature("tau21") * ev.feature("tau32") * ev.feature("tau43")
    lighter = np.argmin(msd, axis=1)
    assert np.allclose(cms[:, 2], tau41[np.arange(len(ev)), lighter], rtol=1e-5)
    assert cathode_features(ev, "cms", btag=True).shape[1] == 6
    with pytest.raises(InputError, match="features must be one of"):
        REGISTRY["cathode"](features="nope")


def test_quak_ranks_an_unseen_signal_with_a_prior_of_other_models(prior_path):
    windows = make_windows("lhco")
    ev, truth = make_events(4, 20000, n_sig=0, lo=3100, hi=3900)
    extra, _ = make_events(13, 20000, lo=3100, hi=3900)
    sig_eval, _ = make_events(9, 0, n_sig=2000)
    ctx = Context(windows, seed=3, n_inner=2, background_extra=extra)
    params = {"prior": [str(prior_path)], "flow_epochs": 20, "flow_min_steps": 500}
    res = run_out_of_fold(REGISTRY["quak"], params, ev, ctx, 2, 1, sig_eval)
    p = performance(res.signal_scores, res.scores)
    assert p.auc > 0.9, f"QUAK AUC {p.auc:.3f} on a signal outside its prior"
    # the QUAK space: signal has higher background loss and lower signal loss than background
    losses_b, losses_s = res.models[0].losses(ev), res.models[0].losses(sig_eval)
    assert np.median(losses_s[:, 0]) > np.median(losses_b[:, 0])
    assert np.median(losses_s[:, 1]) < np.median(losses_b[:, 1])


def test_quak_prior_must_leave_out_the_searched_signal(prior_path):
    info = QUAK.check_config(QUAK.configure({"prior": [str(prior_path)]}), searched={"wprime_xy"})
    assert info["prior"][0]["processes"] == ["other_model"]
    with pytest.raises(InputError, match="supervised search"):
        QUAK.check_config(QUAK.configure({"prior": [str(prior_path)]}), searched={"other_model"})
    with pytest.raises(InputError, match="at least one signal"):
        QUAK.check_config(QUAK.configure({}), searched=set())
    with pytest.raises(InputError, match="unknown parameter"):
        QUAK(prior=[str(prior_path)], epochs=3)


def test_complementarity_known_answers():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20000)
    scores = {"a": a, "same": a.copy(), "monotone": np.exp(a), "independent": rng.normal(size=20000),
              "constant": np.zeros(20000)}  # fmt: skip
    pear, spear = score_correlations(scores, "pearson"), score_correlations(scores, "spearman")
    assert "constant" not in pear.columns
    assert pear.loc["a", "same"] == pytest.approx(1.0) and spear.loc["a", "monotone"] == pytest.approx(1.0)
    assert pear.loc["a", "monotone"] < 0.9  # Pearson sees only the linear part
    assert abs(pear.loc["a", "independent"]) < 0.03
    top = {m: top_fraction(s, 0.01) for m, s in scores.items() if m != "constant"}
    assert top["a"].sum() == 200
    jac = jaccard(top)
    assert jac.loc["a", "same"] == 1.0 and jac.loc["a", "monotone"] == 1.0 and jac.loc["a", "independent"] < 0.05
    rep = complementarity({"background": scores})
    assert rep["background"]["methods"] == ["a", "same", "monotone", "independent"]
