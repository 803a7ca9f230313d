"""ROC and SIC curves of every method where truth exists (simulated data)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.palettes import Category20_20

from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.base import RunView, cannot_show


class PerformanceView(RunView):
    """ROC and SIC curves of every method where truth exists (simulated data)."""

    @param.depends("state.run_path", "state.large_fonts")
    def _plots(self):
        try:
            ev = self._run().run.evaluation()
        except AnomalyscopeError as exc:
            return cannot_show(str(exc))
        if ev is None:
            return cannot_show("No performance in this Run: it needs truth labels and a signal sample.")
        roc, sic, rows = [], [], []
        evaluated = ev.evaluated()
        for k, (name, p) in enumerate(ev.methods.items()):  # colours by the Run's method order
            if name not in evaluated:
                continue
            color = Category20_20[(2 * k) % 20 + (2 * k) // 20]  # the strong shades first: up to 20 methods
            es, eb = np.array(p.eps_s), np.array(p.eps_b)
            ok = eb > 0
            roc.append(
                hv.Curve((es[ok], 1 / eb[ok]), "signal efficiency ε_S", "background rejection 1/ε_B", label=name).opts(
                    color=color
                )
            )
            floor = eb >= p.eps_b_floor
            sic.append(
                hv.Curve(
                    (es[floor], es[floor] / np.sqrt(eb[floor])), "signal efficiency ε_S", "SIC = ε_S/√ε_B", label=name
                ).opts(color=color)
            )
            rows.append({"method": name, "AUC": round(p.auc, 3), "max SIC": round(p.max_sic, 2)})
        region = ev.region
        title = f"{region.window}, {region.sr_gev[0]:.0f}–{region.sr_gev[1]:.0f} GeV"
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
                f"max SIC quoted where ε_B ≥ {next(iter(evaluated.values())).eps_b_floor:.1e}"
                " (at least 20 background events)."
            ),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return pn.Column(self._plots, sizing_mode="stretch_width")
