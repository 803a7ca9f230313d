"""Standalone plots of a trigger report (``RUN/trigger/plots.html``, bokeh, no server or browser needed to
write): zero-bias rate against threshold and signal efficiency against rate, per model."""

from __future__ import annotations

from pathlib import Path

from anomalyscope.core.results.records.trigger import TriggerReport
from anomalyscope.core.trigger.rates import tail_curve

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#ff7f0e")


def write_plots(report: TriggerReport, path: str | Path) -> Path:
    from bokeh.io import save
    from bokeh.layouts import column, row
    from bokeh.models import Div, Span
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    path = Path(path)
    rows = []
    for name, m in report.models.items():
        ph, thr = m.physics, m.physics.threshold
        curve = ph.rate_curve
        rate = figure(
            title=f"{name}: zero-bias rate",
            x_axis_label="score threshold",
            y_axis_label="rate [Hz]",
            y_axis_type="log",
            width=480,
            height=340,
        )
        keep = [i for i, r in enumerate(curve.rate_hz) if r > 0]
        rate.line([curve.threshold[i] for i in keep], [curve.rate_hz[i] for i in keep], color="black")
        tail = tail_curve(thr)
        if tail is not None:
            rate.line(tail["threshold"], tail["rate_hz"], color="#1f77b4", line_dash="dashed", legend_label="tail fit")
        rate.add_layout(Span(location=thr.target_rate_hz, dimension="width", line_color="#d62728", line_dash="dashed"))
        rate.add_layout(Span(location=thr.threshold, dimension="height", line_color="#d62728"))
        # the chosen point (also keeps the target rate and the threshold inside the axes)
        rate.scatter(
            [thr.threshold],
            [thr.target_rate_hz],
            color="#d62728",
            size=8,
            legend_label="threshold for the target rate",
        )
        rate.legend.location = "top_right"
        eff = figure(
            title=f"{name}: signal efficiency",
            x_axis_label="rate [Hz]",
            y_axis_label="signal efficiency",
            x_axis_type="log",
            width=480,
            height=340,
        )
        for k, (sig, s) in enumerate(ph.signals.items()):
            ev = s.efficiency_vs_rate
            eff.line(ev.rate_hz, ev.efficiency, color=COLORS[k % len(COLORS)], legend_label=sig)
        eff.add_layout(Span(location=thr.target_rate_hz, dimension="height", line_color="#d62728", line_dash="dashed"))
        eff.legend.location = "bottom_right"
        res = m.resources
        text = (
            f"<b>{name}</b>: {m.architecture} — {res.lut} LUT, {res.ff} FF, {res.latency_cycles} "
            f"cycles ({res.source}); threshold {thr.threshold:.4g} for {thr.target_rate_hz:.0f} Hz"
        )
        rows.append(column(Div(text=text, width=960), row(rate, eff)))
    tmp = path.with_name(f".{path.name}.tmp")
    save(column(*rows), filename=str(tmp), resources=INLINE, title="anomalyscope trigger report")
    tmp.replace(path)
    return path
