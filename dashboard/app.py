"""Assemble the template: sidebar controls, one tab per view, URL ↔ state sync."""

from __future__ import annotations

import panel as pn

from core.errors import InputError
from dashboard.data import default_eventset_path, default_run_path, load_run
from dashboard.overview import Overview
from dashboard.state import SessionState
from dashboard.views import CorrelationView, EventsView, FeatureView, PerformanceView, SpectraView


def make_state() -> SessionState:
    run_path = str(default_run_path())
    state = SessionState(run_path=run_path, eventset_path=str(default_eventset_path()))
    try:
        rd = load_run(run_path)
        state.param.method.objects = rd.methods
        state.method = "cwola" if "cwola" in rd.methods else rd.methods[0]
        state.param.efficiency.objects = rd.efficiencies
        state.efficiency = 0.01 if 0.01 in rd.efficiencies else rd.efficiencies[-1]
        state.eventset_path = str(rd.eventset.path)
    except InputError:
        pass
    return state


def build() -> pn.template.FastListTemplate:
    state = make_state()
    if pn.state.location is not None:
        pn.state.location.sync(state, {p: p for p in state.url_parameters()})
    clear = pn.widgets.Button(name="Clear m_jj window", button_type="default")
    clear.on_click(lambda e: state.param.update(mjj_lo=None, mjj_hi=None))
    window_md = pn.bind(
        lambda lo, hi: pn.pane.Markdown(
            "m_jj window: **all**"
            if lo is None or hi is None
            else f"m_jj window: **{min(lo, hi):.0f}–{max(lo, hi):.0f} GeV**"
        ),
        state.param.mjj_lo,
        state.param.mjj_hi,
    )
    sidebar = [
        pn.pane.Markdown("### Selection"),
        pn.widgets.Select.from_param(state.param.method, name="Method"),
        pn.widgets.RadioButtonGroup.from_param(state.param.efficiency, name="Cut (flat efficiency)"),
        window_md,
        clear,
        pn.pane.Markdown("Box-select on the spectrum to choose an m_jj window; the feature and event views follow."),
    ]
    missing = "Not in this Run yet: {} arrive with their capability (see README)."
    tabs = pn.Tabs(
        ("Overview", Overview(state=state)),
        ("Spectra", SpectraView(state=state)),
        ("Correlations", CorrelationView(state=state)),
        ("What is anomalous?", FeatureView(state=state)),
        ("Events", EventsView(state=state)),
        ("Performance", PerformanceView(state=state)),
        ("Lund reweighting", pn.pane.Alert(missing.format("Lund-plane reweighting results"), alert_type="info")),
        ("Trigger", pn.pane.Alert(missing.format("trigger-model resource reports"), alert_type="info")),
        dynamic=True,
    )
    return pn.template.FastListTemplate(title="anomalyscope", sidebar=sidebar, main=[tabs], sidebar_width=300)
