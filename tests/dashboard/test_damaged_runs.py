"""A damaged Run is shown as unreadable, with the reason, and never takes the dashboard down: every view
draws (an alert where the Run is needed), and the other Runs open as usual."""

from __future__ import annotations

import json
import shutil

import panel as pn
import pyarrow.parquet as pq
import pytest
from panel.io.location import Location

from anomalyscope.dashboard.app import session
from anomalyscope.dashboard.correlation import CorrelationView
from anomalyscope.dashboard.events import EventsView
from anomalyscope.dashboard.features import FeatureView
from anomalyscope.dashboard.overview import Overview
from anomalyscope.dashboard.performance import PerformanceView
from anomalyscope.dashboard.spectra import SpectraView


def _truncate_scores(run):
    data = (run / "scores.parquet").read_bytes()
    (run / "scores.parquet").write_bytes(data[: len(data) // 3])


def _manifest(run, **change):
    m = json.loads((run / "manifest.json").read_text())
    for k, v in change.items():
        if v is None:
            m.pop(k)
        else:
            m[k] = v
    (run / "manifest.json").write_text(json.dumps(m))


def _drop_score_column(run):
    t = pq.read_table(run / "scores.parquet")
    pq.write_table(t.drop(["cut_tau21"]), run / "scores.parquet")


def _unchecked(damage):
    """The same damage to a Run written before checksums were recorded (the deeper checks still hold)."""

    def apply(run):
        _manifest(run, checksums=None)
        damage(run)

    return apply


DAMAGE = {
    "truncated scores.parquet": (_truncate_scores, "scores.parquet: checksum mismatch"),
    "rewritten scores.parquet": (_drop_score_column, "scores.parquet: checksum mismatch"),
    "truncated scores.parquet, no checksums": (_unchecked(_truncate_scores), "scores.parquet: unreadable"),
    "manifest without methods": (lambda r: _manifest(r, methods=None), "field 'methods' is missing"),
    "methods: []": (lambda r: _manifest(r, methods=[]), "'methods' must list"),
    "efficiencies: []": (lambda r: _manifest(r, efficiencies=[]), "'efficiencies' must list"),
    "training time as text": (
        lambda r: _manifest(r, training_seconds={"cut_tau21": "fast"}),
        "manifest.json: field 'training_seconds.cut_tau21' is 'fast', expected a number",
    ),
    "a method's scores missing, no checksums": (_unchecked(_drop_score_column), "no column for cut_tau21"),
}


def _texts(obj) -> str:
    if isinstance(obj, pn.pane.Alert):
        return obj.object
    if isinstance(obj, pn.layout.ListLike):
        return " ".join(_texts(o) for o in obj)
    return ""


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_default_run_is_explained_and_the_other_run_still_opens(kind, small_run, tmp_path, monkeypatch):
    damage, reason = DAMAGE[kind]
    root = tmp_path / "runs"
    shutil.copytree(small_run.path, root / "good")
    shutil.copytree(small_run.path, root / "bad")
    damage(root / "bad")
    monkeypatch.setenv("ANOMALYSCOPE_RUN_DIRS", str(root))
    monkeypatch.setenv("ANOMALYSCOPE_RUN", str(root / "bad"))
    monkeypatch.setattr(pn.state, "_location", Location(search=""))
    monkeypatch.setattr(pn.state, "onload", lambda cb: None)

    state, page = session()  # the page is built although its default Run is damaged
    assert set(state.param.run.objects) == {"runs/good", "runs/bad"} and state.run == "runs/bad"
    spectra = SpectraView(state=state)._plots()
    assert isinstance(spectra, pn.pane.Alert) and reason in spectra.object, spectra
    assert str(tmp_path) not in spectra.object and "runs/bad" in spectra.object  # no server paths shown
    events = EventsView(state=state)
    assert reason in _texts(events._table()) + _texts(events._display())
    for view in (
        FeatureView(state=state)._plot,
        CorrelationView(state=state)._matrix,
        PerformanceView(state=state).__panel__,
    ):
        view()  # an alert, not an exception
    Overview(state=state).__panel__()

    state.run = "runs/good"  # the rest of the dashboard works
    assert state.method in state.param.method.objects
    assert not isinstance(SpectraView(state=state)._plots(), pn.pane.Alert)
