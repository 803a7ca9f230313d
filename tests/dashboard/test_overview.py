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
