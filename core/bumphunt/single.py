"""The bump hunt of one spectrum (F-test fit, local scan, the CLs limit at the largest excess), and the search of an
EventSet's inclusive spectrum: what ``anomalyscope bumphunt`` and the notebooks run on a histogram."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomalyscope.core.bumphunt.fit import BackgroundFit, f_test
from anomalyscope.core.bumphunt.histogram import Spectrum
from anomalyscope.core.bumphunt.search import Search, SearchDefinition
from anomalyscope.core.bumphunt.signal import SignalModel
from anomalyscope.core.bumphunt.significance import ScanResult, local_significance
from anomalyscope.core.errors import InputError


def search_of_eventset(es, definition: SearchDefinition | None = None) -> Search:
    """The search definition resolved on an EventSet's events (fit start, windows)."""
    d = definition or SearchDefinition()
    search = d.resolve(es.column("mjj"), es.column("deta"), es.mjj_fit_min, str(es.path), es.threshold_known)
    if es.edge_caveat and d.fit_min is None:
        search.warnings.append(es.edge_caveat)
    return search


def signal_model_from_eventsets(signals: list, kind: str = "dscb", deta_max: float = SearchDefinition.deta_max):
    """Fit each signal sample's m_jj at its generated resonance mass (``mA`` in its schema)."""
    from anomalyscope.core.bumphunt.signal import fit_signal_shape

    shapes = []
    for es in signals:
        masses = [es.info.process_params(p).get("mA") for p in es.info.processes or {}]
        if len(masses) != 1 or masses[0] is None:
            raise InputError(f"{es.path}: not a single-process signal sample with a resonance mass mA")
        sel = es.column("deta") < deta_max
        shapes.append(fit_signal_shape(es.column("mjj")[sel], float(masses[0]), kind))
    return SignalModel(shapes)


@dataclass
class BumpHunt:
    spectrum: Spectrum
    ftest: object
    scan: ScanResult
    limit_at_best: object | None

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


def bump_hunt(spec: Spectrum, signal: SignalModel | None = None, with_limit: bool = True, search: Search | None = None):
    """F-test fit, local scan and the CLs limit at the largest excess of one spectrum."""
    from anomalyscope.core.bumphunt.likelihood import DijetBackground, ProfileLikelihood
    from anomalyscope.core.bumphunt.limits import cls_limit

    signal = signal or (search.definition.signal if search else SignalModel.gaussian())
    ft = search.fit(spec) if search else f_test(spec)
    masses = search.masses(spec) if search else None
    scan = local_significance(spec, ft.chosen, signal, masses)
    limit = None
    if with_limit and np.any(np.isfinite(scan.z)):
        template = signal.at(scan.best_mass).bin_fractions(spec.edges)
        limit = cls_limit(ProfileLikelihood(spec.counts, template, DijetBackground(ft.chosen)))
    return BumpHunt(spec, ft, scan, limit)
