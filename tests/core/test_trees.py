"""Boosted decision trees as the weakly supervised classifier: the stored trees give scikit-learn's own
probabilities, CWoLa with them finds an injected signal and nothing without one, a fitted method stores as
plain arrays and scores the same after a round trip."""

from __future__ import annotations

import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from anomalyscope.core.bumphunt.windows import make_windows
from anomalyscope.core.methods import REGISTRY
from anomalyscope.core.methods.base import Context, run_out_of_fold
from anomalyscope.core.methods.evaluate import performance
from anomalyscope.core.methods.trees import TreeEnsemble
from tests.core.synthetic import make_events


def test_stored_trees_give_scikit_learns_probabilities_missing_values_included():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6000, 5))
    x[rng.random(x.shape) < 0.03] = np.nan  # the trees learn where a missing value goes
    y = (x[:, 0] * x[:, 1] + 0.5 * np.nan_to_num(x[:, 2]) + rng.normal(size=len(x)) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=1).fit(x, y)
    trees = TreeEnsemble.from_sklearn(model)
    x_new = rng.normal(size=(9000, 5))  # more rows than one evaluation chunk
    x_new[rng.random(x_new.shape) < 0.03] = np.nan
    np.testing.assert_allclose(trees.predict(x_new), model.predict_proba(x_new)[:, 1], rtol=0, atol=1e-12)
    assert len(trees.roots) == model.n_iter_


def test_cwola_with_trees_finds_an_injected_signal_and_nothing_without_it():
    windows = make_windows("lhco")
    sig_eval, _ = make_events(9, 0, n_sig=2000)
    out = {}
    for n_sig in (0, 450):
        ev, truth = make_events(4, 30000, n_sig=n_sig, lo=3100, hi=3900, drift=False)
        ctx = Context(windows, seed=3, n_inner=2)
        res = run_out_of_fold(REGISTRY["cwola"], {"classifier": "bdt"}, ev, ctx, folds=3, seed=2, signal_eval=sig_eval)
        sr = windows[0].in_sr(ev.mjj)
        out[n_sig] = performance(res.signal_scores[windows[0].in_sr(sig_eval.mjj)], res.scores[sr & (truth == 0)])
    assert out[450].auc > 0.95 and out[450].max_sic > 5.0, f"with signal: max SIC {out[450].max_sic:.2f}"
    assert out[0].auc < 0.75, f"without signal: AUC {out[0].auc:.2f}"
    assert out[450].max_sic > 3 * out[0].max_sic


def test_a_method_with_trees_stores_plain_arrays_and_scores_the_same_after_a_round_trip(tmp_path):
    ev, _ = make_events(2, 6000, lo=2465, hi=7000)
    windows = make_windows("cms", 2465.0, ("A",), 7000.0)[:2]
    ctx = Context(windows, seed=1, n_inner=2)
    cls = REGISTRY["cathode"]
    model = cls(classifier="bdt", bdt_iterations=30, flow_epochs=2, flow_min_steps=0, flow_transforms=2).fit(ev, ctx)
    model.save(tmp_path / "fold-0")
    assert "sklearn" not in (tmp_path / "fold-0.json").read_text()
    assert json.loads((tmp_path / "fold-0.json").read_text())["method"] == "cathode"
    with np.load(tmp_path / "fold-0.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    back = cls.load(tmp_path / "fold-0")
    before, after = model.score_windows(ev), back.score_windows(ev)
    assert before.keys() == after.keys() and before
    for w in before:
        np.testing.assert_array_equal(after[w], before[w])
