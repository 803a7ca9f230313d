"""The methods on plain arrays: fit(X, mjj) / score(X), as a notebook user calls them."""

from __future__ import annotations

import numpy as np
import pytest

from anomalyscope.core.bumphunt.windows import make_windows
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods import REGISTRY, CWoLa
from anomalyscope.core.methods.base import Context, Method
from anomalyscope.core.methods.evaluate import performance
from tests.core.synthetic import make_events

FAST = {"epochs": 6, "patience": 3}


def _arrays(ev, names=("msoftdrop", "tau21")):
    return {f: ev.feature(f) for f in names}


def _halves(ev, truth):
    half = np.arange(len(ev)) % 2 == 0
    return ev.subset(half), truth[half], ev.subset(~half), truth[~half]


def test_cwola_on_arrays_finds_an_injected_signal_and_invents_none_on_background():
    """Signal injected at 3.5 TeV: the held-out signal scores far above the background in the signal region.
    Background only (features independent of m_jj): the SR and sideband events' scores are alike (AUC ≈ 0.5)."""
    ev, truth = make_events(1, 40000, n_sig=800, lo=3100, hi=3900, drift=False)
    train, _, test, t_test = _halves(ev, truth)
    m = CWoLa(**FAST).fit(_arrays(train), train.mjj, windows="lhco", seed=2, n_inner=2)
    s = m.score(_arrays(test))  # one window: no m_jj needed
    in_sr = (test.mjj >= 3300) & (test.mjj < 3700)
    auc = performance(s[in_sr & (t_test == 1)], s[in_sr & (t_test == 0)]).auc
    assert auc > 0.85, auc

    ev, truth = make_events(3, 40000, n_sig=0, lo=3100, hi=3900, drift=False)
    train, _, test, _ = _halves(ev, truth)
    m = CWoLa(**FAST).fit(_arrays(train), train.mjj, windows="lhco", seed=2, n_inner=2)
    s = m.score(_arrays(test))
    sr = (test.mjj >= 3300) & (test.mjj < 3700)
    auc = performance(s[sr], s[~sr]).auc
    n_sr, n_sb = sr.sum(), (~sr).sum()
    sigma = np.sqrt((n_sr + n_sb + 1) / (12 * n_sr * n_sb))  # the spread of AUC under no difference
    assert abs(auc - 0.5) < 4 * sigma, (auc, sigma)


def test_the_array_form_trains_the_same_model_as_the_events_form():
    ev, _ = make_events(5, 6000, n_sig=300, lo=3100, hi=3900)
    X = {f: ev.feature(f) for f in ev.feature_names}
    a = CWoLa(**FAST).fit(X, ev.mjj, deta=ev.deta, windows="lhco", seed=4, n_inner=2)
    b = CWoLa(**FAST).fit(ev, Context(make_windows("lhco"), seed=4, n_inner=2))
    np.testing.assert_array_equal(a.score(X, ev.mjj), b.score(ev))
    # an (n, 2, n_features) array with named features is the same input as the mapping
    np.testing.assert_array_equal(a.score(ev.jets, ev.mjj, features=list(ev.feature_names)), b.score(ev))


def test_a_model_fitted_on_arrays_survives_storage_and_refuses_other_features(tmp_path):
    ev, _ = make_events(6, 4000, n_sig=200, lo=3100, hi=3900)
    X = _arrays(ev)
    m = REGISTRY["supervised"](**FAST).fit(
        X, ev.mjj, signal=(_arrays(make_events(7, 0, n_sig=500)[0]), np.full(500, 3500.0)), n_inner=2
    )
    m.save(tmp_path / "sup")
    back = Method.load(tmp_path / "sup.json")
    np.testing.assert_array_equal(back.score(X), m.score(X))
    with pytest.raises(InputError, match=r"features \['tau21', 'msoftdrop'\] differ"):
        back.score({"tau21": X["tau21"], "msoftdrop": X["msoftdrop"]})


def test_references_score_arrays_with_their_known_answers():
    tau21 = np.array([[0.2, 0.5], [0.9, 0.1]])
    for name, expected in (("cut_tau21", [-0.5, -0.9]), ("inclusive", [0.0, 0.0])):
        m = REGISTRY[name]().fit({"tau21": tau21}, [3000.0, 3500.0])
        np.testing.assert_allclose(m.score({"tau21": tau21}), expected, rtol=1e-6)


X2 = {"msoftdrop": np.ones((4, 2)), "tau21": np.full((4, 2), 0.5)}
M4 = np.array([3000.0, 3400.0, 3500.0, 3800.0])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: CWoLa().fit(X2, M4), "cwola trains one classifier per m_jj window: give windows="),
        (lambda: CWoLa().fit(X2), r"cwola.fit\(X, mjj\): the dijet masses mjj are needed"),
        (lambda: CWoLa().fit(X2, M4[:3], windows="lhco"), "mjj: 3 values for 4 events"),
        (lambda: CWoLa().fit(X2, -M4, windows="lhco"), "mjj: 4 values are not positive"),
        (lambda: CWoLa().fit({"tau21": np.ones(4)}, M4, windows="lhco"), r"X\['tau21'\]: expected shape \(n, 2\)"),
        (lambda: CWoLa().fit(np.ones((4, 2, 2)), M4, windows="lhco"), "name its 2 features with features="),
        (lambda: CWoLa().fit(np.ones((4, 2, 2)), M4, features=["a"]), "features: 1 names for 2 features"),
        (lambda: CWoLa().fit({"tau21": np.full((4, 2), np.nan)}, M4, windows="lhco"), "8 values are NaN"),
        (lambda: CWoLa().fit(X2, M4, windows="nope"), "windows: a mode must be one of"),
        (lambda: CWoLa().fit(X2, M4, windows=[(1, 2)]), "windows: entry 0 is not a Window"),
        (lambda: CWoLa().fit(X2, M4, windows=((3100, 3300), (3700, 3300), None)), "low edge is not below"),
        (lambda: CWoLa().fit(X2, M4, windows="lhco", signal=X2), r"signal: give \(X, mjj\)"),
        (lambda: CWoLa().fit(X2, M4, windows="lhco", colour="red"), "cwola.fit: .*colour"),
    ],
)
def test_bad_array_inputs_are_one_clear_error(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_method_trained_in_several_windows_needs_mjj_to_score():
    ev, _ = make_events(8, 20000, n_sig=0, lo=2400, hi=7000)
    X = _arrays(ev)
    m = CWoLa(epochs=1, patience=1).fit(X, ev.mjj, windows="cms", n_inner=2)
    assert len(m.models) > 1
    with pytest.raises(InputError, match="give mjj to score each event in its own window"):
        m.score(X)
    s = m.score(X, ev.mjj)
    assert np.isfinite(s[(ev.mjj > 3013) & (ev.mjj < 4500)]).all()
