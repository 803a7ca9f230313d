"""The trigger tab: its tables from a real report, and the view with and without a report in the Run."""

from __future__ import annotations

import shutil

import panel as pn

from anomalyscope.dashboard.data import load_run
from anomalyscope.dashboard.state import SessionState
from anomalyscope.dashboard.trigger import TriggerView, exactness_table, resource_table


def state_for(run_path) -> SessionState:
    st = SessionState()
    st.run_path = str(run_path)
    st.param.method.objects = load_run(str(run_path)).methods
    return st


def test_tables_say_how_each_number_was_obtained(trigger_report):
    m = trigger_report.models["axol1tl"]
    res = resource_table(m)
    assert res.iloc[0]["LUT"] == m.resources.lut and "da4ml" in res.iloc[0]["how"]
    assert res.iloc[1]["LUT"] == m.resources.lut_without_combining > res.iloc[0]["LUT"]  # like with yosys
    assert res.iloc[2]["how"].startswith("yosys: skipped")
    ex = exactness_table(m)
    assert list(ex["mismatches"][:2]) == [0, 0] and "decisions agree" in ex["mismatches"].iloc[2]


def test_view_renders_a_report_and_says_when_there_is_none(trigger_dir, small_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run.path, run)
    empty = TriggerView(state=state_for(run))._body()
    assert isinstance(empty, pn.pane.Alert) and "No trigger report in this Run" in empty.object
    shutil.copytree(trigger_dir, run / "trigger")
    view = TriggerView(state=state_for(run))
    for model in ("axol1tl", "cicada"):
        view.model = model
        body = view._body()
        assert isinstance(body, pn.Column)
        pn.panel(body).get_root()


def test_view_shows_a_pileup_study(trigger_pileup, small_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run.path, run)
    shutil.copytree(trigger_pileup, run / "trigger")
    view = TriggerView(state=state_for(run))
    section = view._pileup(1.0)
    assert isinstance(section, pn.Column) and "Poisson(⟨μ⟩)" in section[0].object
    pn.panel(section).get_root()
    (run / "trigger" / "pileup.json").unlink()
    assert "no study in this Run" in view._pileup(1.0).object
