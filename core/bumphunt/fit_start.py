"""Where the search's fit of the m_jj spectrum starts.

Where the threshold is known — a generated EventSet records where its generator thresholds
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

import warnings as _warnings

import numpy as np

from anomalyscope.core.bumphunt.fastfit import signed_z
from anomalyscope.core.bumphunt.fit import BackgroundFit, FitError, fit_background
from anomalyscope.core.bumphunt.histogram import CMS_DIJET_EDGES, Spectrum
from anomalyscope.core.bumphunt.signal import SignalModel
from anomalyscope.core.errors import InputError

FIT_START_TOLERANCE = 0.02  # a bin may fall short of the fit from above by 2% (or 2σ of its count)
FIT_START_MAX_STEPS = 8
RESONANCE_Z = 3.0  # a local excess the fit start's fits from above take out first (``_without_resonance``)


def highest_tested(mjj: np.ndarray, fit_max: float, min_events: int) -> float:
    """The m_jj below which a window could hold enough events: above the min_events-th highest event no
    window can, and no mass there is reported as a gap (the spectrum has run out, not the windows)."""
    if len(mjj) < min_events:
        return float(np.min(mjj, initial=fit_max))
    return float(min(fit_max, np.sort(mjj)[-min_events]))


def find_fit_start(mjj: np.ndarray, floor: float, fit_max: float, binning, signal: SignalModel) -> tuple[float, str]:
    """The m_jj where the spectrum stops being sculpted (module text): (GeV, how it was found); ``signal``: the
    search's resonance shape, whose excess is taken out before the fits from above."""
    edges = fit_edges(floor, fit_max, binning)
    if len(edges) < 6:
        raise InputError(f"search: no m_jj range between {floor:g} and {fit_max:g} GeV to fit")
    counts, _ = np.histogram(mjj, edges)
    if counts.sum() == 0:
        raise InputError(f"search: no event between {floor:g} and {fit_max:g} GeV")
    peak = _turn_on_peak(counts / np.diff(edges))
    first = 0 if peak == 0 else peak + 1
    last = min(first + FIT_START_MAX_STEPS, len(edges) - 6)
    try:  # a resonance is looked for once, over the widest range the fits below use
        clean = _without_resonance(counts, edges, first + 2, signal)
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


def _without_resonance(counts: np.ndarray, edges: np.ndarray, j: int, signal: SignalModel) -> np.ndarray:
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


def fit_edges(floor: float, fit_max: float, binning) -> np.ndarray:
    """The bin edges a fit may start from: those of the binning between the floor and the fit's end."""
    edges = CMS_DIJET_EDGES if binning == "cms" else np.arange(floor, fit_max + float(binning), float(binning))
    return edges[(edges >= floor - 1e-9) & (edges <= fit_max + 1e-9)]


def _turn_on_peak(density: np.ndarray) -> int:
    """The first bin after which dN/dm falls (higher than each of the next two bins): the top of the
    turn-on, not a resonance further up that may be the global maximum of a small sample."""
    for i in range(len(density) - 2):
        if density[i] >= density[i + 1] and density[i] >= density[i + 2] and density[i] > 0:
            return i
    return int(np.argmax(density))


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
