"""Anomaly methods: out-of-fold scoring, flat-efficiency cuts, null and sensitivity tests, Runs."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from core.bumphunt import fit_background, local_significance, mjj_spectrum
from core.errors import InputError
from core.methods import REGISTRY
from core.methods.base import Context, run_out_of_fold
from core.methods.evaluate import performance
from core.methods.events import Events
from core.methods.flat_cut import select, thresholds_out_of_fold
from core.methods.runner import execute, load_config
from core.methods.windows import assign, check_windows, make_windows
from core.results import Run
from tests.core.synthetic import attach_constituents, make_events, write_synthetic_eventset


def test_performance_known_answers():
    rng = np.random.default_rng(0)
    perfect = performance(np.ones(100), np.zeros(1000))
    assert perfect.auc == 1.0
    rand = performance(rng.random(20000), rng.random(20000))
    assert abs(rand.auc - 0.5) < 0.01
    # SIC = eps_S / sqrt(eps_B): a cut keeping half the signal and 1% of background gives 5
    s = np.concatenate([np.full(500, 2.0), np.zeros(500)])
    b = np.concatenate([np.full(100, 2.0), np.zeros(9900)])
    p = performance(s, b)
    assert abs(p.max_sic - 5.0) < 1e-9 and p.eps_b_floor == 20 / 10000


def test_windows_respect_the_efficient_edge_and_reject_bad_setups():
    cms = make_windows("cms", 2600.0)
    assert all(w.lo >= 2600 for w in cms) and [w.name for w in cms][0] == "A5"
    lhco = make_windows("lhco")
    assert lhco[0].sr == (3300.0, 3700.0)
    with pytest.raises(InputError, match="has 0 SR"):
        check_windows(lhco, np.array([3000.0] * 500 + [3800.0] * 500), 100, "data")
    with pytest.raises(InputError, match="lies outside the data"):
        check_windows(lhco, np.array([1000.0, 2000.0]), 1, "data")
    with pytest.raises(InputError, match="no m_jj window"):
        check_windows(make_windows("lhco", 3200.0), np.array([3500.0]), 1, "data")


def test_flat_cut_keeps_the_same_fraction_in_every_mass_bin():
    ev, _ = make_events(1, 40000)
    score = -np.max(ev.feature("tau21"), axis=1) + 0.3 * np.log(ev.mjj)  # strongly mass-dependent score
    thr = thresholds_out_of_fold(ev.mjj, score, [0.1, 0.01], folds=5, seed=0)
    sel = select(score, thr)
    edges = np.quantile(ev.mjj, np.linspace(0, 1, 6))
    for j, eff in enumerate((0.1, 0.01)):
        for lo, hi in zip(edges[:-1], edges[1:]):
            inbin = (ev.mjj >= lo) & (ev.mjj < hi)
            frac = sel[inbin, j].mean()
            assert abs(frac - eff) < 4 * np.sqrt(eff / inbin.sum()) + 0.1 * eff
    # a global cut on the same score would sculpt: its efficiency rises with mass
    glob = score > np.quantile(score, 0.9)
    lo_bin, hi_bin = ev.mjj < edges[1], ev.mjj >= edges[4]
    assert glob[hi_bin].mean() > 2 * glob[lo_bin].mean()
    with pytest.raises(InputError, match="efficiencies"):
        thresholds_out_of_fold(ev.mjj, score, [0.0])


def _ctx(windows, **kw):
    return Context(windows, seed=3, n_inner=2, **kw)


LIGHT_FLOWS = {"flow_epochs": 5, "flow_min_steps": 0, "flow_transforms": 2}


@pytest.mark.parametrize("name", ["cut_tau21", "supervised", "iad", "cwola", "vae_qr", "tnt", "cathode", "quak"])
def test_null_no_sculpting_after_one_percent_cut(name, tmp_path):
    """Background only, features drifting with m_jj: the 1% flat cut leaves a smooth spectrum."""
    ev, _ = make_events(2, 50000, lo=2465, hi=7000)
    windows = make_windows("cms", 2465.0)
    aux = {"signal": make_events(12, 0, n_sig=2000)[0], "background_extra": make_events(13, 20000, lo=2465)[0]}
    params = {"epochs": 5} if name in ("cwola", "supervised", "iad", "tnt", "cathode") else {}
    if name == "cathode":
        params.update(LIGHT_FLOWS)
    if name == "quak":
        prior, truth = make_events(14, 0, n_sig=2000, jet_masses=(300.0, 80.0))
        params = {"prior": [str(write_synthetic_eventset(tmp_path / "prior", prior, truth, "other").path)]}
        params.update(LIGHT_FLOWS)
    if name == "vae_qr":  # trained on the |Δη| sideband, so scores every event; the cut uses |Δη| < 1.3
        ev = attach_constituents(ev, seed=15)
        params = {"epochs": 2, "max_train_jets": 3000}
    res = run_out_of_fold(REGISTRY[name], params, ev, _ctx(windows, **aux), folds=2, seed=1)
    ok = np.isfinite(res.scores) & (ev.deta < 1.3)
    groups = assign(windows, ev.mjj) if REGISTRY[name].windowed else None
    thr = thresholds_out_of_fold(ev.mjj, np.where(ok, res.scores, np.nan), [0.01], folds=2, seed=0, groups=groups)
    sel = select(res.scores, thr)[:, 0]
    assert 0.006 < sel.sum() / ok.sum() < 0.014
    # CWoLa scores only events inside the signal regions of windows it could train
    lo, hi = ev.mjj[ok].min(), ev.mjj[ok].max()
    assert ok.sum() > 10000
    spec = mjj_spectrum(ev.mjj[sel], lo, hi)
    fit = fit_background(spec, 3)
    assert fit.chi2_pvalue > 0.01, f"χ²/ndf = {fit.chi2:.1f}/{fit.ndf}"
    scan = local_significance(spec, fit)
    assert np.nanmax(scan.z) < 3.0


def test_cwola_finds_an_injected_signal_and_nothing_without_it():
    """Features independent of m_jj (CWoLa's assumption): a gain with signal, none without."""
    windows = make_windows("lhco")
    sig_eval, _ = make_events(9, 0, n_sig=2000)
    out = {}
    for n_sig in (0, 450):
        ev, truth = make_events(4, 30000, n_sig=n_sig, lo=3100, hi=3900, drift=False)
        res = run_out_of_fold(
            REGISTRY["cwola"], {"epochs": 15}, ev, _ctx(windows), folds=3, seed=2, signal_eval=sig_eval
        )
        sr = windows[0].in_sr(ev.mjj)
        out[n_sig] = performance(res.signal_scores[windows[0].in_sr(sig_eval.mjj)], res.scores[sr & (truth == 0)])
    assert out[450].auc > 0.95 and out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    # without signal the classifier has nothing to learn: its ranking of signal is a coin flip (AUC near 0.5;
    # max SIC of a compact signal cluster then fluctuates, 1-4 over seeds), far below the gain with signal
    assert out[0].auc < 0.75, f"without signal: AUC {out[0].auc:.2f}"
    assert out[450].max_sic > 3 * out[0].max_sic


def test_supervised_and_iad_references_separate_signal():
    windows = make_windows("lhco")
    ev, truth = make_events(5, 8000, n_sig=80, lo=3100, hi=3900)
    sig, _ = make_events(6, 0, n_sig=1500)
    extra, _ = make_events(7, 8000, lo=3100, hi=3900)
    sup = run_out_of_fold(REGISTRY["supervised"], {"epochs": 10}, ev, _ctx(windows, signal=sig), 2, 1, sig)
    assert performance(sup.signal_scores, sup.scores[truth == 0]).auc > 0.95
    iad = run_out_of_fold(REGISTRY["iad"], {"epochs": 10}, ev, _ctx(windows, background_extra=extra), 2, 1, sig)
    sr = windows[0].in_sr(ev.mjj)
    assert np.all(np.isnan(iad.scores[~sr])) and np.all(np.isfinite(iad.scores[sr]))


def test_run_config_errors_come_before_training(tmp_path, signal_es):
    base = {"eventset": str(signal_es.path), "out": str(tmp_path / "r"), "methods": ["cwola"]}
    cases = [
        ({"methods": ["nonsense"]}, "unknown method 'nonsense'"),
        ({"efficiencies": [0.0]}, "efficiencies must lie in"),
        ({"windows": "lhco", "methods": ["cwola"]}, "SB events; at least 100"),
        ({"methods": ["supervised"]}, "needs a labelled signal sample"),
        ({"folds": 1}, "folds must be at least 2"),
        ({"colour": "red"}, "unknown field"),
    ]
    for change, message in cases:
        cfg_path = tmp_path / "run.yaml"
        cfg_path.write_text(yaml.safe_dump({**base, **change}))
        with pytest.raises(InputError, match=message):
            execute(load_config(cfg_path))
        assert not (tmp_path / "r").exists()


def test_run_end_to_end_on_generated_events(tmp_path, qcd_es, signal_es):
    from core.data import inject

    data = inject(qcd_es, signal_es, 40, tmp_path / "data", seed=1)
    cfg_path = tmp_path / "run.yaml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "eventset": "data",
                "signal": str(signal_es.path),
                "out": "run",
                "windows": "lhco",
                "min_window_events": 5,
                "folds": 2,
                "inner_folds": 2,
                "efficiencies": [0.5, 0.1],
                "methods": ["inclusive", "cut_tau21", {"supervised": {"epochs": 5, "region": "all"}}],
            }
        )
    )
    run = execute(load_config(cfg_path), progress=False)
    assert isinstance(run, Run) and run.path == tmp_path / "run"
    scores = run.scores()
    assert np.array_equal(scores["event_id"], data.column("event_id"))
    assert set(run.methods) == {"inclusive", "cut_tau21", "supervised"}
    ev = run.evaluation()
    assert ev["methods"]["supervised"]["auc"] > ev["methods"]["inclusive"]["auc"] == 0.5
    sel = run.selection("cut_tau21", 0.5)
    in_sr = scores["deta"] < 1.3
    assert 0.3 < sel[in_sr].mean() < 0.7 and not sel[~in_sr].any()
    assert run.manifest["training_seconds"]["supervised"] > 0
    model = REGISTRY["supervised"].load(run.path / "models" / "supervised" / "fold-0.pkl")
    assert model.score(Events.from_eventset(signal_es)).shape == (len(signal_es),)
    with pytest.raises(InputError, match="already exists"):
        execute(load_config(cfg_path), progress=False)


def test_vae_qr_trained_on_the_deta_sideband_ranks_signal_jets_above_qcd(qcd_es, signal_es):
    vae_cls = REGISTRY["vae_qr"]
    qcd = Events.from_eventset(qcd_es)
    model = vae_cls(epochs=40, patience=8).fit(qcd, Context([], seed=0))
    assert min(model.history) < model.history[0], "the validation loss falls during training"
    sr_qcd = qcd.subset(qcd.deta < 1.3)  # never trained on: training uses 1.3 < |Δη| < 2.5 only
    sig = Events.from_eventset(signal_es)
    perf = performance(model.score(sig), model.score(sr_qcd))
    assert perf.auc > 0.6, f"AUC {perf.auc:.3f}"
    jets = model.jet_scores(sig)
    assert jets.shape == (len(sig), 2) and np.all(np.isfinite(jets))
    with pytest.raises(InputError, match="unknown parameter"):
        vae_cls(latent_size=3)
