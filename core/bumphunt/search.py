"""The search: one definition of the bump hunt, used by the CLI, the Run, the dashboard and the
injection scan (no second copy of its choices anywhere).

A ``SearchDefinition`` holds the choices: the analysis region (|Δη| < deta_max), the fit range (its
start found from the data unless given), the m_jj binning, the background-function family and its
F-test, the signal shape, the mass hypotheses, the m_jj windows and the cut efficiencies. ``resolve``
fixes what depends on the data (fit start, usable windows) into a ``Search``, which selects events per
window (``core.bumphunt.selection``: a threshold curve fitted outside the window's signal region for
global methods, the window's sideband quantile for windowed ones), fits every selected spectrum over the
whole fit range and reads the local significance at the masses inside the window's signal region (the
inclusive spectrum: across the whole range). The largest local Z over everything searched gets a
global significance from background-only pseudo-experiments (``lee``), and the result is the record a Run
stores (``result.SearchSummary``).

The fit start (where a threshold stops sculpting the spectrum) is decided in ``fit_start``, the look-elsewhere
pseudo-experiments are ``lee``, the bump hunt of one spectrum is ``single``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from anomalyscope.core.bumphunt import lee
from anomalyscope.core.bumphunt.fit import F_TEST_ALPHA, BackgroundFit, FitError, f_test
from anomalyscope.core.bumphunt.fit_start import find_fit_start, fit_edges, highest_tested
from anomalyscope.core.bumphunt.functions import ORDERS
from anomalyscope.core.bumphunt.histogram import Spectrum, mjj_spectrum
from anomalyscope.core.bumphunt.result import SEARCH_VERSION, ScanSummary, SearchSummary, Trials
from anomalyscope.core.bumphunt.selection import (
    INCLUSIVE,
    check_efficiencies,
    curve_threshold,
    outside_sr_coefficients,
    select,
    sideband_threshold,
)
from anomalyscope.core.bumphunt.signal import RESOLUTION, SignalModel
from anomalyscope.core.bumphunt.significance import (
    ScanResult,
    local_significance,
    scan_masses,
)
from anomalyscope.core.columns import view
from anomalyscope.core.bumphunt.windows import (
    MODES,
    Window,
    assign,
    coverage_gaps,
    gap_fillers,
    make_windows,
    usable_windows,
)
from anomalyscope.core.errors import FieldError, InputError
from anomalyscope.core.features.jets import Selection
from anomalyscope.core.params import build, param

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchDefinition:
    deta_max: float = param(Selection.deta_max, low=0, low_open=True)  # the preselection's analysis region
    fit_min: float | None = None  # GeV; None: found from the data (module text)
    fit_max: float = param(8000.0, low=0, low_open=True)
    binning: str | float = "cms"  # "cms" (resolution-following dijet bins) or a width in GeV
    orders: tuple[int, ...] = ORDERS  # dijet-function parameters tried by the F-test
    f_test_alpha: float = param(F_TEST_ALPHA, low=0, high=1, low_open=True, high_open=True)
    resolution: float = RESOLUTION  # σ/m of the Gaussian signal shape and of the sliding windows
    scan_points: int | None = param(15, low=2)  # mass hypotheses of a global method's scan (None: every inner bin)
    windows: str = "cms"  # cms | sliding | lhco
    binnings: tuple[str, ...] | str = ("A", "B")  # CMS staggered binnings searched (windows "cms")
    fill_gaps: bool = True  # add sliding windows where the CMS binnings leave masses untested (windows.py)
    min_window_events: int = param(100, low=1)
    efficiencies: tuple[float, ...] = (0.1, 0.01, 0.001)
    toys: int = 1000  # background-only pseudo-experiments of the look-elsewhere effect (beyond: the Gaussian tail)
    seed: int = 0

    def __post_init__(self):
        if self.fit_min is not None and not 0 < self.fit_min < self.fit_max:
            raise FieldError(
                f"fit_min must lie in (0, fit_max = {self.fit_max:g}), got {self.fit_min}",
                None,
                "fit_min",
                self.fit_min,
            )
        if self.windows not in MODES:
            raise FieldError(f"windows must be one of {MODES}, got '{self.windows}'", None, "windows", self.windows)
        if not set(self.orders) <= {3, 4, 5} or not self.orders:
            raise FieldError(
                f"orders must be among 3, 4, 5, got {list(self.orders)}", None, "orders", list(self.orders)
            )
        if self.toys < 10:
            raise FieldError(
                f"at least 10 toys are needed for a global significance, got {self.toys}", None, "toys", self.toys
            )
        if not 0 < self.resolution < 0.5:
            raise FieldError(
                f"resolution must lie in (0, 0.5), got {self.resolution}", None, "resolution", self.resolution
            )
        if self.binning != "cms" if isinstance(self.binning, str) else not self.binning > 0:
            raise FieldError(
                f"binning must be 'cms' or a bin width in GeV, got {self.binning!r}", None, "binning", self.binning
            )
        object.__setattr__(self, "efficiencies", tuple(float(e) for e in check_efficiencies(self.efficiencies)))
        object.__setattr__(
            self, "binnings", (self.binnings,) if isinstance(self.binnings, str) else tuple(self.binnings)
        )
        object.__setattr__(self, "orders", tuple(sorted(int(o) for o in self.orders)))

    @classmethod
    def from_dict(cls, d: dict | None, where: str = "search") -> SearchDefinition:
        """The search from what a user wrote: every name, type and range checked (one-line FieldError)."""
        return build(cls, d, where, what="field")

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @property
    def signal(self) -> SignalModel:
        return SignalModel.gaussian(self.resolution)

    def resolve(
        self, mjj: np.ndarray, deta: np.ndarray, floor: float = 0.0, where: str = "data", known: str | None = None
    ) -> Search:
        """Fix the fit start and the usable windows for a dataset (m_jj, |Δη| of every event; ``floor``
        the EventSet's fully-efficient edge, ``known`` how that edge is known when it comes from a known
        threshold — then the fit starts at the first bin above it, decided before looking at the spectrum;
        else the start is found from the data above the floor)."""
        mjj, deta = np.asarray(mjj, dtype=float), np.asarray(deta, dtype=float)
        region = deta < self.deta_max
        if self.fit_min is not None:
            fit_min, how = float(self.fit_min), "set by the user"
            efficient_from = fit_min
        elif known:
            fit_min = float(fit_edges(floor, self.fit_max, self.binning)[0])
            how = f"from the known threshold: fully efficient above {floor:.0f} GeV ({known}); the first bin there"
            efficient_from = floor
        else:
            fit_min, how = find_fit_start(mjj[region], floor, self.fit_max, self.binning, self.signal)
            # no sculpting found above the EventSet's own edge: the fit starts at the first whole bin, and a
            # window's sideband may begin between that edge and the bin
            efficient_from = floor if fit_min == fit_edges(floor, self.fit_max, self.binning)[0] else fit_min
        in_range = region & (mjj >= fit_min) & (mjj < self.fit_max)
        windows = make_windows(self.windows, efficient_from, self.binnings, self.fit_max, self.resolution)
        top = highest_tested(mjj[in_range], self.fit_max, self.min_window_events)
        if self.fill_gaps and self.windows == "cms":
            usable, _ = usable_windows(windows, mjj[in_range], self.min_window_events)
            windows += gap_fillers(usable, fit_min, top, efficient_from, self.resolution)
        kept, warns = usable_windows(windows, mjj[in_range], self.min_window_events)
        if not windows:
            warns.append(
                f"no {self.windows} m_jj window lies inside the fit range {fit_min:.0f}–{self.fit_max:.0f} GeV"
            )
        search = Search(self, fit_min, how, kept, warns)
        untested = search.untested(top)
        if untested:
            warns.append(
                "masses tested by no windowed method (no signal region there with both sidebands in range and "
                f"{self.min_window_events}+ events): " + ", ".join(f"{a:.0f}–{b:.0f} GeV" for a, b in untested)
            )
        return search


# ---------------------------------------------------------------------- scores
@dataclass
class ScoreTable:
    """What the search needs per event: m_jj, |Δη|, each method's score and, for windowed methods,
    each window's score of every event; the global methods' threshold curves per window, once made."""

    mjj: np.ndarray
    deta: np.ndarray
    scores: dict  # method -> per-event score
    window_scores: dict = field(default_factory=dict)  # windowed method -> {window name -> score}
    curves: dict = field(default_factory=dict)  # global method -> {window -> {ε -> coefficients or None}}

    @property
    def methods(self) -> list[str]:
        return list(self.scores)

    def windowed(self, method: str) -> bool:
        return method in self.window_scores

    @classmethod
    def from_run(cls, run, scores: dict | None = None) -> ScoreTable:
        s = run.scores() if scores is None else scores
        window_scores = {}
        for m in run.windowed_methods:  # a Run's scores stay unread until a method is searched or drawn
            window_scores[m] = view(s, {c.split("|", 1)[1]: c for c in s if c.startswith(f"{m}|")})
        curves = {
            m: {w: {float(e): c for e, c in by_eff.items()} for w, by_eff in by_win.items()}
            for m, by_win in (run.selection_curves() or {}).items()
        }
        return cls(s["mjj"], s["deta"], view(s, {m: m for m in run.methods}), window_scores, curves)


@dataclass
class Cut:
    """A method's cut at efficiency ``eff`` in a window (None: the inclusive spectrum, or a global method's
    cut): the analysis-region events it keeps (``mask``) and the masses its scan tests. Not the preselection
    (``features.jets.Selection``), which decides which events are stored at all."""

    method: str
    eff: float
    window: Window | None
    mask: np.ndarray
    masses: np.ndarray


@dataclass
class _Fitted:
    """One selection's spectrum over the whole fit range, its F-test fit and its local scan, as computed (the
    look-elsewhere toys refit with its fit); what is kept of it is its ``ScanSummary``."""

    method: str
    eff: float
    window: Window | None
    spectrum: Spectrum
    fit: BackgroundFit | None
    scan: ScanResult | None
    message: str
    sideband: tuple[float, float] | None = None  # (largest local Z, its mass) inside the window's sidebands

    @property
    def max_z(self) -> float:
        return (
            self.scan.max_z if self.scan is not None and len(self.scan.z) and np.isfinite(self.scan.z).any() else np.nan
        )

    def record(self, every_bin: ScanResult | None = None) -> ScanSummary:
        """The selection as stored: its scan, and what the views draw so that they never refit (the spectrum, its
        fitted background, for the inclusive selection ``every_bin``: the local Z at every inner bin centre)."""
        sc, side = self.scan, self.sideband or (None, None)
        return ScanSummary(
            self.method,
            self.eff,
            self.window.name if self.window else None,
            self.message,
            masses=None if sc is None else sc.masses.tolist(),
            z=None if sc is None else sc.z.tolist(),
            p_local=None if sc is None else sc.p_local.tolist(),
            mu_hat=None if sc is None else sc.mu_hat.tolist(),
            mu_err=None if sc is None else sc.mu_err.tolist(),
            background=None if sc is None else sc.background.summary(),
            sideband_max_z=side[0],
            sideband_mass=side[1],
            edges=self.spectrum.edges.tolist(),
            counts=self.spectrum.counts.tolist(),
            expected=self.fit.expected.tolist() if self.fit is not None else None,
            every_bin_masses=None if every_bin is None else every_bin.masses.tolist(),
            every_bin_z=None if every_bin is None else every_bin.z.tolist(),
        )


@dataclass
class Search:
    definition: SearchDefinition
    fit_min: float
    fit_min_how: str
    windows: list[Window]
    warnings: list[str]

    # ------------------------------------------------------------------ the pieces
    def in_region(self, mjj: np.ndarray, deta: np.ndarray) -> np.ndarray:
        """The analysis region inside the fit range: every event the search may select."""
        d = self.definition
        return (np.asarray(deta) < d.deta_max) & (np.asarray(mjj) >= self.fit_min) & (np.asarray(mjj) < d.fit_max)

    def spectrum(self, mjj: np.ndarray) -> Spectrum:
        return mjj_spectrum(mjj, self.fit_min, self.definition.fit_max, self.definition.binning)

    def masses(self, spec: Spectrum, window: Window | None = None) -> np.ndarray:
        """Mass hypotheses: inner bin centres of the fit range (a global method, thinned to scan_points)
        or the bin centres inside a window's signal region."""
        if window is None:
            return scan_masses(spec, self.definition.scan_points)
        c = _inner_centres(spec)
        return c[window.in_sr(c)]

    def inclusive_z_at(self, table: ScoreTable, mass: float) -> float:
        """The inclusive search's local Z at exactly ``mass`` (a stored scan is thinned to ``scan_points``)."""
        sel = Cut(INCLUSIVE, 1.0, None, self.in_region(table.mjj, table.deta), np.array([float(mass)]))
        scan = self._fit(sel, table.mjj).scan
        return float(scan.z[0]) if scan is not None and len(scan.z) else np.nan

    def untested(self, top: float | None = None) -> list[tuple[float, float]]:
        """The masses of the fit range (up to ``top``) that no windowed method tests: in no signal region of a
        searched window with both sidebands (a global method and the inclusive search test them)."""
        return coverage_gaps(self.windows, self.fit_min, self.definition.fit_max if top is None else top)

    def window(self, name: str) -> Window:
        for w in self.windows:
            if w.name == name:
                return w
        raise InputError(f"search: no window '{name}' (have {[w.name for w in self.windows]})")

    # ------------------------------------------------------------------ selections
    def curve(self, table: ScoreTable, method: str, window: Window, eff: float):
        """A global method's threshold curve for a window: the (1 − ε) score quantile against m_jj from
        the analysis-region events of the fit range outside the window's signal region (made once)."""
        by_eff = table.curves.setdefault(method, {}).setdefault(window.name, {})
        if eff not in by_eff:
            region = self.in_region(table.mjj, table.deta)
            score = np.where(region, table.scores[method], np.nan)
            by_eff[eff] = outside_sr_coefficients(table.mjj, score, window.in_sr(table.mjj), eff)
        return by_eff[eff]

    def selection_curves(self, table: ScoreTable, method: str) -> dict:
        """Every threshold curve of a global method, window → {ε → coefficients}, for the Run to keep."""
        return {
            w.name: {e: _as_list(self.curve(table, method, w, e)) for e in self.definition.efficiencies if e < 1}
            for w in self.windows
        }

    def window_threshold(self, table: ScoreTable, method: str, window: Window, eff: float) -> float:
        """A windowed method's threshold: its sidebands' score quantile, low and high weighted equally."""
        region = table.deta < self.definition.deta_max
        s = table.window_scores[method][window.name]
        return sideband_threshold(s, region & window.in_sb_low(table.mjj), region & window.in_sb_high(table.mjj), eff)

    def selected(self, table: ScoreTable, method: str, eff: float, window: Window | None = None) -> np.ndarray:
        """The events a method selects at efficiency ε for a window's mass hypotheses, over the whole
        fit range: a windowed method with that window's models and sideband threshold, a global method
        with the threshold curve fitted outside the window's signal region."""
        region = self.in_region(table.mjj, table.deta)
        if eff >= 1.0 or method == INCLUSIVE:
            return region
        if window is None:
            raise InputError(f"search: a cut of {method} is made for a window; say which")
        if table.windowed(method):
            s = table.window_scores[method].get(window.name)
            if s is None:
                return np.zeros(len(region), dtype=bool)
            return region & select(s, self.window_threshold(table, method, window, eff))
        thr = curve_threshold(table.mjj, self.curve(table, method, window, eff))
        return region & select(table.scores[method], thr)

    def event_selection(self, table: ScoreTable, method: str, eff: float) -> np.ndarray:
        """One selection per event, for views of the selected events: each event passes or fails with its
        own window (``windows.assign``: the first binning that has one there); outside every window, never."""
        if eff >= 1.0 or method == INCLUSIVE:
            return self.in_region(table.mjj, table.deta)
        wins = self.windows_of(table, method)
        own = assign(wins, table.mjj)
        out = np.zeros(len(table.mjj), dtype=bool)
        for i, w in enumerate(wins):
            out |= (own == i) & self.selected(table, method, eff, w)
        return out

    def windows_of(self, table: ScoreTable, method: str) -> list[Window]:
        """The windows a method is searched in (a windowed method: those it could train)."""
        if table.windowed(method):
            return [w for w in self.windows if w.name in table.window_scores[method]]
        return list(self.windows)

    def selections(self, table: ScoreTable, methods=None, efficiencies=None) -> list[Cut]:
        """Everything the search looks at: the inclusive spectrum once (masses over the whole fit range),
        then each method at each ε < 1 in each window (masses inside its signal region)."""
        effs = self.definition.efficiencies if efficiencies is None else efficiencies
        region = self.in_region(table.mjj, table.deta)
        base = self.spectrum(table.mjj[region])
        out = [Cut(INCLUSIVE, 1.0, None, region, self.masses(base))]
        for m in methods or table.methods:
            if m == INCLUSIVE:
                continue
            for e in effs:
                if e >= 1.0:
                    continue
                for w in self.windows_of(table, m):
                    out.append(Cut(m, e, w, self.selected(table, m, e, w), self.masses(base, w)))
        return out

    # ------------------------------------------------------------------ fits
    def fit(self, spec: Spectrum):
        """The F-test choice of the dijet function for a spectrum."""
        return f_test(spec, self.definition.orders, self.definition.f_test_alpha)

    def scan(self, sel: Cut, mjj: np.ndarray, sideband: bool = False) -> ScanSummary:
        """Fit and scan one selection, as the search stores it; ``sideband``: also the largest Z inside its
        window's sidebands (for a windowed method, whose classifier learns the sidebands as background)."""
        return self._fit(sel, mjj, sideband).record()

    def _fit(self, sel: Cut, mjj: np.ndarray, sideband: bool = False) -> _Fitted:
        spec = self.spectrum(mjj[sel.mask])
        try:
            ft = self.fit(spec)
            scan = local_significance(spec, ft.chosen, self.definition.signal, sel.masses)
            msg = f"{ft.chosen.order}-par fit χ²/ndf = {ft.chosen.chi2:.1f}/{ft.chosen.ndf}"
            side = self.sideband_excess(spec, ft.chosen, sel.window) if sideband and sel.window is not None else None
            return _Fitted(sel.method, sel.eff, sel.window, spec, ft.chosen, scan, msg, side)
        except FitError as exc:
            return _Fitted(sel.method, sel.eff, sel.window, spec, None, None, str(exc))

    def sideband_excess(self, spec: Spectrum, fit: BackgroundFit, window: Window) -> tuple[float, float] | None:
        """The largest local Z of a selection inside its window's sidebands (same fit, same signal shape): a
        signal there is learned as background by a windowed method; CMS's staggered binnings are meant to catch
        it in another window. Not part of the search's trials: a diagnostic (``SIDEBAND_Z``)."""
        c = _inner_centres(spec)
        masses = c[window.in_sb(c)]
        if not len(masses):
            return None
        scan = local_significance(spec, fit, self.definition.signal, masses)
        if not np.isfinite(scan.z).any():
            return None
        k = int(np.nanargmax(scan.z))
        return float(scan.z[k]), float(masses[k])

    def run(self, table: ScoreTable, methods=None, toys: int | None = None, progress: bool = False) -> SearchSummary:
        """Scan every selection; the global significance of the largest local excess (``lee``). The result is the
        record a Run stores (``search.json``)."""
        from tqdm.auto import tqdm

        sels = self.selections(table, methods)
        log.info("search: %d selections, %d mass hypotheses", len(sels), sum(len(s.masses) for s in sels))
        fitted = [
            self._fit(s, table.mjj, sideband=table.windowed(s.method))
            for s in tqdm(sels, desc="search", disable=not progress, leave=False)
        ]
        glob = lee.global_significance(self, table, sels, fitted, toys or self.definition.toys)
        incl, every_bin = fitted[0], None
        if incl.fit is not None:  # the inclusive Z at any bin centre, for the views (the trials' scan is thinned)
            every_bin = local_significance(
                incl.spectrum, incl.fit, self.definition.signal, _inner_centres(incl.spectrum)
            )
        top = highest_tested(table.mjj[sels[0].mask], self.definition.fit_max, self.definition.min_window_events)
        trials = Trials(
            selections=len(sels),
            fitted=sum(1 for s, f in zip(sels, fitted) if f.fit is not None and len(s.masses)),
            mass_hypotheses=int(sum(len(s.masses) for s in sels)),
            methods=sorted({s.method for s in sels}),
            efficiencies=[e for e in self.definition.efficiencies if e < 1],
            windows=[w.name for w in self.windows],
            covers="every method × cut × window (both binnings) × mass hypothesis above, and the inclusive spectrum",
            untested=[list(g) for g in self.untested(top)],
        )
        scans = [incl.record(every_bin)] + [f.record() for f in fitted[1:]]
        return SearchSummary(trials, scans, glob, schema_version=SEARCH_VERSION)


def _inner_centres(spec: Spectrum) -> np.ndarray:
    """The bin centres a resonance can be tested at: all but the fit range's first and last bin."""
    c = spec.centers
    return c[(c > spec.edges[1]) & (c < spec.edges[-2])]


def _as_list(c):
    return None if c is None else [float(x) for x in c]
