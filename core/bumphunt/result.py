"""The search's result, one type from the search to the file: ``Search.run`` builds it, a Run stores it as
``search.json`` (every selection's bump hunt and the global significance over all of them), and the Overview and
Spectra views, ``run``/``search``'s summary, ``plot``, ``export-model`` and the benchmark read it back (typed
records, ``core.records``).

Masses are in GeV; Z in σ (local: at one mass in one selection; global: over everything searched, from
background-only pseudo-experiments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anomalyscope.core.bumphunt.fit import FitSummary, pulls
from anomalyscope.core.bumphunt.histogram import Spectrum
from anomalyscope.core.bumphunt.selection import INCLUSIVE
from anomalyscope.core.bumphunt.significance import GlobalSignificance
from anomalyscope.core.records import Record

SIDEBAND_Z = 3.0  # a sideband excess of a selection at least this large is flagged
SEARCH_VERSION = 2  # the search.json version this anomalyscope writes (and the newest it reads)
SPECTRA_SINCE = 2  # the search.json version from which every selection's spectrum and fit are stored


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
    sideband_max_z: float | None = None  # the largest local Z inside the window's sidebands (a diagnostic)
    sideband_mass: float | None = None
    # what the views draw (version ≥ SPECTRA_SINCE): the selected m_jj spectrum over the fit range, its fitted
    # background per bin (None: no fit) and, for the inclusive selection, the local Z at every inner bin centre
    edges: list[float] | None = None
    counts: list[float] | None = None
    expected: list[float] | None = None
    every_bin_masses: list[float] | None = None
    every_bin_z: list[float] | None = None

    @property
    def label(self) -> str:
        return "no cut" if self.eff >= 1 else f"ε = {self.eff:g}"

    def spectrum(self) -> Spectrum:
        return Spectrum(np.asarray(self.counts, dtype=float), np.asarray(self.edges, dtype=float))

    def pulls(self) -> np.ndarray | None:
        return None if self.expected is None else pulls(self.counts, self.expected)

    def z_at(self, mass: float) -> float:
        """The local Z at the scanned mass nearest ``mass`` (every bin centre for the inclusive selection)."""
        m, z = (self.every_bin_masses, self.every_bin_z) if self.every_bin_z is not None else (self.masses, self.z)
        if not m:
            return float("nan")
        return float(z[int(np.argmin(np.abs(np.asarray(m) - mass)))])

    def peak(self) -> tuple[float, float] | None:
        """(largest local Z, its mass), or None for a selection without a finite Z."""
        z = np.asarray(self.z if self.z is not None else [], dtype=float)
        if not len(z) or not np.isfinite(z).any():
            return None
        i = int(np.nanargmax(z))
        return float(z[i]), float(self.masses[i])


@dataclass(frozen=True)
class Trials(Record):
    """What the look-elsewhere pseudo-experiments cover."""

    selections: int
    mass_hypotheses: int
    methods: list[str]
    efficiencies: list[float]
    windows: list[str]
    covers: str
    fitted: int | None = None  # selections with a fit and mass hypotheses: those the toys cover
    untested: list[list[float]] | None = None  # [lo, hi] GeV: masses no windowed method tests (windows.py)

    def text(self) -> str:
        """One count of what was searched, the same wherever it is shown."""
        fitted = f" ({self.fitted} fitted, in the toys)" if self.fitted is not None else ""
        return f"{self.selections} selections{fitted}, {self.mass_hypotheses} mass hypotheses"


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
    significance: GlobalSignificance | None = None  # its global significance, as the toys (and tail) give it

    @property
    def found(self) -> bool:
        return self.mass is not None

    @property
    def global_text(self) -> str:
        """The global significance as it may be quoted ('global > 4.2σ (…)' where a bound); '' without toys."""
        return self.significance.text() if self.significance is not None else ""

    @property
    def global_short(self) -> str:
        """'global 3.1σ', or 'global > 4.2σ' where the answer is a bound."""
        return self.significance.short() if self.significance is not None else f"global {self.z_global:.1f}σ"

    def to_dict(self) -> dict:
        """The excess as a report stores it (the global significance as quoted, not the toys behind it)."""
        keep = ("z_local", "z_global", "mass", "window", "eff", "message")
        return {**{k: getattr(self, k) for k in keep}, "global_text": self.global_text}


@dataclass(frozen=True)
class SearchSummary(Record):
    trials: Trials
    scans: list[ScanSummary]
    global_significance: GlobalSignificance | None = field(metadata={"key": "global"})
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
            g = self.global_significance.at(z) if self.global_significance is not None else None
            z_global = g.z_global if g is not None else float("nan")
            out[s.method] = Excess(z, z_global, mass, s.window, s.eff, significance=g)
        return out

    def untested_text(self) -> str | None:
        """'Masses 2775–3102 GeV are tested by no windowed method …', or None when every mass is."""
        gaps = self.trials.untested or []
        if not gaps:
            return None
        where = ", ".join(f"{a:.0f}–{b:.0f} GeV" for a, b in gaps)
        return f"masses {where} are tested by no windowed method (only by the inclusive search and global methods)"

    def sideband_flags(self) -> list[str]:
        """One line per windowed method and window whose sideband holds a significant excess of its selected events
        (a signal there is learned as background by that window's classifier), the largest over the cuts."""
        worst: dict[tuple[str, str], ScanSummary] = {}
        for s in self.scans:
            if s.window and s.sideband_max_z is not None and s.sideband_max_z >= SIDEBAND_Z:
                key = (s.method, s.window)
                if key not in worst or s.sideband_max_z > worst[key].sideband_max_z:
                    worst[key] = s
        return [
            f"{m}: window {w}'s sideband holds a {s.sideband_max_z:.1f}σ local excess of the selected events at "
            f"{s.sideband_mass:.0f} GeV (ε = {s.eff:g}): a signal there is trained as background in {w}; look at "
            "the window whose signal region holds it"
            for (m, w), s in worst.items()
        ]

    def selection(self, method: str, eff: float, window: str | None) -> ScanSummary | None:
        """The stored scan of one selection (the inclusive spectrum: ``"inclusive", 1.0, None``)."""
        for s in self.scans:
            if s.method == method and s.window == window and abs(s.eff - eff) < 1e-12:
                return s
        return None

    def spectra(self, method: str, efficiencies, window: str | None) -> list[ScanSummary]:
        """One method's stored selections in one window, as the views draw them: no cut (the inclusive spectrum,
        scanned across the fit range), then each ε < 1 in the window (scanned inside its signal region)."""
        out = []
        for eff in efficiencies:
            if eff >= 1.0:
                s = self.selection(INCLUSIVE, 1.0, None)
            elif window is None or method == INCLUSIVE:
                continue
            else:
                s = self.selection(method, eff, window)
            if s is not None:
                out.append(s)
        return out

    def best_window(self, method: str) -> str | None:
        """The window where ``method``'s largest local Z was found (None: no windowed scan)."""
        scans = [(p[0], s.window) for s in self.scans if s.method == method and s.window and (p := s.peak())]
        return max(scans)[1] if scans else None
