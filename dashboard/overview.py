"""Overview view: which EventSet and Run are loaded, how they were made, and the m_jj spectrum."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from anomalyscope.core.bumphunt.histogram import poisson_interval
from anomalyscope.core.bumphunt.search import INCLUSIVE, SearchDefinition
from anomalyscope.core.errors import AnomalyscopeError
from anomalyscope.dashboard.base import cannot_show
from anomalyscope.dashboard.data import event_columns, load_run, open_eventset, run_attachment, stored_spectra
from anomalyscope.dashboard.state import SessionState


class Overview(pn.viewable.Viewer):
    state = param.ClassSelector(class_=SessionState)

    @param.depends("state.eventset_path")
    def _summary(self):
        try:
            es = open_eventset(self.state.eventset_path)
        except AnomalyscopeError as exc:
            return cannot_show(
                f"**No EventSet loaded.** {exc}\n\nBuild the demo with `python -m anomalyscope demo`, or set "
                "`ANOMALYSCOPE_EVENTSET=/path/to/eventset` before `panel serve app.py`."
            )
        s = es.schema
        rows = [
            ("EventSet", f"`{es.path}`"),
            ("Events", f"{len(es):,}"),
            ("Per process", ", ".join(f"{k}: {v:,}" for k, v in es.counts.items())),
            ("Source", s.get("source", {}).get("kind", "?")),
            ("Created", s.get("created", "?")),
            ("m_jj fully efficient above", f"{es.mjj_fit_min:.0f} GeV"),
        ]
        if s.get("injection"):
            inj = s["injection"]
            rows.append(("Injected signal", f"{inj['n_signal']} events of {', '.join(inj['signal_process'])}"))
        if s.get("demo"):
            d = s["demo"]
            rows.append(
                (
                    "Demo signal region",
                    f"{d['signal_region_gev'][0]:.0f}–{d['signal_region_gev'][1]:.0f} GeV, "
                    f"|Δη| < {d['deta_max']}: S/B = {d['s_over_b_in_sr']:.1%}, "
                    f"S/√B = {d['target_s_over_sqrt_b_in_sr']}",
                )
            )
        table = "\n".join(
            ["| Property | Value |", "|---|---|"] + [f"| {k} | {str(v).replace('|', chr(92) + '|')} |" for k, v in rows]
        )
        return pn.pane.Markdown(table, sizing_mode="stretch_width")

    @param.depends("state.eventset_path")
    def _spectrum(self):
        try:
            es = open_eventset(self.state.eventset_path)
        except AnomalyscopeError:
            return pn.Spacer()
        cols = event_columns(self.state.eventset_path, ("mjj", "deta"))
        deta_max = es.info.selection_value("deta_max", SearchDefinition.deta_max)
        mjj = cols["mjj"][cols["deta"] < deta_max]
        edges = np.arange(np.floor(mjj.min() / 100) * 100, np.ceil(mjj.max() / 100) * 100 + 100, 100.0)
        counts, _ = np.histogram(mjj, edges)
        centres = 0.5 * (edges[1:] + edges[:-1])
        ok = counts > 0
        lo, hi = poisson_interval(counts[ok])
        pts = hv.Scatter((centres[ok], counts[ok]), "m_jj [GeV]", "Events / 100 GeV").opts(
            color="black", size=5, logy=True
        )
        err = hv.ErrorBars(
            (centres[ok], counts[ok], counts[ok] - np.maximum(lo, 1e-3), hi - counts[ok]),
            "m_jj [GeV]",
            ["Events / 100 GeV", "err_minus", "err_plus"],
        ).opts(lower_head=None, upper_head=None)
        edge = hv.VLine(es.mjj_fit_min).opts(color="firebrick", line_dash="dashed")
        return (err * pts * edge).opts(
            title=f"Dijet mass, |Δη| < {deta_max:g} (dashed: fully efficient from {es.mjj_fit_min:.0f} GeV)",
            responsive=True,
            height=420,
            logy=True,
            ylim=(0.5, None),
            show_grid=True,
        )

    @param.depends("state.run_path")
    def _search_summary(self):
        """The search's answer: the largest local excess over everything searched and its global Z, beside
        the inclusive search's."""
        try:
            rd = load_run(self.state.run_path)
        except AnomalyscopeError:
            return pn.Spacer()
        res = rd.search_result
        excesses = rd.best_excesses()
        if res is None or not any(e.found for e in excesses.values()):
            return pn.Spacer()

        def where(e):
            return f"window {e.window}, ε = {e.eff:g}" if e.window else "no cut"

        from anomalyscope.core.methods import best_data_driven

        g = res.global_significance
        best = best_data_driven(excesses)
        if best is not None:
            m, b = best
        else:  # no data-driven method: the largest excess of any
            m, b = max(((mm, e) for mm, e in excesses.items() if e.found), key=lambda me: me[1].z_local)
        lines = [
            f"#### The search: largest excess **{m}** ({where(b)}): local **{b.z_local:.1f}σ** at "
            f"{b.mass:.0f} GeV, **{b.global_text or 'global: no toys'}**"
        ]
        null = run_attachment(self.state.run_path, "null_calibration")
        if null is not None:
            lines.append(
                f"Retrained null: **{null.text(b.z_local)}** — the toys above never retrain; these pseudo-datasets "
                "went through the whole chain."
            )
        else:
            lines.append(
                "No retrained null yet: the global significance above comes from toys that do not retrain the "
                "methods (`anomalyscope null RUN --pool QCD` calibrates it)."
            )
        refs = [(mm, e) for mm, e in excesses.items() if mm != (best[0] if best else None) and e.found]
        incl = excesses.get(INCLUSIVE)
        if incl is not None and incl.found:
            stored = res.selection(INCLUSIVE, 1.0, None)
            n_masses = len(stored.masses or []) if stored is not None else 0
            at_answer = ""
            if best is not None and best[1].found and stored is not None and abs(best[1].mass - incl.mass) > 1:
                at_answer = f"; at the answer's {best[1].mass:.0f} GeV it is {stored.z_at(best[1].mass):.1f}σ"
            lines.append(
                f"Inclusive search: largest local excess {incl.z_local:.1f}σ at {incl.mass:.0f} GeV of its "
                f"{n_masses} scanned masses (global {incl.z_global:.1f}σ){at_answer}."
            )
        others = [f"{mm} {e.z_local:.1f}σ at {e.mass:.0f} GeV" for mm, e in refs if mm != INCLUSIVE]
        if others:
            lines.append("Other methods (local Z of their largest excess): " + "; ".join(others) + ".")
        t = res.trials
        lines.append(
            f"Global significance from {g.n_toys if g is not None else 0} background-only pseudo-experiments over "
            f"{t.text()} "
            f"(methods × cuts × windows of binnings {', '.join(sorted({w.binning for w in rd.search.windows}))}); "
            f"fit from {rd.search.fit_min:.0f} GeV ({rd.search.fit_min_how})."
            + (f" Note: {g.note}." if g is not None and g.note else "")
        )
        for w in rd.search.warnings + res.sideband_flags():
            lines.append(f"- {w}")
        return pn.pane.Markdown("\n\n".join(lines), sizing_mode="stretch_width")

    @param.depends("state.run_path", "state.large_fonts")
    def _discovery(self):
        """The story in one row: the inclusive spectrum and its fit beside the spectrum after the best data-driven
        method's cut and its fit, the window's signal region shaded and the excess's mass marked."""
        try:
            rd = load_run(self.state.run_path)
            best = rd.best_anomaly()
            if best is None:
                return pn.Spacer()
            m, b = best
            incl = stored_spectra(rd, INCLUSIVE, (1.0,), None)[0]
            cut = stored_spectra(rd, m, (b.eff,), b.window)[-1]
        except (AnomalyscopeError, KeyError, IndexError):
            return pn.Spacer()
        sr = rd.search.window(b.window).sr if b.window else None
        z_incl = incl.z_at(b.mass)
        where = f"{b.window}, ε = {b.eff:g}" if b.window else "no cut"
        titles = (
            f"Inclusive: local {z_incl:.1f}σ at {b.mass:.0f} GeV",
            f"{m} ({where}): local {b.z_local:.1f}σ, {b.global_short}",
        )
        plots = [self._fitted_spectrum(f, t, sr, b.mass) for f, t in zip((incl, cut), titles)]
        caption = (
            f"**The search's answer.** Left: every event of the analysis region, fitted with the dijet function "
            f"({rd.search.fit_min:.0f}–{rd.search.definition.fit_max:.0f} GeV). Right: the events {m} keeps at "
            f"ε = {b.eff:g} (threshold from the sidebands of window {b.window}), fitted the same way. Shaded: "
            "the window's signal region; dashed: the mass of the largest excess. Global significance from "
            "background-only pseudo-experiments over every method, cut and window searched. The *What is "
            "anomalous?* tab shows the jets of these events (the m_jj range is set to the signal region)."
        )
        return pn.Column(
            pn.Row(*[pn.pane.HoloViews(p, sizing_mode="stretch_width") for p in plots], sizing_mode="stretch_width"),
            pn.pane.Markdown(caption, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def _fitted_spectrum(self, f, title: str, sr, mass: float):
        spec = f.spectrum()
        n, x, w = spec.counts, spec.centers, spec.widths
        ok = n > 0
        lo, hi = poisson_interval(n)
        X, Y = "m_jj [GeV]", "Events / GeV"
        layers = [
            hv.ErrorBars(
                (x[ok], n[ok] / w[ok], (n[ok] - lo[ok]) / w[ok], (hi[ok] - n[ok]) / w[ok]), X, [Y, "-", "+"]
            ).opts(lower_head=None, upper_head=None, color="black"),
            hv.Scatter((x[ok], n[ok] / w[ok]), X, Y, label="data").opts(color="black", size=5),
        ]
        if f.expected is not None:
            layers.append(
                hv.Curve((x, np.asarray(f.expected) / w), X, Y, label="background fit").opts(
                    color="#1f77b4", line_width=2
                )
            )
        if sr is not None:
            layers.append(hv.VSpan(*sr).opts(color="#ff7f0e", alpha=0.15))
        layers.append(hv.VLine(mass).opts(color="firebrick", line_dash="dashed"))
        floor = 1.0 / float(np.max(w))
        return hv.Overlay(layers).opts(
            title=title,
            logy=True,
            ylim=(floor / 5, None),
            responsive=True,
            height=360,
            show_grid=True,
            legend_position="top_right",
            fontscale=self.state.fontscale,
        )

    @param.depends("state.run_path")
    def _run_summary(self):
        try:
            m = load_run(self.state.run_path).run.manifest
        except AnomalyscopeError as exc:
            return cannot_show(f"**No Run loaded.** {exc}")
        windows = ", ".join(f"{w.name} {w.sr[0]:.0f}–{w.sr[1]:.0f}" for w in (m.search.windows if m.search else []))
        secs = m.training_seconds or {}
        folds = m.method_folds or {}
        rows = [
            ("Run", f"`{self.state.run_path}`"),
            ("Created", f"{m.created or '?'} (anomalyscope {m.anomalyscope or '?'}, {m.torch_device})"),
            ("Windows (SR, GeV)", windows),
            ("Flat-efficiency cuts", ", ".join(f"{e:g}" for e in m.efficiencies)),
        ]
        for name in m.methods:
            info = f"{folds.get(name, m.folds)} folds, trained in {secs.get(name, 0):.0f} s"
            prior = (m.method_info or {}).get(name, {}).get("prior")
            if prior:
                info += "; signal prior: " + ", ".join(p for item in prior for p in item["processes"])
            rows.append((f"Method `{name}`", info))
        table = "\n".join(
            ["| Run | |", "|---|---|"] + [f"| {k} | {str(v).replace('|', chr(92) + '|')} |" for k, v in rows]
        )
        return pn.pane.Markdown(table, sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Column(
            self._search_summary,
            self._discovery,
            self._summary,
            self._run_summary,
            self._spectrum,
            sizing_mode="stretch_width",
        )
