"""The conditional normalizing flow behind CATHODE and QUAK: samples match held-out data, the
interpolation into the signal region matches the background there, densities are normalised."""

from __future__ import annotations

import numpy as np
from scipy import stats

from anomalyscope.core.methods.cathode import cathode_features
from anomalyscope.core.methods.classifier import TrainConfig, predict_ensemble, train_ensemble
from anomalyscope.core.methods.evaluate import performance
from anomalyscope.core.methods.flow import DensityFlow, FlowConfig, LogitScaler
from tests.core.synthetic import make_events


def _auc_real_vs_sampled(real, sampled, z, seed=5):
    """AUC of a classifier trained on half of (real, sampled) and evaluated on the other half."""
    x = np.concatenate([z(real), z(sampled)])
    y = np.concatenate([np.ones(len(real)), np.zeros(len(sampled))])
    half = np.random.default_rng(seed).random(len(y)) < 0.5
    p = predict_ensemble(train_ensemble(x[half], y[half], 2, TrainConfig(epochs=20), seed), x[~half])
    return performance(p[y[~half] == 1], p[y[~half] == 0]).auc


def test_flow_trained_on_sidebands_matches_held_out_sidebands_and_the_signal_region():
    # background only; its jet features drift with m_jj, so the flow must learn p(x | m_jj)
    ev, _ = make_events(1, 120000, lo=2800, hi=4500)
    x, m = cathode_features(ev, "lhco"), ev.mjj
    sb = ((m >= 3000) & (m < 3300)) | ((m >= 3700) & (m < 4000))
    sr = (m >= 3300) & (m < 3700)
    train = sb & (np.random.default_rng(0).random(len(m)) < 0.5)
    held = sb & ~train
    flow = DensityFlow(FlowConfig(), seed=1).fit(x[train], m[train] / 1000)
    for name, region in (("held-out sidebands", held), ("signal region", sr)):
        sampled = flow.sample(c=m[region] / 1000, seed=2)
        auc = _auc_real_vs_sampled(x[region], sampled, flow.scaler.forward)
        assert abs(auc - 0.5) < 0.02, f"{name}: classifier AUC {auc:.3f} between data and flow samples"
        # marginals: with ~20k events a KS p-value flags sub-percent differences, so the bound is on
        # the KS distance itself: the cumulative distributions agree within 2.5% everywhere
        for i in range(x.shape[1]):
            d = stats.ks_2samp(sampled[:, i], x[region][:, i]).statistic
            assert d < 0.025, f"{name}: feature {i} marginal differs (KS distance {d:.3f})"
    # the flow follows the drift: sampled jet masses at high m_jj are heavier, as in the data
    lo_m, hi_m = held & (m < 3300), held & (m >= 3700)
    s_lo = flow.sample(c=m[lo_m] / 1000, seed=3)[:, 0].mean()
    s_hi = flow.sample(c=m[hi_m] / 1000, seed=3)[:, 0].mean()
    d_data = x[hi_m, 0].mean() - x[lo_m, 0].mean()
    assert d_data > 1.0 and abs((s_hi - s_lo) - d_data) < 0.35 * d_data


def test_flow_density_is_normalised_in_the_original_units():
    """log_prob includes the preprocessing Jacobian: on a known Gaussian it matches the true density."""
    rng = np.random.default_rng(4)
    cov = np.array([[400.0, 120.0], [120.0, 100.0]])
    mean = np.array([100.0, 30.0])
    x = rng.multivariate_normal(mean, cov, 12000)
    test = rng.multivariate_normal(mean, cov, 4000)
    flow = DensityFlow(FlowConfig(epochs=20, min_steps=1000), seed=0).fit(x)
    true = stats.multivariate_normal(mean, cov).logpdf(test)
    assert abs(flow.log_prob(test).mean() - true.mean()) < 0.05
    assert np.corrcoef(flow.log_prob(test), true)[0, 1] > 0.95


def test_logit_preprocessing_inverts_exactly_and_clips_out_of_range_values():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.lognormal(3, 0.7, 5000), rng.beta(5, 2, 5000)])
    sc = LogitScaler(x)
    assert np.allclose(sc.inverse(sc.forward(x)), x, rtol=1e-4, atol=1e-4)
    far = np.array([[1e6, -5.0]])
    z = sc.forward(far)
    assert np.all(np.isfinite(z)) and np.all(sc.inverse(z) <= sc.hi) and np.all(sc.inverse(z) >= sc.lo)
