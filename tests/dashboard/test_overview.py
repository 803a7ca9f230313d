"""The overview view names the loaded EventSet and draws its m_jj spectrum; a missing one says how to fix it."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from anomalyscope.dashboard.overview import Overview
from anomalyscope.dashboard.state import SessionState


def test_overview_names_the_eventset_and_plots_mjj_with_units(signal_es):
    view = Overview(state=SessionState(eventset_path=str(signal_es.path)))
    summary = view._summary()
    assert isinstance(summary, pn.pane.Markdown)
    assert str(signal_es.path) in summary.object and f"{len(signal_es):,}" in summary.object
    assert "wprime_xy" in summary.object
    plot = view._spectrum()
    assert isinstance(plot, hv.Overlay)
    scatter = plot.Scatter.I
    assert scatter.kdims[0].name == "m_jj [GeV]" and "Events" in scatter.vdims[0].name
    assert scatter.data.iloc[:, 1].sum() == (signal_es.column("deta") < 1.3).sum()


def test_overview_explains_a_missing_eventset(tmp_path):
    view = Overview(state=SessionState(eventset_path=str(tmp_path / "nothing")))
    alert = view._summary()
    assert isinstance(alert, pn.pane.Alert)
    assert "python -m anomalyscope demo" in alert.object and "nothing" in alert.object


def test_overview_describes_the_run_and_its_methods(small_run):
    view = Overview(state=SessionState(run_path=str(small_run.path)))
    md = view._run_summary().object
    assert str(small_run.path) in md and "lhco 3300–3700" in md
    for name in small_run.manifest.methods:
        assert f"Method `{name}`" in md
    assert isinstance(Overview(state=SessionState(run_path="/nonexistent"))._run_summary(), pn.pane.Alert)


def test_overview_states_the_search_result_with_local_and_global_significance(small_run):
    md = Overview(state=SessionState(run_path=str(small_run.path)))._search_summary().object
    res = small_run.search_result()
    fitted = [s for s in res.scans if s.peak() is not None]
    best = max(fitted, key=lambda s: s.peak()[0])
    assert f"**{best.method}**" in md and "global" in md and "Inclusive search" in md
    assert f"{res.global_significance.z_global:.1f}σ" in md and f"{res.trials.selections} selections" in md


def test_overview_opens_on_the_discovery_of_the_best_data_driven_method(small_run, monkeypatch):
    """The headline and the discovery row are the best *data-driven* method's (references are yardsticks): here
    the τ21 cut is made to play one. Its spectrum and fit sit beside the inclusive one, the excess's window and
    mass marked; the dashboard opens on that selection with the m_jj range set to the window's signal region."""
    from anomalyscope.core import methods
    from anomalyscope.dashboard.app import open_run
    from anomalyscope.dashboard.data import load_run

    monkeypatch.setattr(methods, "REFERENCES", methods.REFERENCES - {"cut_tau21"})
    rd = load_run(str(small_run.path))
    m, b = rd.best_anomaly()
    assert m == "cut_tau21"
    view = Overview(state=SessionState(run_path=str(small_run.path)))
    md = view._search_summary().object
    assert "largest excess **cut_tau21**" in md and f"{b.z_local:.1f}σ" in md and "Inclusive search" in md
    row = view._discovery()
    plots = [p.object for p in row.objects[0].objects]
    assert len(plots) == 2 and plots[0].opts["title"].startswith("Inclusive") and "cut_tau21" in plots[1].opts["title"]
    sr = rd.search.window(b.window).sr
    for p in plots:
        kinds = {type(e).__name__: e for e in p}
        assert kinds["Curve"].vdims[0].name == "Events / GeV" and kinds["Curve"].kdims[0].name == "m_jj [GeV]"
        assert kinds["VLine"].data == b.mass and list(kinds["VSpan"].data) == list(sr)
    state = SessionState()
    open_run(state, str(small_run.path), story=True)
    assert (state.method, state.efficiency, state.mjj_window) == (m, b.eff, tuple(sr))


def test_without_a_data_driven_method_there_is_no_discovery_row(small_run):
    assert isinstance(Overview(state=SessionState(run_path=str(small_run.path)))._discovery(), pn.layout.Spacer)


def test_overview_shows_the_retrained_null_beside_the_toys_or_says_there_is_none(small_run, tmp_path):
    import shutil

    from anomalyscope.core.results import attachments

    run = tmp_path / "run"
    shutil.copytree(small_run.path, run)
    md = Overview(state=SessionState(run_path=str(run)))._search_summary().object
    assert "No retrained null yet" in md and "anomalyscope null RUN" in md
    g = small_run.search_result().global_significance
    content = {
        "pool": "qcd", "pool_events": 4000, "n_events": 440, "shared": "events", "max_z": [1.0] * 19 + [9.0],
        "p_toys": [0.5] * 20, "method_max_z": {}, "observed_max_z": g.observed_max_z,
        "observed_p_toys": g.p_global, "seconds": 1.0,
    }  # fmt: skip
    attachments.write(run / attachments.ATTACHMENTS["null_calibration"].path, "null_calibration", content)
    md = Overview(state=SessionState(run_path=str(run)))._search_summary().object
    assert "Retrained null: **calibrated global" in md and "of 20 retrained background-only pseudo-datasets" in md
