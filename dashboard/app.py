"""Assemble a session: sidebar controls, one tab per view, URL ↔ state sync (``page`` sends the page first)."""

from __future__ import annotations

import panel as pn

from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard import export
from anomalyscope.dashboard.correlation import CorrelationView
from anomalyscope.dashboard.data import (
    available_runs,
    default_eventset_path,
    default_run_path,
    load_run,
    shown_paths,
)
from anomalyscope.dashboard.events import EventsView
from anomalyscope.dashboard.features import FeatureView
from anomalyscope.dashboard.lund import LundView
from anomalyscope.dashboard.overview import Overview
from anomalyscope.dashboard.design import PROJECTOR_STYLES, template
from anomalyscope.dashboard.performance import PerformanceView
from anomalyscope.dashboard.sensitivity import SensitivityView
from anomalyscope.dashboard.spectra import SpectraView
from anomalyscope.dashboard.state import SessionState, clean_url_values
from anomalyscope.dashboard.trigger import TriggerView


def open_run(state: SessionState, run_path: str, story: bool = False) -> None:
    """Point the state at a Run: its methods and cuts become the choices. ``story``: open on the search's
    answer — the data-driven method with the largest excess, its cut, and the m_jj range of its window's
    signal region (the feature and event views then show the events that make the excess)."""
    state.run_path = run_path
    try:
        rd = load_run(run_path)
    except AnomalyscopeError:
        return
    method = state.method if state.method in rd.methods else ("cwola" if "cwola" in rd.methods else rd.methods[0])
    state.param.method.objects = rd.methods
    state.param.efficiency.objects = rd.efficiencies
    eff = state.efficiency if state.efficiency in rd.efficiencies else None
    update = dict(
        method=method,
        efficiency=eff or (0.01 if 0.01 in rd.efficiencies else rd.efficiencies[-1]),
        eventset_path=str(rd.eventset.path),
        event_row=None,
    )
    best = rd.best_anomaly() if story else None
    if best is not None and best[1].eff in rd.efficiencies:
        m, b = best
        sr = rd.search.window(b.window).sr if b.window else (None, None)
        update.update(method=m, efficiency=b.eff, mjj_lo=sr[0], mjj_hi=sr[1])
    state.param.update(**update)


def _default_run(runs: dict[str, str]) -> tuple[str | None, str]:
    """The Run a session opens first: its label among ``runs`` (None if it is not one of them) and its path."""
    default = str(default_run_path().resolve())
    label = next((k for k, v in runs.items() if v == default), None)
    return label, runs.get(label, default)


def open_default_run() -> None:
    """Read the default Run into the process's cache (``page.prepare``: while the first browser loads its scripts)."""
    try:
        load_run(_default_run(available_runs())[1])
    except AnomalyscopeError:
        pass  # the page says why when a session opens it


def make_state() -> SessionState:
    runs = available_runs()
    state = SessionState(eventset_path=str(default_eventset_path()))
    state.param.run.objects = list(runs)
    label, path = _default_run(runs)
    if label is not None:
        state.run = label
    open_run(state, path, story=True)
    state.param.watch(lambda e: open_run(state, runs[e.new]) if e.new in runs else None, "run")
    return state


def _apply_link(state: SessionState, location) -> list[str]:
    """Keep only the link's values this session can take (the Run first, then the rest against it), so the URL
    sync never sets a method the Run lacks or a cut it has no threshold for; tell the user what was dropped."""
    from urllib.parse import parse_qsl, urlencode

    pairs = parse_qsl(location.search.lstrip("?"), keep_blank_values=True)
    query = dict(pairs)
    ours = set(state.url_parameters())
    ok, problems = clean_url_values(state, {k: v for k, v in query.items() if k == "run"}, None)
    if "run" in ok and ok["run"] != state.run:
        state.run = ok["run"]  # opens it: the methods and cuts offered are now that Run's
    try:
        n_events = len(load_run(state.run_path).eventset)
    except AnomalyscopeError:
        n_events = None
    more, problems2 = clean_url_values(state, {k: v for k, v in query.items() if k in ours - {"run"}}, n_events)
    ok.update(more)
    problems += problems2
    if problems:
        kept = [(k, v) for k, v in pairs if k not in ours or k in ok]
        search = f"?{urlencode(kept)}" if kept else ""
        location.search = search  # what the URL sync reads now
        for msg in problems:
            pn.state.onload(lambda msg=msg: pn.state.notifications.warning(shown_paths(msg), duration=10000))
    return problems


def session() -> tuple[SessionState, pn.template.FastListTemplate]:
    """A session's state and its page, built here and now (tests; a server builds ``page()``)."""
    state, sidebar, main = contents()
    return state, template(sidebar, [main])


def contents() -> tuple[SessionState, list, pn.Column]:
    """A session's state, sidebar widgets and main area (the Run opened, the link's values applied)."""
    state = make_state()
    if pn.state.location is not None:
        _apply_link(state, pn.state.location)
        # the browser reports its own URL once loaded, and the sync applies it again: the state's parameters
        # refuse what does not fit (a Selector checks its objects, numbers their bounds), so nothing bad lands
        pn.state.location.sync(state, {p: p for p in state.url_parameters()}, on_error=lambda _: None)
    export.register(state)  # after the URL is read: the figures of this session are made in its format
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
        pn.widgets.Select.from_param(state.param.run, name="Run"),
        pn.pane.Markdown("### Selection"),
        pn.widgets.Select.from_param(state.param.method, name="Method"),
        pn.widgets.RadioButtonGroup.from_param(state.param.efficiency, name="Cut (flat efficiency)"),
        window_md,
        clear,
        pn.pane.Markdown("Box-select on the spectrum to choose an m_jj window; the feature and event views follow."),
        pn.widgets.Checkbox.from_param(state.param.large_fonts, name="Projector mode (large fonts)"),
        pn.pane.Markdown(f"Plots save as **{state.plot_format.upper()}** (the plot toolbar's save button):"),
        export.format_buttons(),
    ]

    def later(view):
        """A tab built when it is first opened: only the Overview is made for the first paint (a dynamic Tabs
        renders only the open tab, but would still build every view's layout, the correlation matrix included)."""
        return pn.param.ParamFunction(lambda: view(state=state), lazy=True)

    tabs = pn.Tabs(
        ("Overview", Overview(state=state)),
        ("Spectra", later(SpectraView)),
        ("Correlations", later(CorrelationView)),
        ("What is anomalous?", later(FeatureView)),
        ("Events", later(EventsView)),
        ("Performance", later(PerformanceView)),
        ("Sensitivity", later(SensitivityView)),
        ("Lund reweighting", later(LundView)),
        ("Trigger", later(TriggerView)),
        dynamic=True,
    )
    main = pn.Column(tabs, sizing_mode="stretch_width")

    def projector(*_):
        # text follows the scale (see Design); plots scale with the state's fontscale
        main.styles = PROJECTOR_STYLES if state.large_fonts else {}

    state.param.watch(projector, "large_fonts")
    projector()
    return state, sidebar, main
