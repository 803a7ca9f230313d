"""The overview view names the loaded EventSet and draws its m_jj spectrum; a missing one says how to fix it."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from dashboard.overview import Overview
from dashboard.state import SessionState


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
    assert "python -m core demo" in alert.object and "nothing" in alert.object


def test_overview_describes_the_run_and_its_methods(small_run):
    view = Overview(state=SessionState(run_path=str(small_run.path)))
    md = view._run_summary().object
    assert str(small_run.path) in md and "lhco 3300–3700" in md
    for name in small_run.manifest["methods"]:
        assert f"Method `{name}`" in md
    assert isinstance(Overview(state=SessionState(run_path="/nonexistent"))._run_summary(), pn.pane.Alert)


def test_overview_states_the_search_result_with_local_and_global_significance(small_run):
    md = Overview(state=SessionState(run_path=str(small_run.path)))._search_summary().object
    res = small_run.search_result()
    fitted = [s for s in res["scans"] if s.get("z") and any(z == z for z in s["z"])]
    best = max(fitted, key=lambda s: max(z for z in s["z"] if z == z))
    assert f"**{best['method']}**" in md and "global" in md and "Inclusive search" in md
    assert f"{res['global']['z_global']:.1f}σ" in md and f"{res['trials']['selections']} selections" in md
