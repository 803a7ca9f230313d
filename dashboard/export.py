"""Plot export as PNG or SVG: what a plot's save button writes follows the session's ``plot_format``.

Bokeh draws a figure either on a canvas (the save button writes PNG) or as SVG (it writes SVG), chosen when
the figure is made: BokehJS does not switch a figure already on the page (tried). So the format is part of the
URL and read when a session starts; the sidebar's buttons reload the page with the other format, all in the
browser. A HoloViews hook, installed once for every element type, sets the backend of each figure a
session makes from that session's state.
"""

from __future__ import annotations

import weakref

import holoviews as hv
import panel as pn

_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Bokeh Document → SessionState
ELEMENTS = (
    "Area", "Bars", "Curve", "ErrorBars", "HeatMap", "Histogram", "HLine", "Image", "Labels", "Overlay", "Path",
    "Points", "QuadMesh", "RGB", "Scatter", "Segments", "Spread", "Text", "VLine", "VSpan",
)  # fmt: skip


def register(state) -> None:
    """Make the current session's figures follow ``state.plot_format``."""
    if pn.state.curdoc is not None:
        _SESSIONS[pn.state.curdoc] = state


def output_backend(plot, element) -> None:
    state = _SESSIONS.get(pn.state.curdoc) if pn.state.curdoc is not None else None
    if state is not None and state.plot_format == "svg":
        plot.state.output_backend = "svg"


def install() -> None:
    hv.opts.defaults(*(getattr(hv.opts, name)(hooks=[output_backend]) for name in ELEMENTS), backend="bokeh")


def format_buttons() -> pn.Row:
    """Two buttons that reload the page with plot_format=png or svg (client side: a fresh session)."""
    row = []
    for fmt, label in (("png", "PNG (canvas)"), ("svg", "SVG (vector)")):
        b = pn.widgets.Button(name=label, button_type="default", sizing_mode="stretch_width")
        b.js_on_click(
            code=f"const u = new URL(window.location.href); u.searchParams.set('plot_format', '{fmt}'); "
            "window.location.assign(u.toString());"
        )
        row.append(b)
    return pn.Row(*row, sizing_mode="stretch_width")
