"""The m_jj spectra after each flat-efficiency cut of a method: fit, pulls and local-significance scan;
a box selection in m_jj sets the range every other view follows."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param
from holoviews import streams

from anomalyscope.core.bumphunt import poisson_interval
from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.base import HIGHLIGHT, PALETTE, SR_COLOR, RunView, cannot_show, segments
from anomalyscope.dashboard.data import stored_spectra


def _significance_note(rd, f) -> str:
    """'; max local Z = 3.4σ at 3500 GeV, global 1.2σ' (a bound: 'global > 2.7σ') for a fitted scan."""
    peak = f.peak()
    if peak is None:
        return ""
    z, mass = peak
    g = rd.global_text(z)
    return f"; max local Z = {z:.1f}σ at {mass:.0f} GeV" + (f", {g}" if g else "")


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
        """The search window shown: the one whose signal region matches the box-selected m_jj range best (the
        method's own best window where it matches as well), else the one where the method's excess is largest."""
        box = self.state.mjj_window
        best = rd.best_window(method)
        if box is not None and method != INCLUSIVE:
            named = rd.window_at(box[0], box[1], prefer=best)
            if named is not None:
                return named
        return best

    def _fits(self):
        rd = self._run()
        method = self.state.method or rd.methods[0]
        window = self._window(rd, method)
        return rd, method, window, stored_spectra(rd, method, tuple(rd.efficiencies), window)

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
        labels = [f.label for f in fits]
        colors = {lab: PALETTE[k % len(PALETTE)] for k, lab in enumerate(labels)}
        points, fit_paths, pull_points, scan_paths, notes = [], [], [], [], []
        for label, f in zip(labels, fits):
            spec = f.spectrum()
            n, x, w = spec.counts, spec.centers, spec.widths
            ok = n > 0
            lo, hi = poisson_interval(n)
            cut = np.full(int(ok.sum()), label, dtype=object)
            points.append((x[ok], n[ok] / w[ok], (n[ok] - lo[ok]) / w[ok], (hi[ok] - n[ok]) / w[ok], cut))
            if f.expected is not None:
                fit_paths.append((x, np.asarray(f.expected) / w, label))
                pull_points.append((x, f.pulls(), np.full(len(x), label, dtype=object)))
            if f.masses:
                scan_paths.append((np.asarray(f.masses), np.asarray(f.z), label))
            notes.append(f"**{label}**: {int(n.sum())} events; {f.message}" + _significance_note(rd, f))
        # plain column dicts: HoloViews handles them several times faster than DataFrames
        pts = dict(zip([X, Y, "minus", "plus", "cut"], (np.concatenate(c) for c in zip(*points))))
        spec_layers = [
            hv.ErrorBars(pts, X, [Y, "minus", "plus", "cut"]).opts(
                color=hv.dim("cut").categorize(colors), lower_head=None, upper_head=None
            ),
            hv.Scatter(pts, X, [Y, "cut"]).opts(color="cut", cmap=colors, size=5, tools=["hover"], show_legend=True),
            segments(fit_paths, X, Y).opts(color="cut", cmap=colors, line_width=2, show_legend=False),
        ]
        empty = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))
        pull_cols = dict(zip([X, "pull", "cut"], (np.concatenate(c) for c in zip(*(pull_points or [empty])))))
        pull_layers = [
            hv.Scatter(pull_cols, X, ["pull", "cut"]).opts(color="cut", cmap=colors, size=4, show_legend=False)
        ]
        scan_layers = [
            segments(scan_paths, X, "local Z [σ]").opts(color="cut", cmap=colors, line_width=2, show_legend=False)
        ]
        window = self.state.mjj_window
        spec_layers.append(hv.VSpan(*(window or (np.nan, np.nan))).opts(color="gold", alpha=0.2))
        sr = rd.search.window(window_name).sr if window_name else (np.nan, np.nan)
        spec_layers.append(hv.VSpan(*sr).opts(color=SR_COLOR, alpha=0.12))
        scan_layers.append(hv.VSpan(*sr).opts(color=SR_COLOR, alpha=0.12))
        res = rd.search_result
        gaps = (res.trials.untested or []) if res is not None else []
        scan_layers += [hv.VSpan(a, b).opts(color="grey", alpha=0.25) for a, b in gaps]
        if gaps and res.untested_text():
            notes.append(f"Grey in the scan: {res.untested_text()}.")
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
        edges = np.asarray(fits[0].edges)
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
            return cannot_show(
                f"**No Run loaded.** {exc}\n\nBuild one with `python -m anomalyscope demo` or "
                "`python -m anomalyscope run --config run.yaml`, then set `ANOMALYSCOPE_RUN`."
            )
        try:
            self._fits()
        except AnomalyscopeError as exc:  # the Run opens, but this method's spectra cannot be fitted
            return cannot_show(str(exc))
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
