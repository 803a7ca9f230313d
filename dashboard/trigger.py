"""The trigger tab: a Run's L1 anomaly-trigger report (``RUN/trigger``, from ``python -m anomalyscope trigger``):
resources and latency with how each number was obtained, bit-exactness of the firmware, rate against
threshold, each signal's efficiency against rate, and the published AXOL1TL / CICADA figures beside ours."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from anomalyscope.core.results.records.trigger import Efficiency, ModelReport, PileupStudy, Threshold, TriggerReport
from anomalyscope.core.trigger.rates import tail_curve
from anomalyscope.dashboard.base import PALETTE, RunView, cannot_show
from anomalyscope.dashboard.data import run_attachment

MODEL_NAMES = {"axol1tl": "AXOL1TL-like (objects, VAE encoder)", "cicada": "CICADA-like (regions, student)"}


def trigger_report(run_path: str) -> TriggerReport | None:
    """The Run's trigger report, re-read when its file changes (a report added while the server runs)."""
    return run_attachment(run_path, "trigger")


def pileup_study(run_path: str) -> PileupStudy | None:
    """The Run's trigger pile-up study (``RUN/trigger/pileup.json``), re-read when the file changes."""
    return run_attachment(run_path, "pileup")


def resource_table(m: ModelReport) -> pd.DataFrame:
    """One row per way a number was obtained: da4ml estimate, yosys mapping, a vendor report."""
    r = m.resources
    rows = [
        {
            "how": r.source,
            "LUT": r.lut,
            "FF": r.ff,
            "DSP": r.dsp,
            "latency": f"{r.latency_cycles} cycles = {r.latency_ns:.0f} ns at {r.clock_mhz:g} MHz",
            "II": r.initiation_interval,
        }
    ]
    if r.lut_without_combining is not None:  # reports before this field existed lack it
        rows.append(
            {
                "how": "same estimate, ReLU masks at 1 LUT per bit (no LUT combining, as yosys maps them)",
                "LUT": r.lut_without_combining,
                "FF": r.ff,
                "DSP": r.dsp,
                "latency": "—",
                "II": "—",
            }
        )
    y = m.yosys
    if y is not None and y.status == "ok":
        d = y.estimate_minus_yosys_relative
        cmp = f" — estimate {100 * d['lut_without_combining']:+.1f}% LUT, {100 * d['ff']:+.1f}% FF" if d else ""
        rows.append({"how": y.source + cmp, "LUT": y.lut, "FF": y.ff, "DSP": 0, "latency": "—", "II": "—"})
    else:
        rows.append(
            {
                "how": f"yosys: {y.status if y is not None else 'not run'}",
                "LUT": "—",
                "FF": "—",
                "DSP": "—",
                "latency": "—",
                "II": "—",
            }
        )
    v = m.vendor
    if v is not None:
        c = v.csynth
        rows.append(
            {
                "how": v.source,
                "LUT": c.get("LUT"),
                "FF": c.get("FF"),
                "DSP": c.get("DSP"),
                "latency": f"{c.get('BestLatency')}–{c.get('WorstLatency')} cycles at {c.get('TargetClockPeriod')} ns",
                "II": c.get("IntervalMin"),
            }
        )
    return pd.DataFrame(rows)


def _threshold_note(thr: Threshold, one_event: float) -> str:
    """How the threshold was found: counted, extrapolated, or neither (too few zero-bias events)."""
    if not thr.limited_by_statistics:
        return (
            f" Counted directly: {thr.zero_bias_events_above} of {thr.zero_bias_events} zero-bias events lie above it."
        )
    few = (
        f" {thr.zero_bias_events} zero-bias events are too few to count a {thr.target_rate_hz:.0f} Hz rate "
        f"directly (one event is {one_event:.0f} Hz)"
    )
    tail = thr.tail_fit
    if tail is not None and tail.status == "ok":
        return (
            f"{few}: the threshold is extrapolated from a {thr.method} (dashed), "
            f"± {thr.threshold_uncertainty:.3g} from bootstrap replicas. More zero-bias events make it a count."
        )
    return f"{few}, and the tail fit was {tail.status if tail else 'not made'}. **Generate more zero-bias events.**"


def _row(*plots) -> pn.Row:
    """Plots side by side with their own axes: Panel would otherwise link every axis of the same name on the page
    (rate [Hz] is a y axis here and an x axis there, and the ranges set here would be overridden)."""
    return pn.Row(*(pn.pane.HoloViews(p, linked_axes=False) for p in plots), sizing_mode="stretch_width")


def _shift(eff: Efficiency) -> str:
    d = eff.uncertainty_from_threshold
    return f"{d[0]:+.3f} / {d[1]:+.3f}" if d else "—"


def exactness_table(m: ModelReport) -> pd.DataFrame:
    rows = []
    for name, b in m.bit_accuracy.items():
        rows.append(
            {
                "check": name.replace("_", " "),
                "events": b.n,
                "mismatches": b.mismatches,
                "max |Δ|": f"{b.max_abs_diff:.3g}",
            }
        )
    fm = m.physics.float_model
    if fm is not None:
        rows.append(
            {
                "check": "float model vs quantised (score)",
                "events": fm.n_events,
                "mismatches": f"decisions agree {100 * fm.decision_agreement_at_threshold:.2f}%",
                "max |Δ|": f"{fm.max_abs_score_diff:.3g}",
            }
        )
    return pd.DataFrame(rows)


class TriggerView(RunView):
    model = param.Selector(default="axol1tl", objects=list(MODEL_NAMES))

    @param.depends("state.run_path", "model", "state.large_fonts")
    def _body(self):
        rep = trigger_report(self.state.run_path)
        if rep is None:
            return cannot_show(
                "No trigger report in this Run. Make L1 samples (`python -m anomalyscope l1 --process minbias ...`, and "
                "signals) and run `python -m anomalyscope trigger --run RUN --background ... --signal ...` (see README)."
            )
        m = rep.models[self.model]
        ph = m.physics
        thr = ph.threshold
        fs = self.state.fontscale
        curve = ph.rate_curve
        rate = hv.Curve((curve.threshold, curve.rate_hz), "score threshold", "rate [Hz]").opts(color="black")
        one_event = 40e6 / thr.zero_bias_events  # the rate of a single zero-bias event: the resolution
        floor = hv.HLine(one_event).opts(color="grey", line_dash="dotted")
        target = hv.HLine(thr.target_rate_hz).opts(color="#d62728", line_dash="dashed")
        chosen = hv.VLine(thr.threshold).opts(color="#d62728")
        layers = [rate, floor, target, chosen]
        tail = tail_curve(thr)
        if tail is not None:
            layers.insert(
                1,
                hv.Curve((tail["threshold"], tail["rate_hz"]), label="tail fit").opts(
                    color="#1f77b4", line_dash="dashed"
                ),
            )
        rate_plot = hv.Overlay(layers).opts(
            logy=True,
            ylim=(one_event / 3, 6e7),
            responsive=True,
            height=320,
            title="Zero-bias rate (dotted: one event)",
            fontscale=fs,
        )
        effs = []
        for k, (name, s) in enumerate(ph.signals.items()):
            ev = s.efficiency_vs_rate
            effs.append(
                hv.Curve((ev.rate_hz, ev.efficiency), "rate [Hz]", "signal efficiency", label=name).opts(
                    color=PALETTE[(k + 1) % len(PALETTE)]
                )
            )
        eff_plot = hv.Overlay([*effs, hv.VLine(thr.target_rate_hz).opts(color="#d62728", line_dash="dashed")]).opts(
            logx=True,
            ylim=(0, 1.05),
            xlim=(50, 2e6),
            responsive=True,
            height=320,
            title="Signal efficiency against rate",
            legend_position="bottom_right",
            fontscale=fs,
        )
        sig_rows = [
            {
                "signal": n,
                "events": s.n_events,
                "efficiency (68% CL)": s.at_target_rate.text(),
                "from the threshold's uncertainty": _shift(s.at_target_rate),
            }
            for n, s in ph.signals.items()
        ]
        stats_note = _threshold_note(thr, one_event)
        util = pd.DataFrame(
            [
                {"FPGA part": p, **{k.upper(): f"{v:.2f}%" for k, v in u.items()}}
                for p, u in m.utilisation_percent.items()
            ]
        )
        pub = pd.DataFrame([{"published model": k, **v} for k, v in rep.published.models.items()])
        return pn.Column(
            pn.pane.Markdown(f"### {MODEL_NAMES[self.model]}: {m.architecture}"),
            pn.pane.Markdown(
                "**Resources and latency** (how each number was obtained is in the first column; "
                "none is a Vivado result unless a vendor report was imported)"
            ),
            pn.pane.DataFrame(resource_table(m), index=False),
            pn.pane.Markdown("**Utilisation** of named parts (da4ml estimate)"),
            pn.pane.DataFrame(util, index=False),
            pn.pane.Markdown("**Bit-exactness** of the firmware emulations against the quantised model"),
            pn.pane.DataFrame(exactness_table(m), index=False),
            pn.pane.Markdown(f"**Threshold** {thr.threshold:.4g} for {thr.target_rate_hz:.0f} Hz.{stats_note}"),
            _row(rate_plot, eff_plot),
            pn.pane.DataFrame(pd.DataFrame(sig_rows), index=False),
            self._pileup(fs),
            pn.pane.Markdown(f"**Published figures** — {rep.published.source}"),
            pn.pane.DataFrame(pub, index=False),
            sizing_mode="stretch_width",
        )

    def _pileup(self, fs: float):
        pu = pileup_study(self.state.run_path)
        if pu is None:
            return pn.pane.Markdown(
                "**Pile-up**: no study in this Run — `python -m anomalyscope trigger-pileup --report RUN/trigger` scans "
                "⟨μ⟩ with these models."
            )
        m = pu.models[self.model]
        mu = np.asarray(pu.mean_overlaid)
        one_event = 40e6 / pu.zero_bias_events
        rate = np.asarray(m.rate_at_nominal_hz)
        if m.rate_at_nominal_interval_hz is not None:  # Garwood 68%
            iv = np.asarray(m.rate_at_nominal_interval_hz, dtype=float).reshape(-1, 2)
            minus, plus = rate - iv[:, 0], iv[:, 1] - rate
        else:  # studies made before intervals were stored
            err = np.asarray(m.rate_at_nominal_uncertainty_hz)
            minus, plus = np.minimum(err, 0.9 * rate), err
        seen = rate > 0
        MU, RATE, EFF = "⟨μ⟩ (overlaid interactions)", "rate [Hz]", "signal efficiency"
        rate_plot = hv.Overlay(
            [
                hv.ErrorBars(
                    (mu[seen], rate[seen], minus[seen], plus[seen]),
                    MU,
                    [RATE, "minus", "plus"],
                ).opts(color="black"),
                hv.Scatter((mu[seen], rate[seen]), MU, RATE, label="measured").opts(color="black", size=7),
                hv.Scatter((mu[~seen], np.full((~seen).sum(), one_event)), MU, RATE, label="none above").opts(
                    color="grey", marker="inverted_triangle", size=9
                ),
                hv.HLine(pu.target_rate_hz).opts(color="#d62728", line_dash="dashed"),
            ]
        ).opts(
            logy=True,
            ylim=(min(one_event, pu.target_rate_hz) / 3, 8e7),
            responsive=True,
            height=300,
            title="Zero-bias rate at the report's threshold",
            legend_position="bottom_right",
            fontscale=fs,
        )
        effs = []
        for k, (name, s) in enumerate(m.signals.items()):
            e = np.array([v.efficiency for v in s.efficiency_at_target_rate])
            lo, hi = np.array([v.bounds() for v in s.efficiency_at_target_rate]).T  # Clopper–Pearson 68%
            below, above = e - lo, hi - e
            color = PALETTE[(k + 1) % len(PALETTE)]
            effs += [
                hv.ErrorBars((mu, e, below, above), MU, [EFF, "below", "above"]).opts(color=color),
                hv.Curve((mu, e), MU, EFF, label=name).opts(color=color),
            ]
        eff_plot = hv.Overlay(effs).opts(
            ylim=(0, 1.05),
            responsive=True,
            height=300,
            title=f"Signal efficiency at {pu.target_rate_hz:.0f} Hz (threshold for each ⟨μ⟩)",
            legend_position="top_right",
            fontscale=fs,
        )
        return pn.Column(
            pn.pane.Markdown(
                f"**Pile-up** — the same {pu.zero_bias_events} zero-bias crossings and {pu.signal_events} "
                f"events per signal, overlaid with Poisson(⟨μ⟩) minimum-bias interactions from a pool of "
                f"{pu.pool_interactions}; the models were trained at ⟨μ⟩ = {pu.report_background_pileup:g}. "
                "A rate that climbs with ⟨μ⟩ means the model needs training at the running pile-up."
            ),
            _row(rate_plot, eff_plot),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        chooser = pn.widgets.RadioButtonGroup.from_param(
            self.param.model, options={label: key for key, label in MODEL_NAMES.items()}
        )
        return pn.Column(chooser, self._body, sizing_mode="stretch_width")
