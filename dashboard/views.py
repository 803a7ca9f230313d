"""The linked views of a Run. Each is a Viewer over the one SessionState; plots come from the pure
functions in ``dashboard.data`` so they are tested without a browser.

Plotting conventions: data as points with Garwood (exact Poisson) error bars, the background fit as a
line, pulls below, log-y spectra, axis labels with units.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.palettes import Category20_20
from holoviews import streams
from holoviews.operation.datashader import rasterize

from anomalyscope.core.bumphunt import poisson_interval
from anomalyscope.core.data import CONSTITUENT_CLASSES
from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.data import (
    FEATURE_LABELS,
    cached_spectra,
    correlation_matrix,
    event_display,
    feature_distributions,
    load_run,
    shown_paths,
    top_events,
    top_overlap,
)
from anomalyscope.dashboard.state import SessionState

PALETTE = ["black", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b"]
CLASS_NAMES = CONSTITUENT_CLASSES  # -1 "unknown": LHCO hadrons, PF candidates without a PDG id
CLASS_COLORS = {-1: "#7f7f7f", 0: "#1f77b4", 1: "#2ca02c", 2: "#ff7f0e", 3: "#d62728", 4: "#9467bd"}


def _missing(msg: str, alert_type: str = "warning") -> pn.pane.Alert:
    """The one way a view says it cannot show something (server paths left out of the text)."""
    return pn.pane.Alert(shown_paths(msg), alert_type=alert_type)


HIGHLIGHT = "#e6007e"  # the selected event, in every view
SR_COLOR = "#1f77b4"  # the signal region of the search window shown


class RunView(pn.viewable.Viewer):
    state = param.ClassSelector(class_=SessionState)

    def _run(self):
        return load_run(self.state.run_path)

    def _event(self, rd) -> int | None:
        """The selected event's row, if it is one of this Run's events."""
        row = self.state.event_row
        return row if row is not None and 0 <= row < len(rd.scores["mjj"]) else None


def _segments(lines: list[tuple], x: str, y: str) -> hv.Segments:
    """Several polylines (x, y, cut label) as one Segments element coloured by cut: one glyph to update
    (a multi-line Path costs ~0.1 s per update in HoloViews)."""
    cols = [[], [], [], [], []]
    for xs, ys, label in lines:
        for c, v in zip(cols, (xs[:-1], ys[:-1], xs[1:], ys[1:], np.full(max(len(xs) - 1, 0), label, dtype=object))):
            c.append(np.asarray(v))
    data = [np.concatenate(c) if c else np.zeros(0) for c in cols]
    return hv.Segments(dict(zip([x, y, "x1", "y1", "cut"], data)), [x, y, "x1", "y1"], ["cut"])


def _significance_note(rd, f) -> str:
    """', max local Z = 3.4σ at 3500 GeV (global 1.2σ)' for a fitted scan."""
    if f.scan is None or not len(f.scan.z) or not np.isfinite(f.scan.z).any():
        return ""
    z = f.scan.max_z
    g = rd.global_z(z)
    glob = f", global {g:.1f}σ" if g is not None else ""
    return f"; max local Z = {z:.1f}σ at {f.scan.best_mass:.0f} GeV{glob}"


class SpectraView(RunView):
    """m_jj at several flat efficiencies of the chosen method, fits, pulls and the significance scan.
    Box-select a range on the spectrum to set the m_jj window the other views use.

    The plots are DynamicMaps: a method, window or event change updates the data of the Bokeh figures
    on screen instead of building new ones (building them took ~0.9 s per change on 2 cores). The box
    selection listens on an invisible static element, as HoloViews needs a static stream source."""

    WATCHED = ("method", "mjj_lo", "mjj_hi", "event_row", "large_fonts")
    # options of the spectrum figure that follow the state (the overlay with the static anchor keeps
    # only options set on it, not those of the DynamicMap's output)
    plot_ylim = param.Tuple(default=(1e-3, None), length=2)
    plot_fontscale = param.Number(default=1.0)

    def __init__(self, **params):
        super().__init__(**params)
        self._key = None
        self._layers = None
        self._opts: dict = {}
        watch = streams.Params(self.state, list(self.WATCHED))
        self.anchor = hv.Scatter(([np.nan], [np.nan]), "m_jj [GeV]", "Events / GeV").opts(
            alpha=0, tools=["xbox_select"]
        )
        self.spectrum = (
            (self.anchor * hv.DynamicMap(lambda **kw: self._built()[0], streams=[watch]))
            .opts(
                logy=True,
                responsive=True,
                height=380,
                legend_position="top_right",
                active_tools=["xbox_select"],
                show_grid=True,
                # the same for every method: the method is written inside the frame (and above it)
                title="m_jj after flat-efficiency cuts (analysis region)",
            )
            .apply.opts(ylim=self.param.plot_ylim, fontscale=self.param.plot_fontscale)
        )
        self.pulls = hv.DynamicMap(lambda **kw: self._built()[1], streams=[watch])
        self.scan = hv.DynamicMap(lambda **kw: self._built()[2], streams=[watch])
        self.box = streams.BoundsX(source=self.anchor, boundsx=None)
        self.box.add_subscriber(self._on_box)
        # the figure options (y range, font scale) follow the state through apply.opts
        self.state.param.watch(self._sync_opts, ["run_path", *self.WATCHED])
        self._sync_opts()

    def _sync_opts(self, *events):
        self._built()
        changed = {k: v for k, v in self._opts.items() if getattr(self, k) != v}
        if changed:
            self.param.update(**changed)

    def _on_box(self, boundsx=None):
        if boundsx:
            self.state.param.update(mjj_lo=float(boundsx[0]), mjj_hi=float(boundsx[1]))

    def _window(self, rd, method: str) -> str | None:
        """The search window shown: the one holding the box-selected m_jj range, else the one where the
        method's excess is largest."""
        box = self.state.mjj_window
        if box is not None and method != "inclusive":
            named = rd.window_at(0.5 * (box[0] + box[1]))
            if named is not None:
                return named
        return rd.best_window(method)

    def _fits(self):
        rd = self._run()
        method = self.state.method or rd.methods[0]
        window = self._window(rd, method)
        return rd, method, window, cached_spectra(self.state.run_path, method, tuple(rd.efficiencies), window)

    def _built(self):
        """(spectrum, pulls, scan, notes) for the current state; one build serves the three plots."""
        key = (self.state.run_path, *(getattr(self.state, p) for p in self.WATCHED))
        if key != self._key:
            self._layers, self._key = self._build(), key
        return self._layers

    def _build(self):
        fs = self.state.fontscale
        try:
            rd, method, window_name, fits = self._fits()
        except AnomalyscopeError as exc:
            blank = hv.Overlay([hv.Scatter([], "m_jj [GeV]", "Events / GeV")])
            self._opts = {}
            return blank, hv.Overlay([hv.Scatter([], "m_jj [GeV]", "pull")]), blank, [str(exc)]
        # one element per kind for all cuts, coloured by cut: a method change updates 10 glyphs, not 25
        # (HoloViews' per-element option lookup and update dominated the server-side time)
        X, Y = "m_jj [GeV]", "Events / GeV"
        labels = ["no cut" if f.eff >= 1 else f"ε = {f.eff:g}" for f in fits]
        colors = {lab: PALETTE[k % len(PALETTE)] for k, lab in enumerate(labels)}
        points, fit_paths, pull_points, scan_paths, notes = [], [], [], [], []
        for label, f in zip(labels, fits):
            n, x, w = f.spectrum.counts, f.spectrum.centers, f.spectrum.widths
            ok = n > 0
            lo, hi = poisson_interval(n)
            cut = np.full(int(ok.sum()), label, dtype=object)
            points.append((x[ok], n[ok] / w[ok], (n[ok] - lo[ok]) / w[ok], (hi[ok] - n[ok]) / w[ok], cut))
            if f.fit is not None:
                fit_paths.append((x, f.fit.expected / w, label))
                pull_points.append((x, f.fit.pulls, np.full(len(x), label, dtype=object)))
            if f.scan is not None and len(f.scan.masses):
                scan_paths.append((f.scan.masses, f.scan.z, label))
            notes.append(f"**{label}**: {int(n.sum())} events; {f.message}" + _significance_note(rd, f))
        # plain column dicts: HoloViews handles them several times faster than DataFrames
        pts = dict(zip([X, Y, "minus", "plus", "cut"], (np.concatenate(c) for c in zip(*points))))
        spec_layers = [
            hv.ErrorBars(pts, X, [Y, "minus", "plus", "cut"]).opts(
                color=hv.dim("cut").categorize(colors), lower_head=None, upper_head=None
            ),
            hv.Scatter(pts, X, [Y, "cut"]).opts(color="cut", cmap=colors, size=5, tools=["hover"], show_legend=True),
            _segments(fit_paths, X, Y).opts(color="cut", cmap=colors, line_width=2, show_legend=False),
        ]
        empty = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))
        pull_cols = dict(zip([X, "pull", "cut"], (np.concatenate(c) for c in zip(*(pull_points or [empty])))))
        pull_layers = [
            hv.Scatter(pull_cols, X, ["pull", "cut"]).opts(color="cut", cmap=colors, size=4, show_legend=False)
        ]
        scan_layers = [
            _segments(scan_paths, X, "local Z [σ]").opts(color="cut", cmap=colors, line_width=2, show_legend=False)
        ]
        window = self.state.mjj_window
        spec_layers.append(hv.VSpan(*(window or (np.nan, np.nan))).opts(color="gold", alpha=0.2))
        sr = rd.search.window(window_name).sr if window_name else (np.nan, np.nan)
        spec_layers.append(hv.VSpan(*sr).opts(color=SR_COLOR, alpha=0.12))
        scan_layers.append(hv.VSpan(*sr).opts(color=SR_COLOR, alpha=0.12))
        if window_name:
            notes.insert(
                0,
                f"Cuts made for window **{window_name}** (shaded: its signal region {sr[0]:.0f}–{sr[1]:.0f} GeV; "
                "box-select another mass to see its window). Every spectrum is fitted over the whole fit range "
                f"{rd.search.fit_min:.0f}–{rd.search.definition.fit_max:.0f} GeV.",
            )
        row = self._event(rd)
        x_event = float(rd.scores["mjj"][row]) if row is not None else np.nan
        spec_layers.append(hv.VLine(x_event).opts(color=HIGHLIGHT, line_dash="dashed"))
        if row is not None:
            notes.append(f"dashed line: the selected event (row {row}), m_jj = {x_event:.0f} GeV")
        # one event in the widest bin: the lowest density any method can show. The same for every method, so the
        # axes stay put when methods are flipped through, and a method change re-renders the figure only once
        # (a changed range or title is a second update of the whole figure: +0.2 s per change on 2 cores)
        edges = fits[0].spectrum.edges
        floor = 1.0 / float(np.max(np.diff(edges)))
        spec_layers.append(
            # at the frame's bottom, below every point (points lie at or above the floor, the frame starts at floor/5)
            hv.Text(float(edges[0]), floor / 4.5, f" {method}", halign="left", valign="bottom").opts(
                text_font_size=f"{round(12 * fs)}pt", text_font_style="bold", text_color="black"
            )
        )
        spectrum = hv.Overlay(spec_layers)
        self._opts = {"plot_ylim": (floor / 5, None), "plot_fontscale": fs}
        pulls = hv.Overlay(pull_layers + [hv.HLine(0).opts(color="grey")]).opts(
            responsive=True, height=150, ylim=(-4, 4), show_grid=True, title="(data − fit)/√fit", fontscale=fs
        )
        scan = hv.Overlay(scan_layers + [hv.HLine(3).opts(color="grey", line_dash="dashed")]).opts(
            responsive=True,
            height=170,
            show_grid=True,
            framewise=True,
            title="Local significance of a resolution-width bump",
            fontscale=fs,
        )
        return spectrum, pulls, scan, notes

    @param.depends("state.method", "state.run_path")
    def _heading(self):
        return pn.pane.Markdown(f"#### {self.state.method or ''}: m_jj after flat-efficiency cuts")

    @param.depends("state.method", "state.mjj_lo", "state.mjj_hi", "state.event_row", "state.run_path")
    def _notes(self):
        return pn.pane.Markdown("\n\n".join(self._built()[3]), sizing_mode="stretch_width")

    @param.depends("state.run_path")
    def _plots(self):
        try:
            self._run()
        except AnomalyscopeError as exc:
            return _missing(
                f"**No Run loaded.** {exc}\n\nBuild one with `python -m anomalyscope demo` or "
                "`python -m anomalyscope run --config run.yaml`, then set `ANOMALYSCOPE_RUN`."
            )
        try:
            self._fits()
        except AnomalyscopeError as exc:  # the Run opens, but this method's spectra cannot be fitted
            return _missing(str(exc))
        return pn.Column(
            self._heading,
            pn.pane.HoloViews(self.spectrum, linked_axes=True, sizing_mode="stretch_width"),
            pn.pane.HoloViews(self.pulls, sizing_mode="stretch_width"),
            pn.pane.HoloViews(self.scan, sizing_mode="stretch_width"),
            self._notes,
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return pn.Column(self._plots, sizing_mode="stretch_width")


class CorrelationView(RunView):
    """Correlation of the methods' scores; pick two methods to see their scores against each other."""

    x_method = param.Selector(objects=[])
    y_method = param.Selector(objects=[])

    @param.depends("state.run_path", "state.corr_sample", "state.corr_kind", "state.large_fonts")
    def _matrix(self):
        try:
            rd = self._run()
            corr = correlation_matrix(rd, self.state.corr_sample, self.state.corr_kind)
        except AnomalyscopeError as exc:
            return _missing(str(exc))
        names = list(corr.columns)
        data = [(a, b, corr.loc[a, b]) for a in names for b in names]
        heat = hv.HeatMap(data, ["method x", "method y"], "correlation").opts(
            cmap="RdBu_r",
            clim=(-1, 1),
            colorbar=True,
            tools=["hover"],
            responsive=True,
            height=380,
            xrotation=30,  # method names side by side overlap, above all with projector-size text
            title=f"{self.state.corr_kind.title()} correlation of scores ({self.state.corr_sample}, "
            f"|Δη| < {rd.search.definition.deta_max:g})",
            fontscale=self.state.fontscale,
        )
        # white on the dark cells, black on the light ones
        labels = [
            hv.Labels(
                [(a, b, f"{v:.2f}") for a, b, v in data if (abs(v) > 0.6) == dark], ["method x", "method y"], "text"
            ).opts(text_color="white" if dark else "black", text_font_size=f"{round(10 * self.state.fontscale)}pt")
            for dark in (False, True)
        ]
        overlap = top_overlap(rd, 0.01)
        return pn.Column(
            heat * labels[0] * labels[1],
            pn.pane.Markdown("**Overlap of the 1% selections (Jaccard)**"),
            pn.pane.DataFrame(overlap.round(2), sizing_mode="stretch_width"),
        )

    @param.depends("state.run_path", "x_method", "y_method", "state.event_row", "state.large_fonts")
    def _scatter(self):
        try:
            rd = self._run()
        except AnomalyscopeError:
            return pn.Spacer()
        xm = self.x_method or rd.methods[0]
        ym = self.y_method or rd.methods[-1]
        s = rd.scores
        keep = rd.sr & np.isfinite(s[xm]) & np.isfinite(s[ym])
        flat = [m for m in (xm, ym) if np.ptp(s[m][keep]) == 0] if keep.any() else [xm, ym]
        if flat:
            return _missing(f"{', '.join(flat)}: a constant score (no substructure cut); nothing to plot.")
        pts = hv.Points((s[xm][keep], s[ym][keep]), [f"{xm} score", f"{ym} score"])
        plot = rasterize(pts).opts(cmap="viridis", cnorm="log", colorbar=True)
        row = self._event(rd)
        if row is not None and np.isfinite(s[xm][row]) and np.isfinite(s[ym][row]):
            mark = hv.Points([(s[xm][row], s[ym][row])], [f"{xm} score", f"{ym} score"], label=f"event row {row}")
            plot = plot * mark.opts(marker="star", size=18, color=HIGHLIGHT, line_color="white")
        return plot.opts(
            responsive=True,
            height=380,
            title=f"{ym} vs {xm} (datashaded, {keep.sum():,} events)",
            fontscale=self.state.fontscale,
        )

    def __panel__(self):
        try:
            rd = self._run()
            methods = rd.methods
            varying = [m for m in methods if np.nanstd(rd.scores[m][rd.sr]) > 0] or methods
            self.param.x_method.objects = methods
            self.param.y_method.objects = methods
            self.x_method, self.y_method = varying[0], varying[-1]
        except AnomalyscopeError:
            pass
        return pn.Column(
            pn.Row(
                pn.widgets.Select.from_param(self.state.param.corr_sample, name="Events"),
                pn.widgets.Select.from_param(self.state.param.corr_kind, name="Correlation coefficient"),
            ),
            self._matrix,
            pn.Row(self.param.x_method, self.param.y_method),
            self._scatter,
            sizing_mode="stretch_width",
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
            return _missing(str(exc))
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
            return _missing(str(exc))
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
                    callback=lambda: _csv(df), filename="anomalous_events.csv", button_type="primary", label="CSV"
                ),
                pn.widgets.FileDownload(
                    callback=lambda: _parquet(df),
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
            return _missing(str(exc))
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


def _parquet(df: pd.DataFrame):
    from io import BytesIO

    buf = BytesIO()
    df.to_parquet(buf, index=False)
    buf.seek(0)
    return buf


def _csv(df: pd.DataFrame):
    from io import StringIO

    buf = StringIO()
    df.to_csv(buf, index=False)
    buf.seek(0)
    return buf


class PerformanceView(RunView):
    """ROC and SIC curves of every method where truth exists (simulated data)."""

    @param.depends("state.run_path", "state.large_fonts")
    def _plots(self):
        try:
            ev = self._run().run.evaluation()
        except AnomalyscopeError as exc:
            return _missing(str(exc))
        if not ev:
            return _missing("No performance in this Run: it needs truth labels and a signal sample.")
        roc, sic, rows = [], [], []
        for k, (name, p) in enumerate(ev["methods"].items()):
            if "error" in p:
                continue
            color = Category20_20[(2 * k) % 20 + (2 * k) // 20]  # the strong shades first: up to 20 methods
            es, eb = np.array(p["eps_s"]), np.array(p["eps_b"])
            ok = eb > 0
            roc.append(
                hv.Curve((es[ok], 1 / eb[ok]), "signal efficiency ε_S", "background rejection 1/ε_B", label=name).opts(
                    color=color
                )
            )
            floor = eb >= p["eps_b_floor"]
            sic.append(
                hv.Curve(
                    (es[floor], es[floor] / np.sqrt(eb[floor])), "signal efficiency ε_S", "SIC = ε_S/√ε_B", label=name
                ).opts(color=color)
            )
            rows.append({"method": name, "AUC": round(p["auc"], 3), "max SIC": round(p["max_sic"], 2)})
        region = ev["region"]
        title = f"{region['window']}, {region['sr_gev'][0]:.0f}–{region['sr_gev'][1]:.0f} GeV"
        large = self.state.large_fonts
        return pn.Column(
            pn.Row(
                # one legend, in the ROC's empty upper right (two columns with projector-size text)
                hv.Overlay(roc).opts(
                    logy=True,
                    responsive=True,
                    height=460 if large else 380,
                    title=f"ROC ({title})",
                    legend_position="top_right",
                    legend_cols=2 if large else 1,
                    fontscale=self.state.fontscale,
                ),
                hv.Overlay(sic).opts(
                    responsive=True,
                    height=460 if large else 380,
                    title="SIC (colours as in the ROC)",
                    show_legend=False,
                    fontscale=self.state.fontscale,
                ),
            ),
            pn.pane.DataFrame(pd.DataFrame(rows), index=False),
            pn.pane.Markdown(
                f"max SIC quoted where ε_B ≥ {next(iter(ev['methods'].values())).get('eps_b_floor', 0):.1e}"
                " (at least 20 background events)."
            ),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return pn.Column(self._plots, sizing_mode="stretch_width")
