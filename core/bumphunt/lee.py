"""The look-elsewhere effect of a search: background-only pseudo-experiments over every selection it made, scored
as the search scores data; their largest local Z gives the observed excess its global significance (beyond the
toys, the Gaussian-field tail of ``tail``)."""

from __future__ import annotations

import warnings as _warnings
from typing import TYPE_CHECKING

import numpy as np

from anomalyscope.core.bumphunt.fastfit import signed_z
from anomalyscope.core.bumphunt.significance import GlobalSignificance, global_from_toy_scans

if TYPE_CHECKING:
    from anomalyscope.core.bumphunt.search import Cut, ScoreTable, Search, _Fitted


def global_significance(
    search: Search, table: ScoreTable, sels: list[Cut], scans: list[_Fitted], n_toys: int
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
    ok = [i for i, s in enumerate(scans) if s.fit is not None and len(sels[i].masses)]
    incl = scans[0]
    if incl.fit is None or not ok:
        return None
    region = search.in_region(table.mjj, table.deta)
    rows = np.flatnonzero(region)
    passes = np.zeros((len(rows), len(ok)), dtype=bool)
    for c, i in enumerate(ok):
        passes[:, c] = _passes_under_null(table, sels[i], rows)
    rng = np.random.default_rng(search.definition.seed + 7)
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
    signal = search.definition.signal
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
        seed=search.definition.seed,
    )


def _passes_under_null(table: ScoreTable, sel: Cut, rows: np.ndarray) -> np.ndarray:
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
