"""The sensitivity plot of an injection scan: median local Z at the signal mass against the injected
signal, per method, with the 3σ and 5σ lines and the table of 3σ/5σ amounts and improvement factors —
the plot the CMS talks show. Shown for a Run that is part of a scan (``injection_scan.json`` in the Run's
directory or the one above it, as ``python -m anomalyscope injection-scan`` writes them), or a bench result
(``bench/bench_sensitivity.py``'s JSON) chosen in the tab's menu."""

from __future__ import annotations

from pathlib import Path

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

import anomalyscope.core.results.attachments as attachments
from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.errors import InputError
from anomalyscope.core.results.records.injection_scan import THRESHOLDS, InjectionScan
from anomalyscope.core.workflows.benchmark import CMS_LUMINOSITY_FB, PUBLISHED, SOURCE
from anomalyscope.dashboard.base import cannot_show
from anomalyscope.dashboard.data import bench_scan, bench_scans, run_attachment
from anomalyscope.dashboard.state import SessionState

EFFICIENCY_NOTE = (
    "A cut's gain over the inclusive search is roughly its SIC, ε_S/√ε_B ≤ 1/√ε: a tighter cut can gain more, with "
    "fewer events left to fit."
)
PUBLISHED_COLUMN = "× inclusive (5σ), CMS published"  # X(3 TeV) → Y Y′ on 26.8 fb⁻¹: another signal, more events
COLORS = ["black", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
          "#ff7f0e", "#000080", "#aec7e8", "#98df8a"]  # fmt: skip


def scan_file(run_path: str) -> Path | None:
    """The injection scan a Run belongs to (beside it, or in the directory above it), if any."""
    path = attachments.locate(Path(run_path), "injection_scan")
    return path if path.exists() else None


def sensitivity_table(scan: InjectionScan) -> pd.DataFrame:
    rows = []
    for m, s in scan.sensitivity.items():

        def amount(t):
            v, e = s.events(t)
            return "not reached" if v is None else f"{v:.0f} ± {e:.0f}" if e else f"{v:.0f}"

        row = {"method": m, "3σ [events]": amount(3), "5σ [events]": amount(5)}
        for t in THRESHOLDS:
            xs = s.xsec_fb(t)
            if scan.luminosity_fb:  # without the signal selection's efficiency: σ × B × acceptance
                name = f"σ×B {t}σ [fb]" if scan.signal_efficiency else f"σ×B×A {t}σ [fb]"
                row[name] = "—" if xs is None else f"{xs:.1f}"
            imp = s.improvement(t)
            row[f"× inclusive ({t}σ)"] = "—" if imp is None else f"{imp:.2f}"
        cms = PUBLISHED["x_yyprime"]["improvement_5sigma"].get(m)
        row[PUBLISHED_COLUMN] = "—" if cms is None else f"{cms:.1f}"
        rows.append(row)
    return pd.DataFrame(rows)


def draws_text(scan: InjectionScan) -> str:
    """'5 draws per point', or for a scan stopped part-way '1–2 of 5 draws per point finished'; where a finished
    Run's fit could not be read at the signal mass at this cut (too few events passed), it says so. The finished
    Runs are those the inclusive search read: it cuts nothing, so its fit is read in every one."""

    def read(zs) -> np.ndarray:
        return np.isfinite(np.asarray(zs, dtype=float)).sum(axis=1)

    counts = {m: read(zs) for m, zs in scan.z.items()}
    if not counts:
        return f"0 of {scan.draws} draws per point finished"
    finished = counts.get(INCLUSIVE, np.max(list(counts.values()), axis=0))
    lo, hi = int(finished.min()), int(finished.max())
    text = (
        f"{scan.draws} draws per point"
        if lo == hi == scan.draws
        else f"{lo if lo == hi else f'{lo}–{hi}'} of {scan.draws} draws per point finished"
    )
    unread = any((c < finished).any() for c in counts.values())
    return text + ("; some Runs' fits could not be read at this cut" if unread else "")


def sensitivity_plot(scan: InjectionScan, fontscale: float = 1.0) -> hv.Overlay:
    n = np.asarray(scan.injections, dtype=float)
    layers = []
    for k, (m, zs) in enumerate(scan.z.items()):
        z = np.asarray(zs, dtype=float)
        med = np.nanmedian(z, axis=1)
        lo, hi = np.nanpercentile(z, 16, axis=1), np.nanpercentile(z, 84, axis=1)
        c = COLORS[k % len(COLORS)]
        layers.append(hv.Curve((n, med), "injected signal events", "median local Z [σ]", label=m).opts(color=c))
        layers.append(
            hv.ErrorBars((n, med, med - lo, hi - med), "injected signal events", ["median local Z [σ]", "-", "+"]).opts(
                color=c
            )
        )
        layers.append(hv.Scatter((n, med), "injected signal events", "median local Z [σ]").opts(color=c, size=6))
    for t in THRESHOLDS:
        layers.append(hv.HLine(t).opts(color="grey", line_dash="dashed"))
    title = f"Discovery sensitivity at m = {scan.mass:.0f} GeV, ε = {scan.efficiency:g} ({draws_text(scan)})"
    return hv.Overlay(layers).opts(
        responsive=True,
        height=420,
        show_grid=True,
        legend_position="right",  # outside the frame: twelve methods cover the curves inside it
        padding=(0.03, 0.05),
        title=title,
        fontscale=fontscale,
        legend_limit=len(layers) + 1,  # HoloViews drops the legend of an overlay with more than 25 layers
    )


RUN_SCAN = "the Run's injection scan"


class SensitivityView(pn.viewable.Viewer):
    """The injection scan the Run belongs to, or a bench result chosen in the menu (``data.bench_scans``: the
    scans measured for the docs, which a fresh checkout holds without their Runs)."""

    state = param.ClassSelector(class_=SessionState)
    source = param.Selector(default=RUN_SCAN, objects=[RUN_SCAN], label="Scan shown")

    def __init__(self, **params):
        super().__init__(**params)
        self._benches = bench_scans()
        self.param.source.objects = [RUN_SCAN, *self._benches]

    @param.depends("state.run_path", "state.efficiency", "state.large_fonts", "source")
    def _view(self):
        if self.source != RUN_SCAN:
            try:
                scan = bench_scan(str(self._benches[self.source]))
            except InputError as exc:
                return cannot_show(f"**{self.source} cannot be shown.** {exc}")
            lumi = f" on {scan.luminosity_fb:.1f} fb⁻¹ of background" if scan.luminosity_fb else ""
            about = (
                f"**Bench result `{self.source}`**{lumi}: an injection scan measured on Runs of its own, retrained "
                "per draw; not this Run's. "
            )
        else:
            scan = run_attachment(self.state.run_path, "injection_scan") if self.state.run_path else None
            about = ""
        if scan is None:
            more = " Or choose a bench result in the menu above." if self._benches else ""
            return cannot_show(
                "**No injection scan for this Run.** `python -m anomalyscope injection-scan --config scan.yaml` re-trains "
                "every method at several injected signal amounts (several draws each) and writes "
                f"`injection_scan.json` beside its Runs; open one of them to see the sensitivity plot here.{more}",
                alert_type="info",
            )
        chosen = self.state.efficiency
        shown = next((e for e in scan.efficiencies if np.isclose(e, chosen)), scan.efficiency)
        read_at = ", ".join(f"{e:g}" for e in scan.efficiencies)
        if np.isclose(shown, chosen):
            head = pn.pane.Markdown(f"{about}**Anomaly cut ε = {shown:g}**, the sidebar's; this scan's Runs can be "
                                    f"read at ε = {read_at}. {EFFICIENCY_NOTE}")  # fmt: skip
        else:
            head = pn.pane.Alert(
                f"{about}The sidebar's cut, ε = {chosen:g}, is not one this scan's Runs searched ({read_at}): shown at "
                f"the scan's own ε = {scan.efficiency:g}. {EFFICIENCY_NOTE}",
                alert_type="info",
            )
        return pn.Column(head, self._reading(scan.at(shown)), sizing_mode="stretch_width")

    def _reading(self, scan: InjectionScan):
        """The plot, its note and the table of the scan read at one cut efficiency."""
        note = (
            f"Median over the re-trained draws ({draws_text(scan)}; bars: 16–84% of the draws) of the local Z at "
            f"the scan mass nearest the signal's reconstructed peak ({scan.reconstructed_peak:.0f} GeV); {scan.mode}. "
            f"The last column is published, not measured here: CMS's improvement factors for "
            f"{PUBLISHED['x_yyprime']['label']} on {CMS_LUMINOSITY_FB} fb⁻¹ ({SOURCE}) — another signal and far "
            "more events than a scan on a laptop's sample; the factor grows with the events (the classifiers learn "
            "from more signal), so compare the trend, not the number."
        )
        fitted = [m for m, zs in scan.z.items() if m != INCLUSIVE and np.isfinite(np.asarray(zs, dtype=float)).any()]
        empty = (
            []
            if fitted
            else [
                pn.pane.Alert(
                    f"**No method's search could be read at ε = {scan.efficiency:g}**: in no Run did the selected "
                    "spectrum give a background fit at the signal's mass (too few events pass this cut).",
                    alert_type="warning",
                )
            ]
        )
        return pn.Column(
            *empty,
            pn.pane.HoloViews(sensitivity_plot(scan, self.state.fontscale), sizing_mode="stretch_width"),
            pn.pane.Markdown(note),
            pn.widgets.Tabulator(sensitivity_table(scan), disabled=True, show_index=False, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        menu = [pn.widgets.Select.from_param(self.param.source, width=360)] if self._benches else []
        return pn.Column(*menu, self._view, sizing_mode="stretch_width")
