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
global significance from background-only pseudo-experiments (``Search.global_significance``).

Fit start. Where the threshold is known — a generated EventSet records where its generator thresholds
are fully efficient (≤ 1% loss, measured with a calibration sample), a user states a trigger's with
``fit_min`` — the fit starts at the first bin there, decided before the spectrum is looked at. Where it is
not known (a file read from elsewhere), it is found from the data: the spectrum of a sample with a jet-pT
threshold rises to a peak and then falls; near the peak it is sculpted by the threshold (it falls short
of the smooth dijet shape). Starting at the first dijet bin above the top of the turn-on (the first bin
after which dN/dm falls; the first bin when it falls from there), a bin is the fit start when a
3-parameter fit from two bins higher (stiff enough to extrapolate), extrapolated down, predicts the counts
of it and of the next bin within 2% (or twice their statistical and extrapolation uncertainty, if larger);
else the start moves up one bin, at most 8 bins (then the first bin above the peak is taken). A resonance
above the turn-on would bend that fit from above and push the start over itself (measured: a 2.7 TeV
resonance moved a 2.2–2.3 TeV start to 2.55–2.66 TeV and out of the scan), so a local excess above 3σ in
the widest of those fits (a Gaussian of the search's resolution) is taken out of the counts first; a
threshold's sculpting is a deficit, never an excess. Tested: such a resonance moves the start by at most
one bin and stays scanned. Never below the EventSet's own fully-efficient edge; ``fit_min`` overrides.
"""

from __future__ import annotations

import logging
import warnings as _warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from anomalyscope.core.bumphunt.fastfit import signed_z
from anomalyscope.core.bumphunt.fit import BackgroundFit, FitError, f_test, fit_background
from anomalyscope.core.bumphunt.histogram import CMS_DIJET_EDGES, Spectrum, mjj_spectrum
from anomalyscope.core.bumphunt.selection import (
    check_efficiencies,
    curve_threshold,
    outside_sr_coefficients,
    select,
    sideband_threshold,
)
from anomalyscope.core.bumphunt.signal import SignalModel
from anomalyscope.core.bumphunt.significance import (
    GlobalSignificance,
    ScanResult,
    global_from_toy_scans,
    local_significance,
    scan_masses,
)
from anomalyscope.core.bumphunt.windows import (
    MODES,
    Window,
    assign,
    coverage_gaps,
    gap_fillers,
    make_windows,
    usable_windows,
)
from anomalyscope.core.errors import InputError
from anomalyscope.core.params import build, param

log = logging.getLogger(__name__)
FIT_START_TOLERANCE = 0.02  # a bin may fall short of the fit from above by 2% (or 2σ of its count)
FIT_START_MAX_STEPS = 8
RESONANCE_Z = 3.0  # a local excess the fit start's fits from above take out first (``without_resonance``)


@dataclass(frozen=True)
class SearchDefinition:
    deta_max: float = param(1.3, low=0, low_open=True)
    fit_min: float | None = None  # GeV; None: found from the data (module text)
    fit_max: float = param(8000.0, low=0, low_open=True)
    binning: str | float = "cms"  # "cms" (resolution-following dijet bins) or a width in GeV
    orders: tuple[int, ...] = (3, 4, 5)  # dijet-function parameters tried by the F-test
    f_test_alpha: float = param(0.05, low=0, high=1, low_open=True, high_open=True)
    resolution: float = 0.05  # σ/m of the Gaussian signal shape and of the sliding windows
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
            raise InputError(f"fit_min must lie in (0, fit_max = {self.fit_max:g}), got {self.fit_min}")
        if self.windows not in MODES:
            raise InputError(f"windows must be one of {MODES}, got '{self.windows}'")
        if not set(self.orders) <= {3, 4, 5} or not self.orders:
            raise InputError(f"orders must be among 3, 4, 5, got {list(self.orders)}")
        if self.toys < 10:
            raise InputError(f"at least 10 toys are needed for a global significance, got {self.toys}")
        if not 0 < self.resolution < 0.5:
            raise InputError(f"resolution must lie in (0, 0.5), got {self.resolution}")
        if self.binning != "cms" if isinstance(self.binning, str) else not self.binning > 0:
            raise InputError(f"binning must be 'cms' or a bin width in GeV, got {self.binning!r}")
        object.__setattr__(self, "efficiencies", tuple(float(e) for e in check_efficiencies(self.efficiencies)))
        object.__setattr__(
            self, "binnings", (self.binnings,) if isinstance(self.binnings, str) else tuple(self.binnings)
        )
        object.__setattr__(self, "orders", tuple(sorted(int(o) for o in self.orders)))

    @classmethod
    def from_dict(cls, d: dict | None, where: str = "search") -> SearchDefinition:
        """The search from what a user wrote: every name, type and range checked (one-line InputError)."""
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
            fit_min = float(_fit_edges(floor, self.fit_max, self.binning)[0])
            how = f"from the known threshold: fully efficient above {floor:.0f} GeV ({known}); the first bin there"
            efficient_from = floor
        else:
            fit_min, how = find_fit_start(mjj[region], floor, self.fit_max, self.binning, self.signal)
            # no sculpting found above the EventSet's own edge: the fit starts at the first whole bin, and a
            # window's sideband may begin between that edge and the bin
            efficient_from = floor if fit_min == _fit_edges(floor, self.fit_max, self.binning)[0] else fit_min
        in_range = region & (mjj >= fit_min) & (mjj < self.fit_max)
        windows = make_windows(self.windows, efficient_from, self.binnings, self.fit_max, self.resolution)
        top = _highest_tested(mjj[in_range], self.fit_max, self.min_window_events)
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


def _highest_tested(mjj: np.ndarray, fit_max: float, min_events: int) -> float:
    """The m_jj below which a window could hold enough events: above the min_events-th highest event no
    window can, and no mass there is reported as a gap (the spectrum has run out, not the windows)."""
    if len(mjj) < min_events:
        return float(np.min(mjj, initial=fit_max))
    return float(min(fit_max, np.sort(mjj)[-min_events]))


def find_fit_start(
    mjj: np.ndarray, floor: float, fit_max: float, binning="cms", signal: SignalModel | None = None
) -> tuple[float, str]:
    """The m_jj where the spectrum stops being sculpted (module text): (GeV, how it was found)."""
    signal = signal or SignalModel.gaussian(SearchDefinition.resolution)
    edges = _fit_edges(floor, fit_max, binning)
    if len(edges) < 6:
        raise InputError(f"search: no m_jj range between {floor:g} and {fit_max:g} GeV to fit")
    counts, _ = np.histogram(mjj, edges)
    if counts.sum() == 0:
        raise InputError(f"search: no event between {floor:g} and {fit_max:g} GeV")
    peak = turn_on_peak(counts / np.diff(edges))
    first = 0 if peak == 0 else peak + 1
    last = min(first + FIT_START_MAX_STEPS, len(edges) - 6)
    try:  # a resonance is looked for once, over the widest range the fits below use
        clean = without_resonance(counts, edges, first + 2, signal)
    except FitError:
        clean = counts.astype(float)
    for i in range(first, last + 1):
        try:
            above = fit_background(Spectrum(clean[i + 2 :], edges[i + 2 :]), 3)
        except FitError:
            continue
        nu, sigma = extrapolate(above, edges[i : i + 3])
        tol = np.maximum(FIT_START_TOLERANCE, 2.0 * np.sqrt(nu + sigma**2) / nu)
        if np.all(1.0 - clean[i : i + 2] / nu < tol):
            return float(edges[i]), (
                f"from the data: the first bin where the fit of the spectrum from two bins higher, extrapolated "
                f"down, predicts the counts within {100 * tol.max():.0f}% (peak of dN/dm at {edges[peak]:.0f} GeV)"
            )
    return float(edges[first]), (
        f"from the data: the first bin above the peak of dN/dm at {edges[peak]:.0f} GeV (no bin above it "
        "matched the extrapolated fit)"
    )


def without_resonance(counts: np.ndarray, edges: np.ndarray, j: int, signal: SignalModel) -> np.ndarray:
    """The counts with a resonance taken out, so that it cannot bend the fit from bin ``j`` up: where that
    fit leaves a local excess above RESONANCE_Z — a Gaussian of the search's resolution centred at a bin
    of the fit or at one of the two bins below it, whose upper tail reaches in — its fitted events are
    subtracted from every bin. Sculpting by a threshold leaves a deficit at the fit's lower end, never an
    excess, so only a resonance is taken out."""
    spec = Spectrum(counts[j:], edges[j:])
    fit = fit_background(spec, 3)
    masses = 0.5 * (edges[1:] + edges[:-1])[max(j - 2, 0) :]
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        z, mu, _ = (a[0] for a in signed_z(spec.counts[None], fit, signal.templates(masses, spec.edges), with_mu=True))
    if not np.isfinite(z).any() or np.nanmax(z) < RESONANCE_Z:
        return np.asarray(counts, dtype=float)
    k = int(np.nanargmax(z))
    return np.clip(counts - mu[k] * signal.templates(masses[k : k + 1], edges)[0], 0.0, None)


def _fit_edges(floor: float, fit_max: float, binning) -> np.ndarray:
    """The bin edges a fit may start from: those of the binning between the floor and the fit's end."""
    edges = CMS_DIJET_EDGES if binning == "cms" else np.arange(floor, fit_max + float(binning), float(binning))
    return edges[(edges >= floor - 1e-9) & (edges <= fit_max + 1e-9)]


def turn_on_peak(density: np.ndarray) -> int:
    """The first bin after which dN/dm falls (higher than each of the next two bins): the top of the
    turn-on, not a resonance further up that may be the global maximum of a small sample."""
    for i in range(len(density) - 2):
        if density[i] >= density[i + 1] and density[i] >= density[i + 2] and density[i] > 0:
            return i
    return int(np.argmax(density))


def deviance_pvalue(fit: BackgroundFit) -> float:
    """Goodness of fit from the Poisson deviance (≈ χ²(ndf)); unlike Pearson's χ² it is not inflated by
    the nearly empty bins of the high-mass tail."""
    from scipy import stats

    return float(stats.chi2.sf(fit.deviance, fit.ndf)) if fit.ndf > 0 else float("nan")


def extrapolate(fit: BackgroundFit, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A background fit's expected counts in other bins, and their uncertainty from the fit's
    covariance (linear propagation with a numerical Jacobian)."""
    from anomalyscope.core.bumphunt.functions import Quadrature, bin_integrals

    q = Quadrature(edges)
    theta = np.concatenate([[fit.total], fit.shape])

    def nu(t):
        return t[0] * bin_integrals(q, t[1:]) / bin_integrals(fit.quadrature, t[1:]).sum()

    base = nu(theta)
    steps = 1e-4 * np.maximum(np.abs(theta), 1e-3)
    jac = np.column_stack([(nu(theta + np.eye(len(theta))[k] * steps[k]) - base) / steps[k] for k in range(len(theta))])
    var = np.einsum("bk,kl,bl->b", jac, fit.covariance, jac)
    return base, np.sqrt(np.clip(var, 0.0, None))


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
    def from_run(cls, run) -> ScoreTable:
        s = run.scores()
        window_scores = {}
        for m in run.windowed_methods:
            window_scores[m] = {c.split("|", 1)[1]: s[c] for c in s if c.startswith(f"{m}|")}
        curves = {
            m: {w: {float(e): c for e, c in by_eff.items()} for w, by_eff in by_win.items()}
            for m, by_win in (run.selection_curves() or {}).items()
        }
        return cls(s["mjj"], s["deta"], {m: s[m] for m in run.methods}, window_scores, curves)


@dataclass
class Selection:
    method: str
    eff: float
    window: Window | None
    mask: np.ndarray
    masses: np.ndarray


@dataclass
class SelectionScan:
    """One selection's spectrum over the whole fit range, its F-test fit and its local scan."""

    method: str
    eff: float
    window: Window | None
    spectrum: Spectrum
    fit: BackgroundFit | None
    scan: ScanResult | None
    message: str
    sideband: tuple[float, float] | None = None  # (largest local Z, its mass) inside the window's sidebands
    every_bin: ScanResult | None = None  # the inclusive selection's local Z at every inner bin centre (views)

    @property
    def max_z(self) -> float:
        return (
            self.scan.max_z if self.scan is not None and len(self.scan.z) and np.isfinite(self.scan.z).any() else np.nan
        )

    def summary(self) -> dict:
        d = {"method": self.method, "eff": self.eff, "window": self.window.name if self.window else None}
        d["message"] = self.message
        if self.scan is not None:
            d.update(self.scan.to_dict())
        if self.sideband is not None:
            d["sideband_max_z"], d["sideband_mass"] = self.sideband
        # what the views draw, so that they never refit: the spectrum, its fitted background
        d["edges"], d["counts"] = self.spectrum.edges.tolist(), self.spectrum.counts.tolist()
        d["expected"] = self.fit.expected.tolist() if self.fit is not None else None
        if self.every_bin is not None:
            d["every_bin_masses"], d["every_bin_z"] = self.every_bin.masses.tolist(), self.every_bin.z.tolist()
        return d


@dataclass
class SearchResult:
    scans: list[SelectionScan]
    global_significance: GlobalSignificance | None
    trials: dict  # what the look-elsewhere toys cover

    def best(self, method: str | None = None) -> SelectionScan | None:
        cands = [s for s in self.scans if (method is None or s.method == method) and np.isfinite(s.max_z)]
        return max(cands, key=lambda s: s.max_z) if cands else None

    def to_dict(self) -> dict:
        g = self.global_significance
        return {
            "trials": self.trials,
            "global": None
            if g is None
            else {
                "observed_max_z": g.observed_max_z,
                "p_global": g.p_global,
                "p_global_interval": list(g.p_global_interval),
                "z_global": g.z_global,
                "n_toys": g.n_toys,
                "n_selections": g.n_selections,
                "max_z_toys": g.max_z_toys.tolist(),
                "note": g.note,
                "p_from": g.p_from,
                "n_eff": g.n_eff,
                "tail_levels": list(g.tail_levels),
                "tail_p": list(g.tail_p),
                "z_global_toys_95": g.z_global_toys_95,
            },
            "scans": [s.summary() for s in self.scans],
        }


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
        c = spec.centers
        inner = (c > spec.edges[1]) & (c < spec.edges[-2])
        return c[window.in_sr(c) & inner]

    def inclusive_z_at(self, table: ScoreTable, mass: float) -> float:
        """The inclusive search's local Z at exactly ``mass`` (a stored scan is thinned to ``scan_points``)."""
        sel = Selection("inclusive", 1.0, None, self.in_region(table.mjj, table.deta), np.array([float(mass)]))
        scan = self.scan(sel, table.mjj).scan
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
        if eff >= 1.0 or method == "inclusive":
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
        if eff >= 1.0 or method == "inclusive":
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

    def selections(self, table: ScoreTable, methods=None, efficiencies=None) -> list[Selection]:
        """Everything the search looks at: the inclusive spectrum once (masses over the whole fit range),
        then each method at each ε < 1 in each window (masses inside its signal region)."""
        effs = self.definition.efficiencies if efficiencies is None else efficiencies
        region = self.in_region(table.mjj, table.deta)
        base = self.spectrum(table.mjj[region])
        out = [Selection("inclusive", 1.0, None, region, self.masses(base))]
        for m in methods or table.methods:
            if m == "inclusive":
                continue
            for e in effs:
                if e >= 1.0:
                    continue
                for w in self.windows_of(table, m):
                    out.append(Selection(m, e, w, self.selected(table, m, e, w), self.masses(base, w)))
        return out

    # ------------------------------------------------------------------ fits
    def fit(self, spec: Spectrum):
        """The F-test choice of the dijet function for a spectrum."""
        return f_test(spec, self.definition.orders, self.definition.f_test_alpha)

    def scan(self, sel: Selection, mjj: np.ndarray, sideband: bool = False) -> SelectionScan:
        """Fit and scan one selection; ``sideband``: also the largest Z inside its window's sidebands (for a
        windowed method, whose classifier learns the sidebands as background)."""
        spec = self.spectrum(mjj[sel.mask])
        try:
            ft = self.fit(spec)
            scan = local_significance(spec, ft.chosen, self.definition.signal, sel.masses)
            msg = f"{ft.chosen.order}-par fit χ²/ndf = {ft.chosen.chi2:.1f}/{ft.chosen.ndf}"
            side = self.sideband_excess(spec, ft.chosen, sel.window) if sideband and sel.window is not None else None
            return SelectionScan(sel.method, sel.eff, sel.window, spec, ft.chosen, scan, msg, side)
        except FitError as exc:
            return SelectionScan(sel.method, sel.eff, sel.window, spec, None, None, str(exc))

    def sideband_excess(self, spec: Spectrum, fit: BackgroundFit, window: Window) -> tuple[float, float] | None:
        """The largest local Z of a selection inside its window's sidebands (same fit, same signal shape): a
        signal there is learned as background by a windowed method; CMS's staggered binnings are meant to catch
        it in another window. Not part of the search's trials: a diagnostic (``SIDEBAND_Z``)."""
        c = spec.centers
        inner = (c > spec.edges[1]) & (c < spec.edges[-2])
        masses = c[window.in_sb(c) & inner]
        if not len(masses):
            return None
        scan = local_significance(spec, fit, self.definition.signal, masses)
        if not np.isfinite(scan.z).any():
            return None
        k = int(np.nanargmax(scan.z))
        return float(scan.z[k]), float(masses[k])

    def run(self, table: ScoreTable, methods=None, toys: int | None = None, progress: bool = False) -> SearchResult:
        """Scan every selection; the global significance of the largest local excess."""
        from tqdm.auto import tqdm

        sels = self.selections(table, methods)
        log.info("search: %d selections, %d mass hypotheses", len(sels), sum(len(s.masses) for s in sels))
        scans = [
            self.scan(s, table.mjj, sideband=table.windowed(s.method))
            for s in tqdm(sels, desc="search", disable=not progress, leave=False)
        ]
        glob = self.global_significance(table, sels, scans, toys)
        incl = scans[0]
        if incl.fit is not None:  # the inclusive Z at any bin centre, for the views (the trials' scan is thinned)
            c = incl.spectrum.centers
            inner = c[(c > incl.spectrum.edges[1]) & (c < incl.spectrum.edges[-2])]
            incl.every_bin = local_significance(incl.spectrum, incl.fit, self.definition.signal, inner)
        trials = {
            "selections": len(sels),
            "fitted": sum(1 for s, sc in zip(sels, scans) if sc.fit is not None and len(s.masses)),
            "mass_hypotheses": int(sum(len(s.masses) for s in sels)),
            "methods": sorted({s.method for s in sels}),
            "efficiencies": [e for e in self.definition.efficiencies if e < 1],
            "windows": [w.name for w in self.windows],
            "covers": "every method × cut × window (both binnings) × mass hypothesis above, and the inclusive spectrum",
            "untested": [
                list(g)
                for g in self.untested(
                    _highest_tested(table.mjj[sels[0].mask], self.definition.fit_max, self.definition.min_window_events)
                )
            ],
        }
        return SearchResult(scans, glob, trials)

    # ------------------------------------------------------------------ look-elsewhere
    def global_significance(
        self, table: ScoreTable, sels: list[Selection], scans: list[SelectionScan], toys: int | None = None
    ) -> GlobalSignificance | None:
        """p_global of the largest local Z over all selections, from background-only pseudo-experiments
        that keep how the selections share events.

        Each toy draws, bin by bin, Poisson(ν_b) events from the inclusive background fit and gives each
        one the scores of an event drawn at random from the analysis region (all methods' and windows'
        scores together), so scores carry no m_jj dependence: the null hypothesis of a flat-efficiency
        selection. Each selection keeps the events whose scores pass its cut at the fraction ε of the
        drawn events (its sideband or flat-cut threshold under that null); every selected toy spectrum is
        refitted with the order its observed spectrum chose and rescanned at the same masses.
        """
        n_toys = toys or self.definition.toys
        ok = [i for i, s in enumerate(scans) if s.fit is not None and len(sels[i].masses)]
        incl = scans[0]
        if incl.fit is None or not ok:
            return None
        region = self.in_region(table.mjj, table.deta)
        rows = np.flatnonzero(region)
        passes = np.zeros((len(rows), len(ok)), dtype=bool)
        for c, i in enumerate(ok):
            passes[:, c] = _passes_under_null(table, sels[i], rows)
        rng = np.random.default_rng(self.definition.seed + 7)
        nu = incl.fit.expected
        n_bins = len(nu)
        counts = np.zeros((n_toys, len(ok), n_bins))
        passes = passes.astype(np.int32)  # summed per bin below
        for t in range(n_toys):
            n_b = rng.poisson(nu)
            picks = rng.integers(0, len(rows), n_b.sum())
            filled = np.flatnonzero(n_b)  # the toy's events come bin by bin: sum each bin's run of picks
            starts = np.concatenate([[0], np.cumsum(n_b)[:-1]])[filled]
            if len(filled):
                counts[t, :, filled] = np.add.reduceat(passes[picks], starts, axis=0)
        signal = self.definition.signal
        z_toys = []
        for c, i in enumerate(ok):
            s = scans[i]
            templates = signal.templates(sels[i].masses, s.spectrum.edges)
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore", RuntimeWarning)
                z_toys.append(signed_z(counts[:, c, :], s.fit, templates))
        observed = max(scans[i].max_z for i in ok)
        return global_from_toy_scans(
            observed,
            z_toys,
            len(ok),
            note="toys keep the events shared between selections (scores drawn jointly, masses from the inclusive fit)",
            seed=self.definition.seed,
        )


def _as_list(c):
    return None if c is None else [float(x) for x in c]


def _passes_under_null(table: ScoreTable, sel: Selection, rows: np.ndarray) -> np.ndarray:
    """Which analysis-region events pass ``sel`` in the null toys: the top fraction ε of its score."""
    if sel.eff >= 1.0:
        return np.ones(len(rows), dtype=bool)
    s = table.window_scores[sel.method][sel.window.name] if table.windowed(sel.method) else table.scores[sel.method]
    s = np.asarray(s, dtype=float)[rows]
    fin = np.isfinite(s)
    if not fin.any() or np.ptp(s[fin]) == 0:
        return fin
    cut = np.quantile(s[fin], 1.0 - sel.eff)
    return fin & (s > cut)


# ---------------------------------------------------------------------- the inclusive bump hunt of an EventSet
def search_of_eventset(es, definition: SearchDefinition | None = None) -> Search:
    """The search definition resolved on an EventSet's events (fit start, windows)."""
    d = definition or SearchDefinition()
    return d.resolve(es.column("mjj"), es.column("deta"), es.mjj_fit_min, str(es.path), es.threshold_known)


def signal_model_from_eventsets(signals: list, kind: str = "dscb", deta_max: float = SearchDefinition.deta_max):
    """Fit each signal sample's m_jj at its generated resonance mass (``mA`` in its schema)."""
    from anomalyscope.core.bumphunt.signal import fit_signal_shape

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
