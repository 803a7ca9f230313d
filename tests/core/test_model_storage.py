"""Fitted methods stored as weights plus a parameters JSON: every method scores the same after a round trip,
and a file that names a foreign class or lacks its weights is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anomalyscope.core.bumphunt.windows import make_windows
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods import REGISTRY
from anomalyscope.core.methods.base import Context
from tests.core.synthetic import attach_constituents, make_events, write_synthetic_eventset

LIGHT_FLOWS = {"flow_epochs": 2, "flow_min_steps": 0, "flow_transforms": 2}


@pytest.fixture(scope="module")
def sample():
    ev, _ = make_events(2, 6000, lo=2465, hi=7000)
    ev = attach_constituents(ev, seed=15)
    windows = make_windows("cms", 2465.0, ("A",), 7000.0)[:2]
    ctx = Context(windows, signal=make_events(12, 0, n_sig=500)[0],
                  background_extra=make_events(13, 3000, lo=2465)[0], seed=1, n_inner=2)  # fmt: skip
    return ev, ctx


def _params(name, tmp_path):
    if name == "quak":
        prior, truth = make_events(14, 0, n_sig=500, jet_masses=(300.0, 80.0))
        return {"prior": [str(write_synthetic_eventset(tmp_path / "prior", prior, truth, "other").path)], **LIGHT_FLOWS}
    return {
        "supervised": {"epochs": 2}, "iad": {"epochs": 2}, "cwola": {"epochs": 2}, "tnt": {"epochs": 2, "ae_epochs": 2},
        "cathode": {"epochs": 2, **LIGHT_FLOWS}, "cathode_b": {"epochs": 2, **LIGHT_FLOWS},
        "ranode": {"signal_epochs": 2, "signal_min_steps": 0, **LIGHT_FLOWS},
        "vae_qr": {"epochs": 1, "max_train_jets": 1000},
    }.get(name, {})  # fmt: skip


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_method_scores_the_same_after_a_round_trip(name, sample, tmp_path):
    ev, ctx = sample
    cls = REGISTRY[name]
    model = cls(**_params(name, tmp_path)).fit(ev, ctx)
    model.save(tmp_path / "fold-0")
    meta = json.loads((tmp_path / "fold-0.json").read_text())
    assert meta["method"] == name and meta["params"]["__dataclass__"].endswith(type(model.params).__qualname__)
    with np.load(tmp_path / "fold-0.npz", allow_pickle=False) as z:  # plain arrays: no pickle inside
        assert all(z[k].dtype != object for k in z.files)
    back = cls.load(tmp_path / "fold-0")
    assert back.params == model.params
    if cls.windowed:
        before, after = model.score_windows(ev), back.score_windows(ev)
        assert before.keys() == after.keys() and before
        for w in before:
            np.testing.assert_array_equal(after[w], before[w])
    np.testing.assert_array_equal(back.score(ev), model.score(ev))


def test_a_stored_model_that_names_a_foreign_class_or_lacks_weights_is_refused(sample, tmp_path):
    ev, ctx = sample
    REGISTRY["supervised"](epochs=1).fit(ev, ctx).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    (tmp_path / "bad.json").write_text(json.dumps({**meta, "class": "os:system"}))
    (tmp_path / "bad.npz").write_bytes((tmp_path / "m.npz").read_bytes())
    with pytest.raises(InputError, match="os:system, which is not one of anomalyscope's"):
        REGISTRY["supervised"].load(tmp_path / "bad")
    (tmp_path / "m.npz").unlink()
    with pytest.raises(InputError, match=r"m\.npz: no such file"):
        REGISTRY["supervised"].load(tmp_path / "m")
    REGISTRY["supervised"](epochs=1).fit(ev, ctx).save(tmp_path / "c")
    with pytest.raises(InputError, match="holds a Supervised, not a CWoLa"):
        REGISTRY["cwola"].load(tmp_path / "c")
