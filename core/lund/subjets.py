"""Prong subjets of large-radius jets and their primary Lund planes — the inputs of the Lund-plane reweighting.

Following CMS (arXiv:2507.07775): a jet's constituents are reclustered into N subjets with the exclusive
kT algorithm, N = the number of prongs hypothesised (for simulated jets: the generator quarks inside the
jet); each subjet is reclustered with Cambridge/Aachen and declustered along its harder branch, giving its
primary Lund-plane splittings (ln R/ΔR, ln kt/GeV). Subjets are matched to the quarks by ΔR.

Everything is vectorised over jets with FastJet's awkward interface, one call per distinct N.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import awkward as ak
import numpy as np

from anomalyscope.core.data.eventset import EventSet
from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require
from anomalyscope.core.features.jets import gather
from anomalyscope.core.features.kinematics import delta_r, pt_eta_phi

MAX_PRONGS = 6
# subjet categories (per subjet), as the paper separates them for the uncertainties
MATCHED, UNMATCHED, SHARED = 0, 1, 2
CATEGORY_NAMES = {MATCHED: "matched", UNMATCHED: "no quark within match ΔR", SHARED: "two or more quarks"}


@dataclass
class Subjets:
    """Flat table of the subjets of a set of jets (jet ``jet`` of the input order) with their Lund splittings.

    ``ln_r_delta`` / ``ln_kt`` are jagged per subjet; ``category`` is MATCHED, UNMATCHED or SHARED (all
    MATCHED-unknown = -1 when the jets have no generator quarks).
    """

    jet: np.ndarray  # index of the parent jet
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    category: np.ndarray
    ln_r_delta: ak.Array
    ln_kt: ak.Array
    n_jets: int
    n_prongs: np.ndarray  # per jet (0: jet not reclustered)

    def __len__(self) -> int:
        return len(self.jet)

    def take(self, jet_mask: np.ndarray) -> "Subjets":
        """The subjets of the jets selected by a boolean mask, re-indexed."""
        new_index = np.cumsum(jet_mask) - 1
        keep = jet_mask[self.jet]
        return Subjets(
            new_index[self.jet[keep]],
            self.pt[keep],
            self.eta[keep],
            self.phi[keep],
            self.category[keep],
            self.ln_r_delta[keep],
            self.ln_kt[keep],
            int(jet_mask.sum()),
            self.n_prongs[jet_mask],
        )


def prongs_in_jets(partons: ak.Array, jet_eta: np.ndarray, jet_phi: np.ndarray, jet_r: float) -> ak.Array:
    """The generator quarks within ΔR < jet_r of each jet axis (one jet per row of ``partons``)."""
    dr = delta_r(partons.eta, partons.phi, jet_eta, jet_phi)
    return partons[dr < jet_r]


def recluster(
    constituents: ak.Array,
    n_prongs: np.ndarray,
    jet_r: float,
    quarks: ak.Array | None = None,
    match_dr: float = 0.2,
) -> Subjets:
    """Exclusive-kT subjets (N = n_prongs per jet, 0 = skip the jet) and their C/A primary Lund splittings.

    constituents: jets × var {px, py, pz, E}; quarks: jets × var {eta, phi} (the jet's prongs), or None.
    ln_r_delta uses the large-jet radius: ln(jet_r/ΔR), as in the CMS Lund-plane papers.
    """
    n_jets = len(constituents)
    n_cons = ak.to_numpy(ak.num(constituents))
    n_prongs = np.minimum(np.asarray(n_prongs, dtype=np.int64), n_cons)
    if np.any(n_prongs > MAX_PRONGS):
        raise InputError(f"at most {MAX_PRONGS} prongs per jet are supported, got {int(n_prongs.max())}")
    vec_all = ak.zip({k: ak.values_astype(constituents[k], np.float64) for k in ("px", "py", "pz", "E")})
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fastjet's generic note on exclusive jets
        for n in range(1, MAX_PRONGS + 1):
            part = _recluster_n(vec_all, n_prongs, n)
            if part is not None:
                parts.append(part)
    if not parts:
        empty = ak.Array([[]] * 0)
        return Subjets(
            *(np.zeros(0, dtype=t) for t in (np.int64, float, float, float, np.int8)), empty, empty, n_jets, n_prongs
        )
    jet = np.concatenate([p[0] for p in parts])
    order = np.argsort(jet, kind="stable")
    pt, eta, phi = (np.concatenate([p[i] for p in parts])[order] for i in (1, 2, 3))
    lund = ak.concatenate([p[4] for p in parts])[order]
    with np.errstate(divide="ignore"):
        ln_r_delta = np.log(jet_r / np.maximum(lund.Delta, 1e-12))
        ln_kt = np.log(np.maximum(lund.kt, 1e-12))
    jet = jet[order]
    category = np.full(len(jet), -1, dtype=np.int8)
    if quarks is not None:
        category = _match(jet, eta, phi, quarks, match_dr)
    return Subjets(jet, pt, eta, phi, category, ln_r_delta, ln_kt, n_jets, n_prongs)


def _recluster_n(vec_all: ak.Array, n_prongs: np.ndarray, n: int):
    """Subjets and Lund declusterings of the jets to split into exactly n prongs (None if there are none)."""
    sel = np.flatnonzero(n_prongs == n)
    if len(sel) == 0:
        return None
    vec = vec_all[sel]
    fastjet = require("fastjet", "Lund-plane subjets")
    kt = fastjet.ClusterSequence(vec, fastjet.JetDefinition(fastjet.kt_algorithm, 10.0))
    sub = kt.exclusive_jets(n_jets=n)
    index = kt.exclusive_jets_constituent_index(njets=n)
    sub_cons = gather(vec, index)  # len(sel) × n × var
    flat = ak.flatten(sub_cons, axis=1)  # (len(sel)·n) × var
    ca = fastjet.ClusterSequence(flat, fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0))
    lund = ak.flatten(ca.exclusive_jets_lund_declusterings(njets=1), axis=1)
    pt, eta, phi = (ak.to_numpy(ak.flatten(x)) for x in pt_eta_phi(sub))
    return np.repeat(sel, n), pt, eta, phi, lund


def _match(jet: np.ndarray, eta: np.ndarray, phi: np.ndarray, quarks: ak.Array, match_dr: float) -> np.ndarray:
    """Category of every subjet: MATCHED (exactly one quark has it as nearest subjet within match_dr),
    SHARED (two or more do), UNMATCHED (none does — its quark fell outside match_dr or outside the jet)."""
    n_q = ak.to_numpy(ak.num(quarks))
    q_jet = np.repeat(np.arange(len(n_q)), n_q)
    q_eta = ak.to_numpy(ak.flatten(quarks.eta)).astype(float)
    q_phi = ak.to_numpy(ak.flatten(quarks.phi)).astype(float)
    first = np.searchsorted(jet, np.arange(len(n_q)))
    n_sub = np.bincount(jet, minlength=len(n_q))
    hits = np.zeros(len(jet), dtype=np.int64)
    # quarks of jets with subjets: nearest subjet among its jet's subjets (≤ MAX_PRONGS, so a loop over slots)
    has = n_sub[q_jet] > 0
    best = np.full(len(q_jet), -1)
    best_dr = np.full(len(q_jet), np.inf)
    for k in range(MAX_PRONGS):
        ok = has & (k < n_sub[q_jet])
        idx = first[q_jet[ok]] + k
        dr = delta_r(q_eta[ok], q_phi[ok], eta[idx], phi[idx])
        better = dr < best_dr[ok]
        sel = np.flatnonzero(ok)[better]
        best[sel], best_dr[sel] = idx[better], dr[better]
    good = best_dr < match_dr
    np.add.at(hits, best[good], 1)
    return np.where(hits == 1, MATCHED, np.where(hits == 0, UNMATCHED, SHARED)).astype(np.int8)


def eventset_jets(es: EventSet, jets: tuple[str, ...] = ("j1", "j2"), mask: np.ndarray | None = None) -> dict:
    """The jets of an EventSet as one flat list (event-major: ev0 j1, ev0 j2, ev1 j1 ...).

    Returns constituents, kinematics, substructure features and, when stored, the generator quarks of the
    event (``partons``); ``mask`` selects events.
    """
    fields = es.jet_fields
    if "constituents" not in fields:
        raise InputError(f"{es.path}: the jets have no stored constituents; the Lund-plane reweighting needs them")
    cols = [f"{j}.{f}" for j in jets for f in ("pt", "eta", "phi", "constituents", "tau21", "tau32", "msoftdrop")]
    has_partons = "partons" in es.fields
    arr = es.load(cols + (["partons"] if has_partons else []), truth=has_partons)
    if mask is not None:
        arr = arr[mask]
    n_ev = len(arr)

    def interleave(get):
        stacked = [get(arr[j]) for j in jets]
        if isinstance(stacked[0], np.ndarray):
            return np.stack(stacked, axis=1).reshape(-1)
        return ak.flatten(ak.concatenate([s[:, None] for s in stacked], axis=1), axis=1)

    out = {
        "event": np.repeat(np.arange(n_ev), len(jets)),
        "constituents": interleave(lambda a: a.constituents),
        **{k: interleave(lambda a, k=k: ak.to_numpy(a[k]).astype(float)) for k in ("pt", "eta", "phi")},
        **{k: interleave(lambda a, k=k: ak.to_numpy(a[k]).astype(float)) for k in ("tau21", "tau32", "msoftdrop")},
        "partons": arr.partons[np.repeat(np.arange(n_ev), len(jets))] if has_partons else None,
    }
    return out
