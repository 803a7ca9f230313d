"""Local significance scans, Asimov expectations, toys, look-elsewhere effect and discovery sensitivity."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import betaincinv, log_ndtr, ndtr, ndtri

from anomalyscope.core.bumphunt.fastfit import signed_z
from anomalyscope.core.bumphunt.fit import BackgroundFit, FitError, fit_background
from anomalyscope.core.bumphunt.histogram import Spectrum, upper_bound_95
from anomalyscope.core.bumphunt.likelihood import DijetBackground, ProfileLikelihood
from anomalyscope.core.bumphunt.signal import SignalModel
from anomalyscope.core.bumphunt.tail import TAIL_LEVELS, correlation_of_toys, gaussian_field_tail, tail_p
from anomalyscope.core.errors import InputError
from anomalyscope.core.records import Record


def _z_to_p(z):
    """One-sided p of a Z (the normal upper tail; scipy.special, not scipy.stats: the dashboard's first page
    waits for no scipy.stats import)."""
    return ndtr(-np.asarray(z, dtype=float))


def _p_to_z(p):
    return -ndtri(np.asarray(p, dtype=float))


@dataclass
class ScanResult:
    masses: np.ndarray
    z: np.ndarray  # signed local significance (negative for deficits)
    p_local: np.ndarray  # one-sided p-value, 1 − Φ(max(z, 0)) convention: p = Φ(−z)
    mu_hat: np.ndarray  # fitted signal events
    mu_err: np.ndarray
    background: BackgroundFit

    @property
    def max_z(self) -> float:
        return float(np.max(self.z))

    @property
    def best_mass(self) -> float:
        return float(self.masses[int(np.argmax(self.z))])

    def to_dict(self) -> dict:
        return {
            "masses": self.masses.tolist(),
            "z": self.z.tolist(),
            "p_local": self.p_local.tolist(),
            "mu_hat": self.mu_hat.tolist(),
            "mu_err": self.mu_err.tolist(),
            "background": self.background.summary().to_dict(),
        }


def scan_masses(spec: Spectrum, n: int | None = None) -> np.ndarray:
    """Mass hypotheses for a scan: bin centres away from the edges of the fit range (one every bin)."""
    c = spec.centers
    inner = c[(c > spec.edges[0] + 2 * spec.widths[0]) & (c < spec.edges[-1] - 2 * spec.widths[-1])]
    if n is not None and len(inner) > n:
        inner = inner[np.linspace(0, len(inner) - 1, n).round().astype(int)]
    return inner


def local_significance(
    spec: Spectrum,
    background: BackgroundFit | None = None,
    signal: SignalModel | None = None,
    masses: np.ndarray | None = None,
    order: int = 4,
) -> ScanResult:
    """Profile-likelihood q0 at each mass hypothesis; asymptotic Z = sign(μ̂)·√q0 (Wilks).

    The background parameters are profiled at every mass by the batched fitter (``fastfit``), the same
    fit the look-elsewhere toys use, so observed and toy significances are computed alike.
    """
    bkg = background or fit_background(spec, order)
    signal = signal or SignalModel.gaussian()
    masses = scan_masses(spec) if masses is None else np.asarray(masses, dtype=float)
    if len(masses) == 0:
        empty = np.zeros(0)
        return ScanResult(masses, empty, empty, empty, empty, bkg)
    templates = signal.templates(masses, spec.edges)
    z, mu, err = (a[0] for a in signed_z(spec.counts[None], bkg, templates, with_mu=True))
    return ScanResult(masses, z, _z_to_p(z), mu, err, bkg)


# ---------------------------------------------------------------------- Asimov expectations
def asimov_z(signal: np.ndarray, background, theta=None) -> float:
    """Median discovery significance for expected signal counts on top of the background model:
    √q0 on the Asimov data set n = s + b (background parameters profiled when free)."""
    theta = background.start if theta is None else theta
    n_a = np.asarray(signal) + background.expected(theta)
    pl = ProfileLikelihood(n_a, np.asarray(signal), background)
    q, _ = pl.q0()
    return float(np.sqrt(q))


def asimov_z_fixed(s: np.ndarray, b: np.ndarray) -> float:
    """Closed form for a fixed background: Z_A = √(2 Σ [(s+b) ln(1+s/b) − s])."""
    s, b = np.asarray(s, dtype=float), np.asarray(b, dtype=float)
    ok = b > 0
    return float(np.sqrt(2 * np.sum((s[ok] + b[ok]) * np.log1p(s[ok] / b[ok]) - s[ok])))


# ---------------------------------------------------------------------- toys
def toy_local_z(
    bkg: BackgroundFit, signal_template: np.ndarray, n_toys: int, seed: int = 0, injected: float = 0.0
) -> np.ndarray:
    """Signed local Z at one mass on toys drawn from the background fit (plus ``injected`` signal events
    spread by the template); each toy is refitted, background parameters profiled."""
    rng = np.random.default_rng(seed)
    toys = rng.poisson(bkg.expected + injected * np.asarray(signal_template), (n_toys, len(bkg.expected)))
    return signed_z(toys, bkg, np.asarray(signal_template)[None])[:, 0]


@dataclass(frozen=True)
class GlobalSignificance(Record):
    """The global significance of the largest local Z over everything searched, with the background-only
    pseudo-experiments (and the Gaussian-field tail) it was read from: what the search computes and what
    search.json stores under "global" (one type). ``at(z)`` reads the global significance of any other local Z
    from the same toys. Files written before the Gaussian-field tail lack the fields after ``note`` (their p
    beyond the toys is then a toy bound)."""

    observed_max_z: float
    p_global: float
    p_global_interval: tuple[float, float]  # 68% Clopper–Pearson interval of the fraction of toys reaching it
    z_global: float  # where ``p_from`` ends in "bound": a lower bound
    n_toys: int
    n_selections: int
    max_z_toys: list[float] = field(repr=False)  # the largest local Z of each background-only pseudo-experiment
    note: str = ""
    p_from: str | None = None  # see P_FROM
    n_eff: float | None = None  # effective number of independent trials fitted to the toys (information only)
    tail_levels: list[float] | None = None  # Z levels of the Gaussian-field tail (``core.bumphunt.tail``)
    tail_p: list[float] | None = None  # P(max Z ≥ level) there
    z_global_toys_95: float | None = None  # what the toys alone support: Z_global above this at 95% CL

    @property
    def trials_factor(self) -> float:
        """p_global / p_local of the observed Z: how much the look-elsewhere effect dilutes it."""
        p_local = float(_z_to_p(self.observed_max_z))
        return self.p_global / p_local if p_local > 0 else float("inf")

    def at(self, z_local: float) -> GlobalSignificance | None:
        """The global significance a local Z would have over everything searched (None: no finite Z or no toys)."""
        if not len(self.max_z_toys) or not np.isfinite(z_local):
            return None
        tail = (self.tail_levels, self.tail_p) if self.tail_levels else None
        return global_from_toys(float(z_local), self.max_z_toys, self.n_selections, tail=tail)

    def short(self) -> str:
        """'global 3.1σ', or 'global > 4.2σ' where the answer is a bound (``text`` says how it was obtained)."""
        if self.p_from is None:  # an older file: read again from its toys
            g = self.at(self.observed_max_z)
            return g.short() if g is not None else "global: no finite local Z"
        return f"global {'> ' if self.p_from.endswith('bound') else ''}{self.z_global:.1f}σ"

    def text(self) -> str:
        """The global significance as a physicist may quote it: a value, or a bound where it is one."""
        if self.p_from is None:
            g = self.at(self.observed_max_z)
            return g.text() if g is not None else "global: no finite local Z"
        observed = self.observed_max_z
        k = int(np.sum(np.asarray(self.max_z_toys, dtype=float) >= observed)) if np.isfinite(observed) else 0
        head, rel = self.short(), "<" if self.p_from.endswith("bound") else "="
        toys = f"{k} of {self.n_toys} toys reach it"
        if self.p_from in ("toys", "toy_bound"):
            return f"{head} (p {rel} {self.p_global:.2g}: {toys})"
        if self.z_global_toys_95 and self.z_global_toys_95 > 0:
            toys += f", which alone support > {self.z_global_toys_95:.1f}σ"
        return f"{head} (p {rel} {self.p_global:.2g}, {P_FROM[self.p_from]}; {toys})"


# How p_global was obtained: the fraction of toys reaching the observed Z (enough of them do); the tail of the
# Gaussian field with the toys' correlations (too few toys reach it); a bound (beyond the tail's levels, or no
# tail stored: the 95% CL upper bound on p from the toy count).
P_FROM = {
    "toys": "fraction of background-only toys reaching it",
    "gaussian_tail": "Gaussian-field tail with the toys' correlations (too few toys reach it)",
    "gaussian_tail_bound": "bound: beyond the Gaussian-field tail's levels",
    "toy_bound": "bound: 95% CL from the toy count",
}


def global_significance(
    scans: list[ScanResult], n_toys: int = 200, seed: int = 0, signal: SignalModel | None = None
) -> GlobalSignificance:
    """Look-elsewhere effect over the mass scan and across selections that share no events.

    For each background-only toy, every selection's spectrum is drawn from its own background fit,
    refitted and rescanned, and the largest local Z over all masses and selections kept; p_global is
    the fraction of toys reaching the observed maximum (beyond the toys: the Gaussian-field tail with
    the toys' correlations). Selections that share events (cuts of one method, windows, methods) are
    correlated: ``core.bumphunt.search`` draws its toys event by event for those.
    """
    signal = signal or SignalModel.gaussian()
    rng = np.random.default_rng(seed)
    z_all = []
    for s in scans:
        edges = s.background.spectrum.edges
        templates = signal.templates(s.masses, edges)
        toys = rng.poisson(s.background.expected, (n_toys, len(edges) - 1))
        z_all.append(signed_z(toys, s.background, templates))
    return global_from_toy_scans(max(s.max_z for s in scans), z_all, len(scans), seed=seed)


def global_from_toy_scans(observed: float, z_toys: list[np.ndarray], n_selections: int, note: str = "",
                          seed: int = 0) -> GlobalSignificance:  # fmt: skip
    """The global significance from every selection's toy scans ((toys, masses) arrays of local Z): the
    largest Z per toy, and the Gaussian-field tail of their correlations for what the toys cannot reach."""
    max_z = np.full(len(z_toys[0]) if z_toys else 0, -np.inf)
    for z in z_toys:
        max_z = np.fmax(max_z, np.max(np.where(np.isfinite(z), z, -np.inf), axis=1, initial=-np.inf))
    tail = (TAIL_LEVELS, tuple(gaussian_field_tail(correlation_of_toys(z_toys), TAIL_LEVELS, seed=seed)))
    return global_from_toys(observed, max_z, n_selections, note, tail)


MIN_TOYS_ABOVE = 10  # below this many toys above the observed Z, p_global comes from the Gaussian-field tail


def effective_trials(max_z_toys: np.ndarray) -> float:
    """Maximum-likelihood N_eff of the model P(max Z < u) = Φ(u)^N_eff (N_eff independent normal
    trials), fitted to the toys' largest local Z: N_eff = −n / Σ ln Φ(z_i). Stored for information; it is
    not used for p-values (measured on correlated scans: 0.5–0.75 of the true tail at Z = 4–6)."""
    z = np.asarray(max_z_toys, dtype=float)
    z = z[np.isfinite(z)]
    if len(z) == 0:
        return float("nan")
    return float(-len(z) / np.sum(log_ndtr(z)))


def _toy_bound_z(k: int, n_toys: int) -> float:
    """The global Z the toy count alone supports at 95% CL: Φ⁻¹ of the Clopper–Pearson upper bound on p
    (0 of 200 toys: p < 1.5%, Z > 2.2σ)."""
    return max(float(_p_to_z(upper_bound_95(k, n_toys))), 0.0)


def global_from_toys(
    observed: float, max_z_toys: np.ndarray, n_selections: int, note: str = "", tail=None
) -> GlobalSignificance:
    """p_global of the observed largest local Z against background-only toys' largest local Z.

    Where at least MIN_TOYS_ABOVE toys reach it, p_global is the fraction of toys that do (with its 68%
    Clopper–Pearson interval); Z_global = Φ⁻¹(1 − p_global), one-sided (0 for p_global ≥ 0.5). Further out
    it is the Gaussian-field tail ``tail`` = (levels, P(max Z ≥ level)) with the toys' correlations
    (``core.bumphunt.tail``), interpolated; beyond its last level, or without one, a bound (``p_from``).
    """
    max_z_toys = np.asarray(max_z_toys, dtype=float)
    n_toys = len(max_z_toys)
    k = int(np.sum(max_z_toys >= observed))
    lo = betaincinv(k, n_toys - k + 1, 0.16) if k > 0 else 0.0  # Clopper–Pearson: quantiles of Beta
    hi = betaincinv(k + 1, n_toys - k, 0.84) if k < n_toys else 1.0
    n_eff = effective_trials(max_z_toys)
    levels, tp = (tuple(float(x) for x in t) for t in tail) if tail is not None else ((), ())
    p, source = (k / n_toys if n_toys else float("nan")), "toys"
    if k < MIN_TOYS_ABOVE and np.isfinite(observed):
        pt = tail_p(observed, levels, tp)
        if np.isfinite(pt):
            p, source = pt, "gaussian_tail"
        elif levels and observed > levels[-1]:
            p, source = tp[-1], "gaussian_tail_bound"
        else:
            p, source = upper_bound_95(k, n_toys), "toy_bound"
        note = (note + "; " if note else "") + f"{k} of {n_toys} toys reach it: {P_FROM[source]}"
    return GlobalSignificance(
        float(observed),
        float(p),
        (float(lo), float(hi)),
        max(float(_p_to_z(max(p, 1e-300))), 0.0),  # one-sided: 0 when half the toys or more reach it
        n_toys,
        n_selections,
        max_z_toys.tolist(),
        note=note,
        p_from=source,
        n_eff=float(n_eff),
        tail_levels=list(levels),
        tail_p=list(tp),
        z_global_toys_95=_toy_bound_z(k, n_toys),
    )


# ---------------------------------------------------------------------- discovery sensitivity
@dataclass
class Sensitivity:
    mass: float
    efficiency: float
    n_injected: dict  # target Z -> signal events before the cut
    cross_section_fb: dict | None
    mode: str


def discovery_sensitivity(
    background: BackgroundFit | np.ndarray,
    template: np.ndarray,
    efficiency: float = 1.0,
    targets=(3.0, 5.0),
    luminosity_fb: float | None = None,
    mass: float = float("nan"),
    profile: bool = True,
) -> Sensitivity:
    """Signal events (before the selection) for which the median expected local significance reaches
    each target, with the selection efficiency held fixed (the fast mode: labelled as such).

    ``template`` holds the fraction of selected signal events in each bin; with a luminosity the yields
    are also given as cross sections (fb) times the selection efficiency already included.
    """
    if efficiency <= 0:
        raise InputError(f"sensitivity: selection efficiency must be positive, got {efficiency}")
    if isinstance(background, BackgroundFit) and profile:
        model = DijetBackground(background)

        def z_of(n_inj):
            return asimov_z(efficiency * n_inj * template, model)
    else:
        b = background.expected if isinstance(background, BackgroundFit) else np.asarray(background, dtype=float)

        def z_of(n_inj):
            return asimov_z_fixed(efficiency * n_inj * template, b)

    out = {}
    for target in targets:
        hi = 10.0
        while z_of(hi) < target:
            hi *= 3
            if hi > 1e9:
                raise FitError(f"sensitivity: Z = {target} not reachable")
        from scipy.optimize import brentq

        out[float(target)] = float(brentq(lambda x: z_of(x) - target, 0.0, hi, rtol=1e-4))
    xs = {k: v / luminosity_fb for k, v in out.items()} if luminosity_fb else None
    return Sensitivity(mass, efficiency, out, xs, mode="efficiency held fixed (fast mode)")
