"""The trigger tab: a Run's L1 anomaly-trigger report (``RUN/trigger``, from ``python -m core trigger``):
resources and latency with how each number was obtained, bit-exactness of the firmware, rate against
threshold, each signal's efficiency against rate, and the published AXOL1TL / CICADA figures beside ours."""

from __future__ import annotations

from pathlib import Path

import holoviews as hv
import pandas as pd
import panel as pn
import param

from core.trigger.report import REPORT, TRIGGER_DIR, load_report
from dashboard.views import PALETTE, RunView, _missing

MODEL_NAMES = {"axol1tl": "AXOL1TL-like (objects, VAE encoder)", "cicada": "CICADA-like (regions, student)"}


def trigger_report(run_path: str) -> dict | None:
    """The Run's trigger report, re-read when its file changes (a report added while the server runs)."""
    path = Path(run_path) / TRIGGER_DIR / REPORT
    return _report(str(path.parent), path.stat().st_mtime_ns if path.exists() else 0)


@pn.cache(max_items=8)
def _report(path: str, mtime: int) -> dict | None:
    return load_report(path) if mtime else None


def resource_table(m: dict) -> pd.DataFrame:
    """One row per way a number was obtained: da4ml estimate, yosys mapping, a vendor report."""
    r = m["resources"]
    rows = [
        {
            "how": r["source"],
            "LUT": r["lut"],
            "FF": r["ff"],
            "DSP": r["dsp"],
            "latency": f"{r['latency_cycles']} cycles = {r['latency_ns']:.0f} ns at {r['clock_mhz']:g} MHz",
            "II": r["initiation_interval"],
        }
    ]
    y = m.get("yosys", {})
    if y.get("status") == "ok":
        rows.append({"how": y["source"], "LUT": y["lut"], "FF": y["ff"], "DSP": 0, "latency": "—", "II": "—"})
    else:
        rows.append(
            {
                "how": f"yosys: {y.get('status', 'not run')}",
                "LUT": "—",
                "FF": "—",
                "DSP": "—",
                "latency": "—",
                "II": "—",
            }
        )
    v = m.get("vendor")
    if v:
        c = v["csynth"]
        rows.append(
            {
                "how": v["source"],
                "LUT": c.get("LUT"),
                "FF": c.get("FF"),
                "DSP": c.get("DSP"),
                "latency": f"{c.get('BestLatency')}–{c.get('WorstLatency')} cycles at {c.get('TargetClockPeriod')} ns",
                "II": c.get("IntervalMin"),
            }
        )
    return pd.DataFrame(rows)


def exactness_table(m: dict) -> pd.DataFrame:
    rows = []
    for name, b in m["bit_accuracy"].items():
        rows.append(
            {
                "check": name.replace("_", " "),
                "events": b["n"],
                "mismatches": b["mismatches"],
                "max |Δ|": f"{b['max_abs_diff']:.3g}",
            }
        )
    fm = m["physics"].get("float_model")
    if fm:
        rows.append(
            {
                "check": "float model vs quantised (score)",
                "events": fm["n_events"],
                "mismatches": f"decisions agree {100 * fm['decision_agreement_at_threshold']:.2f}%",
                "max |Δ|": f"{fm['max_abs_score_diff']:.3g}",
            }
        )
    return pd.DataFrame(rows)


class TriggerView(RunView):
    model = param.Selector(default="axol1tl", objects=list(MODEL_NAMES))

    @param.depends("state.run_path", "model", "state.large_fonts")
    def _body(self):
        rep = trigger_report(self.state.run_path)
        if rep is None:
            return _missing(
                "No trigger report in this Run. Make L1 samples (`python -m core l1 --process minbias ...`, and "
                "signals) and run `python -m core trigger --run RUN --background ... --signal ...` (see README)."
            )
        m = rep["models"][self.model]
        ph = m["physics"]
        thr = ph["threshold"]
        fs = self.state.fontscale
        curve = ph["rate_curve"]
        rate = hv.Curve((curve["threshold"], curve["rate_hz"]), "score threshold", "rate [Hz]").opts(color="black")
        one_event = 40e6 / thr["zero_bias_events"]  # the rate of a single zero-bias event: the resolution
        floor = hv.HLine(one_event).opts(color="grey", line_dash="dotted")
        target = hv.HLine(thr["target_rate_hz"]).opts(color="#d62728", line_dash="dashed")
        chosen = hv.VLine(thr["threshold"]).opts(color="#d62728")
        rate_plot = (rate * floor * target * chosen).opts(
            logy=True,
            ylim=(one_event / 3, 6e7),
            responsive=True,
            height=320,
            title="Zero-bias rate (dotted: one event)",
            fontscale=fs,
        )
        effs = []
        for k, (name, s) in enumerate(ph["signals"].items()):
            ev = s["efficiency_vs_rate"]
            effs.append(
                hv.Curve((ev["rate_hz"], ev["efficiency"]), "rate [Hz]", "signal efficiency", label=name).opts(
                    color=PALETTE[(k + 1) % len(PALETTE)]
                )
            )
        eff_plot = hv.Overlay([*effs, hv.VLine(thr["target_rate_hz"]).opts(color="#d62728", line_dash="dashed")]).opts(
            logx=True,
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
                "events": s["n_events"],
                "efficiency": f"{s['at_target_rate']['efficiency']:.3f} ± {s['at_target_rate']['uncertainty']:.3f}",
            }
            for n, s in ph["signals"].items()
        ]
        stats_note = (
            f" **Limited by statistics**: {thr['zero_bias_events']} zero-bias events, "
            f"{thr['zero_bias_events_above']} above the threshold; the rate is known to ± "
            f"{thr['rate_uncertainty_hz']:.0f} Hz. Generate more zero-bias events for a precise threshold."
            if thr["limited_by_statistics"]
            else ""
        )
        util = pd.DataFrame(
            [
                {"FPGA part": p, **{k.upper(): f"{v:.2f}%" for k, v in u.items()}}
                for p, u in m["utilisation_percent"].items()
            ]
        )
        pub = pd.DataFrame([{"published model": k, **v} for k, v in rep["published"]["models"].items()])
        return pn.Column(
            pn.pane.Markdown(f"### {MODEL_NAMES[self.model]}: {m['architecture']}"),
            pn.pane.Markdown(
                "**Resources and latency** (how each number was obtained is in the first column; "
                "none is a Vivado result unless a vendor report was imported)"
            ),
            pn.pane.DataFrame(resource_table(m), index=False),
            pn.pane.Markdown("**Utilisation** of named parts (da4ml estimate)"),
            pn.pane.DataFrame(util, index=False),
            pn.pane.Markdown("**Bit-exactness** of the firmware emulations against the quantised model"),
            pn.pane.DataFrame(exactness_table(m), index=False),
            pn.pane.Markdown(
                f"**Threshold** {thr['threshold']:.4g} for {thr['target_rate_hz']:.0f} Hz "
                f"(achieved {thr['achieved_rate_hz']:.0f} Hz).{stats_note}"
            ),
            pn.Row(rate_plot, eff_plot, sizing_mode="stretch_width"),
            pn.pane.DataFrame(pd.DataFrame(sig_rows), index=False),
            pn.pane.Markdown(f"**Published figures** — {rep['published']['source']}"),
            pn.pane.DataFrame(pub, index=False),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        chooser = pn.widgets.RadioButtonGroup.from_param(
            self.param.model, options={label: key for key, label in MODEL_NAMES.items()}
        )
        return pn.Column(chooser, self._body, sizing_mode="stretch_width")
