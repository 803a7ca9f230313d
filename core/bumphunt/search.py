"""The bump hunt on an EventSet: spectrum from the fully-efficient edge, F-test fit, scan, limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.bumphunt.fit import BackgroundFit, FTestResult, f_test
from core.bumphunt.histogram import Spectrum, mjj_spectrum
from core.bumphunt.likelihood import DijetBackground, ProfileLikelihood
from core.bumphunt.limits import CLsLimit, cls_limit
from core.bumphunt.signal import SignalModel, fit_signal_shape
from core.bumphunt.significance import ScanResult, local_significance
from core.data import EventSet
from core.errors import InputError

MJJ_MAX = 8000.0


def eventset_spectrum(
    es: EventSet,
    mask: np.ndarray | None = None,
    binning: str | float = "cms",
    deta_max: float | None = None,
    hi: float = MJJ_MAX,
) -> Spectrum:
    """m_jj of the selected events with |Δη| < deta_max, from the EventSet's fully-efficient edge."""
    mjj, deta = es.column("mjj"), es.column("deta")
    deta_max = es.schema.get("selection", {}).get("deta_max", 1.3) if deta_max is None else deta_max
    keep = deta < deta_max
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if len(mask) != len(mjj):
            raise InputError(f"{es.path}: selection mask has {len(mask)} entries for {len(mjj)} events")
        keep &= mask
    return mjj_spectrum(mjj[keep], es.mjj_fit_min, hi, binning)


def signal_model_from_eventsets(signals: list[EventSet], kind: str = "dscb", deta_max: float = 1.3) -> SignalModel:
    """Fit each signal sample's m_jj at its generated resonance mass (``mA`` in its schema)."""
    shapes = []
    for es in signals:
        procs = es.schema.get("processes", {})
        masses = [p.get("params", {}).get("mA") for p in procs.values()]
        if len(masses) != 1 or masses[0] is None:
            raise InputError(f"{es.path}: not a single-process signal sample with a resonance mass mA")
        sel = es.column("deta") < deta_max
        shapes.append(fit_signal_shape(es.column("mjj")[sel], float(masses[0]), kind))
    return SignalModel(shapes)


@dataclass
class BumpHunt:
    spectrum: Spectrum
    ftest: FTestResult
    scan: ScanResult
    limit_at_best: CLsLimit | None

    @property
    def background(self) -> BackgroundFit:
        return self.ftest.chosen

    def report(self) -> str:
        b, sp = self.background, self.spectrum
        lines = [
            f"spectrum: {len(sp.counts)} bins, {sp.edges[0]:.0f}–{sp.edges[-1]:.0f} GeV, {sp.total:.0f} events",
            "F-test: "
            + "; ".join(f"{lo}→{hi} par: F = {f:.2f}, p = {p:.3f}" for lo, hi, f, p in self.ftest.tests)
            + f" → {b.order} parameters",
            f"background fit: χ²/ndf = {b.chi2:.1f}/{b.ndf} (p = {b.chi2_pvalue:.3f})",
            f"largest local excess: Z = {self.scan.max_z:.2f} at m = {self.scan.best_mass:.0f} GeV",
        ]
        if self.limit_at_best is not None:
            e = self.limit_at_best.expected
            lines.append(
                f"95% CL limit there: {self.limit_at_best.observed:.1f} signal events "
                f"(expected {e[0]:.1f}, 68% band {e[-1]:.1f}–{e[1]:.1f})"
            )
        return "\n".join(lines)


def bump_hunt(spec: Spectrum, signal: SignalModel | None = None, with_limit: bool = True) -> BumpHunt:
    signal = signal or SignalModel.gaussian()
    ft = f_test(spec)
    scan = local_significance(spec, ft.chosen, signal)
    limit = None
    if with_limit and np.any(np.isfinite(scan.z)):
        template = signal.at(scan.best_mass).bin_fractions(spec.edges)
        limit = cls_limit(ProfileLikelihood(spec.counts, template, DijetBackground(ft.chosen)))
    return BumpHunt(spec, ft, scan, limit)
