"""The Lund-reweighting tab: the control sample's Lund-plane densities and their ratio, the closure of the
correction, and the chosen method's signal efficiency before and after reweighting with its uncertainty.

Reads ``RUN/lund/`` (written by ``python -m anomalyscope lund``); the data functions are pure, so tested without
a browser.
"""

from __future__ import annotations

from pathlib import Path

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

import anomalyscope.core.results.attachments as attachments
from anomalyscope.core.lund.report import LundResult, cut_efficiency
from anomalyscope.dashboard.base import RunView, cannot_show
from anomalyscope.dashboard.data import load_run, read_when_changed

EPS_B_GRID = np.logspace(-3, 0, 31)


def lund_result(run_path: str) -> LundResult | None:
    """The Run's Lund reweighting, re-read when it changes (``python -m anomalyscope lund`` while the server runs)."""
    return read_when_changed(attachments.locate(Path(run_path), "lund"), LundResult.of_run, run_path)


def lund_planes(res: LundResult, pt_bin: int) -> dict[str, np.ndarray]:
    """Densities (emissions per subjet per bin) of data and simulation in one subjet-pT bin, their ratio
    and its relative statistical uncertainty; axes: ln(R/ΔR) (x) and ln(kt/GeV) (y)."""
    r = res.ratio
    return {
        "data": r.data.density()[pt_bin],
        "sim": r.sim.density()[pt_bin],
        "ratio": r.ratio[pt_bin],
        "stat": r.stat_error()[pt_bin],
    }


def efficiency_curve(run_path: str, method: str, eps_b=EPS_B_GRID) -> pd.DataFrame:
    """The signal efficiency of a cut on ``method``'s score at background efficiencies ε_B (the cut at the
    (1−ε_B) quantile of the Run's scores), before and after the Lund reweighting, with its uncertainty."""
    rd, res = load_run(run_path), lund_result(run_path)
    rows = []
    for eb in eps_b:
        e = cut_efficiency(res, rd.scores[method], rd.signal_scores, method, eb)
        rows.append(
            {
                "eps_b": eb,
                "uncorrected": e.uncorrected,
                "corrected": e.corrected,
                "lo": e.band()[0],
                "hi": e.band()[1],
                **{f"unc_{k}": v for k, v in e.uncertainty.items()},
            }
        )
    return pd.DataFrame(rows)


class LundView(RunView):
    pt_bin = param.Integer(default=0, bounds=(0, None), doc="subjet-pT bin of the Lund planes shown")

    def _result(self):
        return lund_result(self.state.run_path)

    @param.depends("state.run_path", "pt_bin", "state.large_fonts")
    def _planes(self):
        res = self._result()
        if res is None:
            return cannot_show(
                "No Lund-plane reweighting in this Run. Add it with `python -m anomalyscope lund --run RUN --data D --sim S`"
                " (see README, 'Lund-plane reweighting')."
            )
        b = res.ratio.binning
        k = min(self.pt_bin, b.shape[0] - 1)
        planes = lund_planes(res, k)
        x, y = np.array(b.ln_r_delta), np.array(b.ln_kt)
        lo, hi = b.subjet_pt[k], b.subjet_pt[k + 1]
        pt_text = f"{lo:.0f}–{hi:.0f} GeV" + (" (and above: extrapolated)" if k == b.shape[0] - 1 else "")
        dims = ["ln(R/ΔR)", "ln(kt/GeV)"]
        opts = dict(
            tools=["hover"], colorbar=True, responsive=True, height=330, fontscale=self.state.fontscale, cmap="viridis"
        )

        def mesh(z, label, **extra):
            return hv.QuadMesh((x, y, z.T), kdims=dims, vdims=[label]).opts(**{**opts, **extra})

        top = max(float(planes["data"].max()), float(planes["sim"].max()), 1e-9)
        # the ratio where it is measured to better than 50%; poorly measured bins are left blank
        log_r = np.where(planes["stat"] < 0.5, np.log2(planes["ratio"]), np.nan)
        span = max(float(np.nanmax(np.abs(log_r), initial=0.0)), 0.1)
        data, sim, ratio = (
            mesh(planes["data"], "emissions per subjet").opts(title="Data (pseudo-data)", clim=(0, top)),
            mesh(planes["sim"], "emissions per subjet").opts(title="Simulation", clim=(0, top)),
            mesh(log_r, "log2 data/sim").opts(title="log₂ ratio data/sim", cmap="RdBu_r", clim=(-span, span)),
        )
        # three planes in a row at normal text size; two per row in projector mode (too narrow otherwise)
        planes_layout = (
            pn.Column(pn.Row(data, sim), pn.Row(ratio, pn.Spacer()))
            if self.state.large_fonts
            else pn.Row(data, sim, ratio)
        )
        return pn.Column(
            planes_layout,
            pn.pane.Markdown(
                f"Subjet pT {pt_text}. Primary Lund plane of each prong subjet (exclusive kT, then C/A); "
                "the ratio is drawn where its statistical uncertainty is below 50% (elsewhere it is still "
                "applied; bins without data or simulation get ratio 1). Control: "
                f"`{res.ratio.provenance.get('data', '?')}` vs `{res.ratio.provenance.get('sim', '?')}`."
            ),
            sizing_mode="stretch_width",
        )

    @param.depends("state.run_path", "state.method", "state.efficiency", "state.large_fonts")
    def _efficiency(self):
        res = self._result()
        if res is None:
            return pn.Spacer(height=0)
        rd = load_run(self.state.run_path)
        method = self.state.method
        if rd.signal_scores is None or method not in rd.signal_scores:
            return cannot_show("This Run has no signal scores to reweight.")
        if np.nanstd(rd.scores[method]) == 0:
            return cannot_show(f"'{method}' makes no cut: choose another method.")
        df = efficiency_curve(self.state.run_path, method)
        band = hv.Area((df.eps_b, df.lo, df.hi), "background efficiency ε_B", ["signal efficiency ε_S", "hi"]).opts(
            color="#d62728", alpha=0.25, line_alpha=0
        )
        raw = hv.Curve(
            (df.eps_b, df.uncorrected), "background efficiency ε_B", "signal efficiency ε_S", label="simulation"
        )
        cor = hv.Curve(
            (df.eps_b, df.corrected), "background efficiency ε_B", "signal efficiency ε_S", label="reweighted"
        )
        cut = (
            hv.VLine(self.state.efficiency).opts(color="grey", line_dash="dashed")
            if self.state.efficiency < 1
            else None
        )
        plot = (band * raw.opts(color="black") * cor.opts(color="#d62728") * (cut or hv.Overlay())).opts(
            logx=True,
            responsive=True,
            height=330,
            title=f"{method}: ε_S before / after reweighting",
            legend_position="top_left",
            fontscale=self.state.fontscale,
        )
        at = df.iloc[int(np.argmin(np.abs(np.log(df.eps_b) - np.log(max(self.state.efficiency, 1e-3)))))]
        rows = [{"source": k[4:], "Δε_S": f"{v:.4f}"} for k, v in at.items() if k.startswith("unc_")]
        return pn.Row(
            plot,
            pn.Column(
                pn.pane.Markdown(
                    "Band: total uncertainty of the correction (statistical toys, modelling, pT extrapolation, "
                    "unmatched / shared subjets), in quadrature.\n\n"
                    f"**At ε_B = {at.eps_b:.2g}**: ε_S = {at.uncorrected:.3f} (simulation) → "
                    f"**{at.corrected:.3f} ± {(at.hi - at.lo) / 2:.3f}** (reweighted)"
                ),
                pn.pane.DataFrame(pd.DataFrame(rows), index=False),
                width=320,
            ),
            sizing_mode="stretch_width",
        )

    @param.depends("state.run_path", "state.large_fonts")
    def _closure(self):
        res = self._result()
        if res is None:
            return pn.Spacer(height=0)
        plots = []
        for key, o in res.closure.observables.items():
            bins = np.array(o.bins)
            centers = 0.5 * (bins[1:] + bins[:-1])

            def norm(h):
                h = np.asarray(h, dtype=float)
                return h / h.sum() / np.diff(bins)

            d, s, w = norm(o.data), norm(o.sim), norm(o.reweighted)
            band = np.asarray(o.band) / np.diff(bins)
            err = np.sqrt(np.asarray(o.data, dtype=float)) / np.sum(o.data) / np.diff(bins)
            (c0, n0), (c1, n1) = o.chi2_ndf_before, o.chi2_ndf_after_with_uncertainty
            x = o.label
            edges2 = np.repeat(bins, 2)[1:-1]  # the band drawn as steps over each bin
            ylab = f"normalised jets / bin width ({key})"  # one y dimension per plot: no shared axes
            plots.append(
                hv.Overlay(
                    [
                        hv.Area((edges2, np.repeat(w - band, 2), np.repeat(w + band, 2)), x, [ylab, "hi"]).opts(
                            color="#d62728", alpha=0.25, line_alpha=0
                        ),
                        hv.Curve((centers, s), x, ylab, label="simulation").opts(
                            color="black", interpolation="steps-mid"
                        ),
                        hv.Curve((centers, w), x, ylab, label="reweighted").opts(
                            color="#d62728", interpolation="steps-mid", line_width=2
                        ),
                        hv.ErrorBars((centers, d, err), x, [ylab, "err"]).opts(color="black"),
                        hv.Scatter((centers, d), x, ylab, label="pseudo-data").opts(color="black", size=5),
                    ]
                ).opts(
                    title=f"{o.label}: χ²/ndf {c0:.0f}/{n0} → {c1:.0f}/{n1}",
                    responsive=True,
                    height=300,
                    ylabel="normalised jets / bin width",
                    legend_position="top_left" if key == "tau32" else "top_right",
                    fontscale=self.state.fontscale,
                )
            )
        rows = [
            {
                "cut": name,
                "pseudo-data": f"{c.data:.3f} ± {c.data_stat:.3f}",
                "simulation": f"{c.uncorrected:.3f}",
                "reweighted": f"{c.corrected:.3f} ± {c.total:.3f}",
                "non-closure": f"{c.non_closure_in_sigma:+.1f} σ",
            }
            for name, c in res.closure.cuts.items()
        ]
        sc = res.closure.self_closure
        return pn.Column(
            pn.pane.Markdown(
                "### Closure on independent halves of the control sample\n"
                "Ratio measured on even events, applied to the simulation's odd events, compared with the "
                "pseudo-data's odd events. χ² after reweighting includes the correction's uncertainty band."
            ),
            pn.Row(*plots, sizing_mode="stretch_width"),
            pn.pane.DataFrame(pd.DataFrame(rows), index=False),
            pn.pane.Markdown(
                f"Self-closure (pseudo-data vs its other half): median weight {sc.median_weight:.2f}, "
                f"RMS of ln W {sc.rms_ln_weight:.2f} (statistics alone: "
                f"{sc.expected_rms_ln_weight_from_statistics:.2f})."
            ),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        res = self._result()
        n_pt = res.ratio.binning.shape[0] if res is not None else 1
        edges = res.ratio.binning.subjet_pt if res is not None else (0.0, 0.0)
        self.param.pt_bin.bounds = (0, n_pt - 1)
        if res is not None and self.pt_bin == 0:
            self.pt_bin = int(np.argmax(res.ratio.data.subjets))  # open on the best-measured pT bin
        options = {f"{edges[i]:.0f}–{edges[i + 1]:.0f} GeV": i for i in range(n_pt)}
        chooser = pn.widgets.Select.from_param(self.param.pt_bin, name="Subjet pT", options=options, width=220)
        return pn.Column(chooser, self._planes, self._efficiency, self._closure, sizing_mode="stretch_width")
