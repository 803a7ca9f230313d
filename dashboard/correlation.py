"""How alike the methods are: the correlation of their scores and the overlap of their selections."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.base import HIGHLIGHT, RunView, cannot_show
from anomalyscope.dashboard.data import (
    correlation_matrix,
    top_overlap,
)


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
            return cannot_show(str(exc))
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
        keep = rd.analysis_region & np.isfinite(s[xm]) & np.isfinite(s[ym])
        flat = [m for m in (xm, ym) if np.ptp(s[m][keep]) == 0] if keep.any() else [xm, ym]
        if flat:
            return cannot_show(f"{', '.join(flat)}: a constant score (no substructure cut); nothing to plot.")
        from holoviews.operation.datashader import rasterize  # datashader (≈ 1.5 s to import) when first drawn

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
            varying = [m for m in methods if np.nanstd(rd.scores[m][rd.analysis_region]) > 0] or methods
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
