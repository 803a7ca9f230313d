"""The most anomalous events as a table (downloadable) and the selected event's display in the η–φ plane."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from anomalyscope.core.data import CONSTITUENT_CLASSES
from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.base import RunView, cannot_show
from anomalyscope.dashboard.data import (
    event_display,
    top_events,
)

CLASS_NAMES = CONSTITUENT_CLASSES  # -1 "unknown": LHCO hadrons, PF candidates without a PDG id
CLASS_COLORS = {-1: "#7f7f7f", 0: "#1f77b4", 1: "#2ca02c", 2: "#ff7f0e", 3: "#d62728", 4: "#9467bd"}


class EventsView(RunView):
    """The most anomalous events; select one to see it in the event display. The selected event (also one
    opened from a shared link or stepped to with Next/Previous) is marked in the table."""

    def __init__(self, **params):
        super().__init__(**params)
        self._shown: tuple | None = None  # (Tabulator, its DataFrame) currently on screen
        self.state.param.watch(lambda e: self._mark(), "event_row")

    def _mark(self):
        if self._shown is None:
            return
        table, df = self._shown
        hits = np.flatnonzero(df["row"].to_numpy() == self.state.event_row)
        want = [int(hits[0])] if len(hits) else []
        if table.selection != want:
            table.selection = want

    @param.depends("state.run_path", "state.method", "state.mjj_lo", "state.mjj_hi", "state.large_fonts")
    def _table(self):
        try:
            rd = self._run()
        except AnomalyscopeError as exc:
            return cannot_show(str(exc))
        method = self.state.method or rd.methods[0]
        df = top_events(rd, method, self.state.mjj_window)
        table = pn.widgets.Tabulator(
            df,
            pagination="remote",
            page_size=8,
            selectable=1,
            disabled=True,
            sizing_mode="stretch_width",
            height=300,
            show_index=False,
            stylesheets=[".tabulator { font-size: 20px; }"] if self.state.large_fonts else [],
        )

        def on_select(event):
            if event.new and int(df.loc[event.new[0], "row"]) != self.state.event_row:
                self.state.event_row = int(df.loc[event.new[0], "row"])

        table.param.watch(on_select, "selection")
        self._shown = (table, df)
        self._mark()
        return pn.Column(
            table,
            pn.Row(
                pn.widgets.FileDownload(
                    callback=lambda: _csv_file(df), filename="anomalous_events.csv", button_type="primary", label="CSV"
                ),
                pn.widgets.FileDownload(
                    callback=lambda: parquet_file(df),
                    filename="anomalous_events.parquet",
                    button_type="primary",
                    label="Parquet",
                ),
            ),
        )

    @param.depends("state.run_path", "state.event_row", "state.large_fonts")
    def _display(self):
        try:
            rd = self._run()
        except AnomalyscopeError:
            return pn.Spacer()
        row = self.state.event_row
        if row is None:
            return pn.pane.Markdown("*Select an event in the table (or use Next ▶).*")
        try:
            d = event_display(rd.eventset, row)
        except AnomalyscopeError as exc:
            return cannot_show(str(exc))
        layers = []
        for k, jet in enumerate(d["jets"]):
            for cls, name in CLASS_NAMES.items():
                m = jet["c_cls"] == cls
                if m.any():
                    layers.append(
                        hv.Points(
                            pd.DataFrame({"η": jet["c_eta"][m], "φ": jet["c_phi"][m], "pT": jet["c_pt"][m]}),
                            ["η", "φ"],
                            ["pT"],
                            label=name if k == 0 else "",
                        ).opts(color=CLASS_COLORS[cls], size=hv.dim("pT").norm() * 25 + 3, alpha=0.7)
                    )
            circle = hv.Ellipse(jet["eta"], jet["phi"], 2 * d["jet_r"]).opts(color="black", line_dash="dashed")
            axis = hv.Points([(jet["eta"], jet["phi"])]).opts(marker="x", size=14, color="black")
            layers += [circle, axis]
        xlim, ylim = square_window([j["eta"] for j in d["jets"]], d["jet_r"])
        display = hv.Overlay(layers).opts(
            frame_width=400,
            frame_height=400,  # a square frame over equal η and φ spans: the R circles are round
            xlim=xlim,
            ylim=ylim,
            xlabel="η",
            ylabel="φ [rad]",
            legend_position="right",
            title=f"Event {d['event_id']}, m_jj = {d['mjj']:.0f} GeV (area ∝ pT, circles R = {d['jet_r']:g})",
            fontscale=self.state.fontscale,
        )
        lund = hv.Overlay(
            [
                hv.Scatter((j["lund_x"], j["lund_y"]), "ln 1/Δ", "ln kt [GeV]", label=j["name"]).opts(size=6)
                for j in d["jets"]
            ]
        ).opts(
            width=360,
            height=320,
            title="Primary Lund-plane declusterings",
            legend_position="top_right",
            fontscale=self.state.fontscale,
        )
        s = rd.scores
        scores_md = "\n".join(f"- **{m}**: {s[m][row]:.4g}" for m in rd.methods)
        jets_md = "\n".join(
            f"- **{j['name']}**: pT {j['pt']:.0f} GeV, m_SD {j['msd']:.0f} GeV, τ21 {j['tau21']:.2f}" for j in d["jets"]
        )
        info = pn.pane.Markdown(
            f"#### Event {d['event_id']}, m_jj = {d['mjj']:.0f} GeV\n**Scores**\n{scores_md}\n\n**Jets**\n{jets_md}",
            width=300,
        )
        return pn.Row(display, pn.Column(lund, info))

    def _step(self, delta):
        rd = self._run()
        df = top_events(rd, self.state.method or rd.methods[0], self.state.mjj_window)
        rows = list(df["row"])
        if not rows:
            return
        i = rows.index(self.state.event_row) + delta if self.state.event_row in rows else 0
        self.state.event_row = int(rows[i % len(rows)])

    def __panel__(self):
        prev_b = pn.widgets.Button(name="◀ Previous", width=110)
        next_b = pn.widgets.Button(name="Next ▶", width=110)
        prev_b.on_click(lambda e: self._step(-1))
        next_b.on_click(lambda e: self._step(+1))
        return pn.Column(self._table, pn.Row(prev_b, next_b), self._display, sizing_mode="stretch_width")


def square_window(etas: list[float], radius: float) -> tuple[tuple, tuple]:
    """η and φ ranges of equal length covering both jets (with their R circles) and the full φ range."""
    phi_lo, phi_hi = -np.pi - 0.2, np.pi + 0.2
    eta_lo, eta_hi = min(etas) - radius - 0.2, max(etas) + radius + 0.2
    span = max(phi_hi - phi_lo, eta_hi - eta_lo)
    eta_mid, phi_mid = 0.5 * (eta_lo + eta_hi), 0.5 * (phi_lo + phi_hi)
    return (eta_mid - span / 2, eta_mid + span / 2), (phi_mid - span / 2, phi_mid + span / 2)


def parquet_file(df: pd.DataFrame):
    from io import BytesIO

    buf = BytesIO()
    df.to_parquet(buf, index=False)
    buf.seek(0)
    return buf


def _csv_file(df: pd.DataFrame):
    from io import StringIO

    buf = StringIO()
    df.to_csv(buf, index=False)
    buf.seek(0)
    return buf
