"""Feature distributions of the most anomalous events against the rest, in the m_jj range shown."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param
from holoviews import streams

from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.base import HIGHLIGHT, RunView, cannot_show
from anomalyscope.dashboard.data import (
    FEATURE_LABELS,
    feature_distributions,
)


class FeatureView(RunView):
    """What is anomalous? Jet features of the events passing the cut (or the top N with no cut) against the rest.

    The plot is a DynamicMap (as the spectra): a change updates the data of the figure on screen instead of
    building a new one, which took 0.3–0.45 s per change on 2 cores."""

    n_top = param.Integer(default=100, bounds=(10, 2000))
    caption = param.String(default="", doc="what the plot shows, in words (also readable by tests)")
    WATCHED = ("method", "feature", "mjj_lo", "mjj_hi", "efficiency", "event_row", "large_fonts")

    def __init__(self, **params):
        super().__init__(**params)
        streams_ = [streams.Params(self.state, list(self.WATCHED)), streams.Params(self, ["n_top"])]
        self.plot = hv.DynamicMap(lambda **kw: self._frame(), streams=streams_)

    def _plot(self):
        """The histograms (an hv.Overlay) or an explanation of what is missing (an alert)."""
        try:
            rd = self._run()
            method = self.state.method or rd.methods[0]
            d = feature_distributions(
                rd, method, self.state.feature, self.state.mjj_window, self.n_top, eff=self.state.efficiency
            )
        except AnomalyscopeError as exc:
            self.caption = str(exc)
            return cannot_show(str(exc))
        label = FEATURE_LABELS.get(self.state.feature, self.state.feature)
        window = (
            "all m_jj"
            if self.state.mjj_window is None
            else f"{self.state.mjj_window[0]:.0f}–{self.state.mjj_window[1]:.0f} GeV"
        )
        chosen = (
            f"top {d['n_top']} by {method}"
            if self.state.efficiency >= 1
            else f"{d['n_top']} passing ε = {self.state.efficiency:g} of {method}"
        )
        self.caption = (
            f"{label} of both jets: {chosen} against the other {d['n_rest']:,}, "
            f"in {window}, |Δη| < {rd.search.definition.deta_max:g}; KS p-value of the difference {d['ks_p']:.2g}."
        )
        row = self._event(rd)
        title = f"{label} of both jets, {window} (KS p = {d['ks_p']:.2g})" + (
            "" if row is None else f"; lines: event row {row} (j1 solid, j2 dashed)"
        )
        return self._overlay(label, d["edges"], d["top"], d["rest"], self._event_values(rd, row), title)

    def _event_values(self, rd, row) -> list[float]:
        if row is None:
            return [np.nan, np.nan]
        return [
            float(rd.features.get(f"{j}.{self.state.feature}", np.full(row + 1, np.nan))[row]) for j in ("j1", "j2")
        ]

    def _overlay(self, label, edges, top, rest, lines, title):
        """Always the same layers (empty or NaN when there is nothing to show): the DynamicMap keeps its figure."""
        hist = {"kdims": [label], "vdims": ["normalised"]}
        layers = [
            hv.Histogram((edges, rest), **hist, label="other events").opts(alpha=0.5, color="#7f7f7f", line_color=None),
            hv.Histogram((edges, top), **hist, label="selected events").opts(
                alpha=0.5, color="#d62728", line_color=None
            ),
        ]
        for v, dash in zip(lines, ("solid", "dashed")):
            layers.append(hv.VLine(v).opts(color=HIGHLIGHT, line_dash=dash, line_width=2))
        return hv.Overlay(layers).opts(
            responsive=True,
            height=420,
            legend_position="top_right",
            title=title,
            fontscale=self.state.fontscale,
            framewise=True,
        )

    def _frame(self):
        plot = self._plot()
        if isinstance(plot, hv.core.Dimensioned):
            return plot
        label = FEATURE_LABELS.get(self.state.feature, self.state.feature)
        return self._overlay(label, np.array([0.0, 1.0]), np.zeros(1), np.zeros(1), [np.nan, np.nan], "no events")

    def __panel__(self):
        return pn.Column(
            pn.Row(self.state.param.feature, self.param.n_top),
            pn.pane.HoloViews(self.plot, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.param.caption),
            sizing_mode="stretch_width",
        )
