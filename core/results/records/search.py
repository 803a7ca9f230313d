"""A Run's search result (``search.json``: every selection's bump hunt and the global significance over all of
them) as a typed record (see ``records``); read by the Overview and Spectra views, ``run``/``search``'s
summary, ``plot``, ``export-model`` and the benchmark.

Masses are in GeV; Z in σ (local: at one mass in one selection; global: over everything searched, from
background-only pseudo-experiments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anomalyscope.core.bumphunt.significance import global_from_toys
from anomalyscope.core.results.records import Record


@dataclass(frozen=True)
class FitSummary(Record):
    """The background fit of one selection's m_jj spectrum (the dijet function of ``order`` parameters)."""

    order: int
    chi2: float
    ndf: int
    chi2_pvalue: float
    deviance: float
    params: list[float]
    n_bins: int


@dataclass(frozen=True)
class ScanSummary(Record):
    """One selection (method, cut ε, window; no window: the inclusive spectrum): its local scan, or the
    ``message`` saying why there is none (too few events to fit ...)."""

    method: str
    eff: float
    window: str | None
    message: str
    masses: list[float] | None = None
    z: list[float] | None = None
    p_local: list[float] | None = None
    mu_hat: list[float] | None = None  # fitted signal events at each mass
    mu_err: list[float] | None = None
    background: FitSummary | None = None

    def peak(self) -> tuple[float, float] | None:
        """(largest local Z, its mass), or None for a selection without a finite Z."""
        z = np.asarray(self.z if self.z is not None else [], dtype=float)
        if not len(z) or not np.isfinite(z).any():
            return None
        i = int(np.nanargmax(z))
        return float(z[i]), float(self.masses[i])


@dataclass(frozen=True)
class GlobalSummary(Record):
    observed_max_z: float
    p_global: float
    p_global_interval: list[float]
    z_global: float
    n_toys: int
    n_selections: int
    max_z_toys: list[float]  # the largest local Z of each background-only pseudo-experiment
    note: str

    def of(self, z_local: float) -> float:
        """The global significance a local Z would have over everything searched."""
        toys = np.asarray(self.max_z_toys, dtype=float)
        if not len(toys) or not np.isfinite(z_local):
            return float("nan")
        return float(global_from_toys(float(z_local), toys, self.n_selections).z_global)


@dataclass(frozen=True)
class Trials(Record):
    """What the look-elsewhere pseudo-experiments cover."""

    selections: int
    mass_hypotheses: int
    methods: list[str]
    efficiencies: list[float]
    windows: list[str]
    covers: str


@dataclass(frozen=True)
class Excess:
    """A method's largest local excess over its selections: local and global Z, mass, window and ε (no
    window: the inclusive spectrum); a method without any scan has only a ``message``."""

    z_local: float
    z_global: float = float("nan")
    mass: float | None = None
    window: str | None = None
    eff: float | None = None
    message: str | None = None

    @property
    def found(self) -> bool:
        return self.mass is not None


@dataclass(frozen=True)
class SearchSummary(Record):
    trials: Trials
    scans: list[ScanSummary]
    global_significance: GlobalSummary | None = field(metadata={"key": "global"})
    schema_version: int = 0

    def best_excesses(self) -> dict[str, Excess]:
        """Per method, its largest local excess and that excess's global significance. What the CLI prints,
        the Overview shows, the demo and the benchmark report."""
        out: dict[str, Excess] = {}
        for s in self.scans:
            peak = s.peak()
            if peak is None:
                out.setdefault(s.method, Excess(float("nan"), message=s.message))
                continue
            z, mass = peak
            if out.get(s.method, Excess(float("nan"))).z_local >= z:
                continue
            z_global = self.global_significance.of(z) if self.global_significance is not None else float("nan")
            out[s.method] = Excess(z, z_global, mass, s.window, s.eff)
        return out

    def best_window(self, method: str) -> str | None:
        """The window where ``method``'s largest local Z was found (None: no windowed scan)."""
        scans = [(p[0], s.window) for s in self.scans if s.method == method and s.window and (p := s.peak())]
        return max(scans)[1] if scans else None
