"""Publication plots of a Run, as PDF and PNG (matplotlib + mplhep; ``pip install "anomalyscope[plots]"``).

``anomalyscope plot RUN`` writes, for what the Run holds:

- ``spectrum_<method>``: m_jj after each of the method's cuts in the window of its largest excess, with the
  F-test fit, the pulls of the tightest cut and the local-significance scan (and the inclusive spectrum);
- ``performance``: ROC (background rejection against signal efficiency) and SIC of every method;
- ``correlations``: the Pearson correlation of the methods' scores on data in the evaluation window;
- ``sensitivity``: the median local Z against injected signal per method, 3σ and 5σ marked (a Run of an
  injection scan);
- ``lund_ratio``: the Lund-plane data/simulation ratio in each subjet-pT bin;
- ``trigger_<model>``: the L1 model's zero-bias rate against threshold and signal efficiency against rate.

Every plot carries the label "anomalyscope Simulation", √s = 13 TeV and, where the EventSet records it,
the integrated luminosity; data points have Garwood (exact Poisson) error bars; every axis has its unit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from anomalyscope.core.bumphunt.histogram import poisson_interval
from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.data import EventSet
from anomalyscope.core.errors import AnalysisError, InputError
from anomalyscope.core.extras import require

FORMATS = ("pdf", "png")
DPI = 150
COLORS = ["black", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _pyplot():
    matplotlib = require("matplotlib", "Publication plots")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot", "Publication plots")
    mplhep = require("mplhep", "Publication plots")
    plt.style.use(mplhep.style.CMS)  # the familiar HEP look (fonts, ticks); the label below says whose plot it is
    return plt, mplhep


def luminosity_fb(es: EventSet) -> float | None:
    """The data's integrated luminosity [fb⁻¹]: that of its background processes (generated events / σ)."""
    lumis = [p.luminosity_pb for p in (es.info.processes or {}).values() if not p.label and p.luminosity_pb]
    return min(lumis) / 1000.0 if lumis else None


def _label(mplhep, ax, lumi: float | None, fontsize: float = 20) -> None:
    right = "13 TeV" if lumi is None else f"{lumi:.{2 if lumi < 10 else 1}f} fb$^{{-1}}$ (13 TeV)"
    mplhep.label.exp_label(exp="anomalyscope", llabel="Simulation", rlabel=right, fontsize=fontsize, ax=ax, loc=0)


def _save(fig, out: Path, stem: str) -> list[Path]:
    paths = []
    if fig.get_layout_engine() is None:
        with warnings.catch_warnings():  # mplhep's label axes are not tight_layout's; the rest is laid out
            warnings.simplefilter("ignore", UserWarning)
            fig.tight_layout()
    for fmt in FORMATS:
        path = out / f"{stem}.{fmt}"
        fig.savefig(path, dpi=DPI, bbox_inches=None)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------- the plots
def spectrum(plt, mplhep, run, method: str, lumi, out: Path) -> list[Path]:
    res = run.search_result()
    best = res.best_excesses().get(method) if res is not None else None
    window = best.window if best is not None and method != INCLUSIVE else None
    search = run.search()
    scans = run.spectra(method, [1.0, *sorted(run.efficiencies, reverse=True)], window)  # as stored: no refit
    fitted = [s for s in scans if s.expected is not None]
    if not fitted:
        raise AnalysisError(f"{method}: no selection could be fitted")
    fig, (top, pull_ax, z_ax) = plt.subplots(
        3, 1, figsize=(10, 12), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1.2], "hspace": 0.06}
    )
    for k, s in enumerate(fitted):
        c = COLORS[k % len(COLORS)]
        spec = s.spectrum()
        n, x, w = spec.counts, spec.centers, spec.widths
        lo, hi = poisson_interval(n)
        ok = n > 0
        top.errorbar(x[ok], (n / w)[ok], yerr=[((n - lo) / w)[ok], ((hi - n) / w)[ok]], fmt="o", ms=4, color=c,
                     label=s.label)  # fmt: skip
        top.stairs(np.asarray(s.expected) / w, spec.edges, color=c, lw=1.5)
    if window is not None:
        sr = search.window(window).sr
        for ax in (top, pull_ax, z_ax):
            ax.axvspan(*sr, color="#ff7f0e", alpha=0.12, lw=0)
    tight = fitted[-1]
    tight_spec = tight.spectrum()
    pull_ax.bar(tight_spec.centers, tight.pulls(), width=tight_spec.widths,
                color=COLORS[(len(fitted) - 1) % len(COLORS)], alpha=0.8)  # fmt: skip
    pull_ax.axhline(0, color="grey", lw=0.8)
    pull_ax.set_ylim(-4.5, 4.5)
    pull_ax.set_ylabel("pull", fontsize=18)
    which = "no cut" if tight.eff >= 1 else f"ε = {tight.eff:g}"
    pull_ax.text(
        0.99, 0.92, f"(data − fit)/√fit, {which}", transform=pull_ax.transAxes, ha="right", va="top", fontsize=13
    )
    for k, s in enumerate(fitted):
        if s.z:
            z_ax.plot(s.masses, s.z, "-o", ms=3, color=COLORS[k % len(COLORS)])
    for level in (3, 5):
        z_ax.axhline(level, color="grey", ls="--", lw=0.8)
    zs = np.concatenate([np.asarray(s.z, dtype=float) for s in fitted if s.z] or [np.zeros(1)])
    z_ax.set_ylim(min(-1.0, np.nanmin(zs) - 0.5), max(5.8, np.nanmax(zs) + 0.8))
    z_ax.set_ylabel(r"local $Z$ [$\sigma$]", fontsize=18)
    z_ax.set_xlabel(r"$m_{jj}$ [GeV]")
    top.set_yscale("log")
    top.set_ylabel("Events / GeV")
    dens = np.concatenate([(sp := s.spectrum()).counts / sp.widths for s in fitted])
    top.set_ylim(0.2 * dens[dens > 0].min(), 30 * dens.max())  # the data's range, not the fits' far tails
    fig.align_ylabels([top, pull_ax, z_ax])
    cut = f"{method}, window {window}" if window else method
    top.legend(title=rf"{cut}; $|\Delta\eta| < {search.definition.deta_max:g}$", fontsize=15, title_fontsize=15)
    top.set_xlim(tight_spec.edges[0], tight_spec.edges[-1])
    _label(mplhep, top, lumi)
    return _save(fig, out, f"spectrum_{method}")


def performance(plt, mplhep, run, lumi, out: Path) -> list[Path]:
    ev = run.evaluation()
    if ev is None:
        return []
    fig, (roc, sic) = plt.subplots(1, 2, figsize=(16, 7.5))
    evaluated = ev.evaluated()
    for k, (name, p) in enumerate(ev.methods.items()):  # colours by the Run's method order
        if name not in evaluated:
            continue
        es, eb = np.asarray(p.eps_s), np.asarray(p.eps_b)
        ok = eb > 0
        c = COLORS[k % len(COLORS)]
        roc.plot(es[ok], 1 / eb[ok], color=c, label=f"{name} (AUC {p.auc:.2f})")
        sic.plot(es[ok], es[ok] / np.sqrt(eb[ok]), color=c, label=name)
    n_b = max((p.n_background for p in evaluated.values()), default=0)
    if n_b:
        roc.axhline(n_b, color="grey", ls=":", lw=1)  # one background event passes: the resolution
        roc.text(0.98, n_b, f"one of {n_b} background events", ha="right", va="bottom", fontsize=12,
                 transform=roc.get_yaxis_transform())  # fmt: skip
    sic.axhline(1, color="grey", ls=":", lw=1)
    roc.set_yscale("log")
    roc.set_xlabel(r"signal efficiency $\epsilon_S$")
    roc.set_ylabel(r"background rejection $1/\epsilon_B$")
    sic.set_xlabel(r"signal efficiency $\epsilon_S$")
    sic.set_ylabel(r"SIC = $\epsilon_S\,/\,\epsilon_B^{1/2}$")
    sr = ev.region.sr_gev
    roc.legend(
        loc="lower left",
        fontsize=13,
        title=f"SR {sr[0]:.0f}–{sr[1]:.0f} GeV (window {ev.region.window})",
        title_fontsize=13,
    )
    for ax in (roc, sic):
        _label(mplhep, ax, lumi, fontsize=15)
    return _save(fig, out, "performance")


def correlations(plt, mplhep, run, lumi, out: Path) -> list[Path]:
    ev = run.evaluation()
    data = ev.complementarity.data if ev is not None and ev.complementarity is not None else None
    if data is None:
        return []
    names, m = data.methods, np.asarray(data.pearson, dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 5, 1.1 * len(names) + 4))
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=11)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=13)
    ax.set_yticks(range(len(names)), names, fontsize=13)
    ax.minorticks_off()
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(f"Pearson correlation of the scores ({data.n_events} events of data in the window)", fontsize=15)
    _label(mplhep, ax, lumi, fontsize=16)
    return _save(fig, out, "correlations")


def sensitivity(plt, mplhep, run, lumi, out: Path) -> list[Path]:
    scan = run.attachment("injection_scan") if "injection_scan" in run.attachments() else None
    if scan is None:
        return []
    fig, ax = plt.subplots(figsize=(10, 8))
    inj = np.asarray(scan.injections, dtype=float)
    for k, (name, z) in enumerate(scan.median_z.items()):
        ax.plot(inj, z, "-o", ms=4, color=COLORS[k % len(COLORS)], label=name)
    for level in (3, 5):
        ax.axhline(level, color="grey", ls="--", lw=1)
        ax.text(inj.max(), level, f" {level}σ", va="center", fontsize=13)
    ax.set_xlabel("injected signal events")
    ax.set_ylabel("median local Z at the signal mass [σ]")
    ax.legend(fontsize=12, title=f"m = {scan.mass:.0f} GeV, ε = {scan.efficiency:g}", title_fontsize=12)
    _label(mplhep, ax, lumi)
    return _save(fig, out, "sensitivity")


def lund_ratio(plt, mplhep, run, lumi, out: Path) -> list[Path]:
    from anomalyscope.core.lund.ratio import LundRatio
    from anomalyscope.core.lund.report import LUND_DIR

    path = run.path / LUND_DIR / "ratio.json"
    if not path.exists():
        return []
    ratio = LundRatio.load(path)
    b = ratio.binning
    n_pt = b.shape[0]
    cols = 3
    rows = -(-n_pt // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(18, 6 * rows), squeeze=False, layout="constrained")
    flat = axes.ravel()
    for i in range(n_pt):
        ax = flat[i]
        im = ax.pcolormesh(b.ln_r_delta, b.ln_kt, np.log(ratio.ratio[i]).T, cmap="RdBu_r", vmin=-0.7, vmax=0.7)
        hi = f"{b.subjet_pt[i + 1]:g} GeV" + (" (and above)" if i + 1 == n_pt else "")
        ax.text(0.03, 0.97, f"subjet $p_T$ {b.subjet_pt[i]:g}–{hi}", transform=ax.transAxes, va="top", fontsize=13,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})  # fmt: skip
        ax.set_xlabel(r"$\ln(R/\Delta R)$", fontsize=16)
        ax.set_ylabel(r"$\ln(k_t/\mathrm{GeV})$", fontsize=16)
        ax.tick_params(labelsize=12)
    for ax in flat[n_pt:]:
        ax.set_visible(False)
    fig.colorbar(im, ax=flat[:n_pt].tolist(), shrink=0.8).set_label(r"$\ln(\rho_\mathrm{data}/\rho_\mathrm{sim})$")
    for ax in flat[:cols]:
        _label(mplhep, ax, lumi, fontsize=14)
    return _save(fig, out, "lund_ratio")


def trigger(plt, mplhep, run, lumi, out: Path) -> list[Path]:
    rep = run.attachment("trigger") if "trigger" in run.attachments() else None
    if rep is None:
        return []
    paths = []
    for name, m in rep.models.items():
        ph = m.physics
        thr, curve = ph.threshold, ph.rate_curve
        fig, (rate_ax, eff_ax) = plt.subplots(1, 2, figsize=(16, 7.5))
        rate = np.asarray(curve.rate_hz)
        if curve.rate_interval_hz is not None:  # Garwood 68%
            lo, hi = (np.asarray(v) for v in curve.rate_interval_hz)
            rate_ax.fill_between(curve.threshold, lo, hi, color="grey", alpha=0.3, lw=0, label="68% interval")
        rate_ax.plot(curve.threshold, rate, color="black", label="zero bias")
        rate_ax.axhline(thr.target_rate_hz, color="#d62728", ls="--", label=f"{thr.target_rate_hz:.0f} Hz")
        rate_ax.axvline(thr.threshold, color="#d62728")
        rate_ax.set_yscale("log")
        rate_ax.set_xlabel("anomaly score threshold")
        rate_ax.set_ylabel("L1 rate [Hz]")
        rate_ax.legend(fontsize=12, title=name, title_fontsize=12)
        for k, (sig, s) in enumerate(ph.signals.items()):
            ev = s.efficiency_vs_rate
            eff_ax.plot(ev.rate_hz, ev.efficiency, color=COLORS[(k + 1) % len(COLORS)], label=sig)
        eff_ax.axvline(thr.target_rate_hz, color="#d62728", ls="--")
        eff_ax.set_xscale("log")
        eff_ax.set_ylim(0, 1.05)
        eff_ax.set_xlabel("L1 rate [Hz]")
        eff_ax.set_ylabel("signal efficiency")
        eff_ax.legend(fontsize=12)
        for ax in (rate_ax, eff_ax):
            mplhep.label.exp_label(
                exp="anomalyscope", llabel="Simulation", rlabel="L1, 40 MHz", fontsize=15, ax=ax, loc=0
            )
        paths += _save(fig, out, f"trigger_{name}")
        plt.close(fig)
    return paths


def plot_run(run, out: Path, methods: list[str] | None = None) -> list[Path]:
    """Every plot the Run's content allows, into ``out`` (PDF and PNG each); returns the files written."""
    plt, mplhep = _pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    es = EventSet.open(run.input_path("eventset"))
    lumi = luminosity_fb(es)
    for m in methods or []:
        if m not in run.methods:
            raise InputError(f"{run.path}: no method '{m}'; the Run holds {', '.join(run.methods)}")
    written = []
    for m in methods or run.methods:
        try:
            written += spectrum(plt, mplhep, run, m, lumi, out)
        except AnalysisError:
            pass  # nothing fitted for this method: no plot, the others go on
        plt.close("all")
    for make in (performance, correlations, sensitivity, lund_ratio, trigger):
        written += make(plt, mplhep, run, lumi, out)
        plt.close("all")
    return written
