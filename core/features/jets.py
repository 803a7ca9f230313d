"""Large-radius jets, the dijet preselection and per-jet substructure, vectorised over events.

Clustering and substructure go through FastJet's awkward interface (one C++ call per chunk of
events, no per-particle Python): anti-kT R = 0.8 jets; soft drop (z_cut = 0.1, β = 0) and the
primary Lund-plane declusterings on a Cambridge/Aachen reclustering; N-subjettiness τ1..τ4
(β = 1, exclusive-kT axes, normalised measure with R0 = 0.8) from FastJet contrib.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import awkward as ak
import numpy as np

from anomalyscope.core.errors import InputError
from anomalyscope.core.extras import require
from anomalyscope.core.features.btag import btag_score, jet_flavour

MAX_CONSTITUENTS = 100
MAX_JET_R = 1.5  # large-radius jets of the CMS (0.8) and LHC Olympics (1.0) analyses; beyond, jets overlap


TAU_AXES_NAMES = {"KT_Axes": "exclusive_kt", "OnePass_KT_Axes": "onepass_kt"}
TAU_AXES_DESCRIPTION = {
    "exclusive_kt": "computed with exclusive-kT axes (anomalyscope)",
    "onepass_kt": "computed with one-pass kT axes",
    "stored": "read from the file's τ branches (CMS NanoAOD: one-pass kT axes)",
}


def tau_axes_name(selection: "Selection") -> str:
    """The τ_N convention of values computed with ``selection`` (recorded as an EventSet's ``tau_axes``)."""
    return TAU_AXES_NAMES.get(selection.tau_axes, selection.tau_axes)


def combined_tau_axes(samples: dict) -> tuple:
    """The one τ_N convention of several samples (name → convention or None), and None; or "mixed" and a warning
    naming which sample is which. τ ratios from different axes differ jet by jet, so a classifier trained on a mix
    can learn the convention instead of the physics."""
    seen = {str(k): v for k, v in samples.items() if v}
    kinds = sorted(set(seen.values()))
    if len(kinds) <= 1:
        return (kinds[0] if kinds else None), None
    groups: dict = {}
    for name, v in seen.items():
        groups.setdefault(v, []).append(name)
    parts = [
        f"{TAU_AXES_DESCRIPTION.get(v, v)}: {', '.join(ns[:3])}{f' and {len(ns) - 3} more' if len(ns) > 3 else ''}"
        for v, ns in sorted(groups.items())
    ]
    return "mixed", "τ_N are not all of one convention (" + "; ".join(parts) + "): their ratios differ jet by jet"


@dataclass(frozen=True)
class Selection:
    """The CMS-like dijet preselection. Events with deta < deta_store are kept (the |Δη| sideband
    1.3 < |Δη| < 2.5 is a control region for VAE-QR); the analysis region is deta < deta_max."""

    jet_r: float = 0.8
    jet_pt_min: float = 300.0
    jet_eta_max: float = 2.5
    deta_max: float = 1.3
    deta_store: float = 2.5
    mjj_min: float = 1450.0
    tau_axes: str = "KT_Axes"

    def __post_init__(self):
        checks = [
            ("jet_r", 0 < self.jet_r <= MAX_JET_R, f"in (0, {MAX_JET_R:g}]"),
            ("jet_pt_min", self.jet_pt_min >= 0, "≥ 0 GeV"),
            ("jet_eta_max", self.jet_eta_max > 0, "> 0"),
            ("deta_max", self.deta_max > 0, "> 0"),
            ("deta_store", self.deta_store >= self.deta_max, f"≥ deta_max = {self.deta_max:g}"),
            ("mjj_min", self.mjj_min >= 0, "≥ 0 GeV"),
        ]
        for name, ok, want in checks:
            if not ok:  # NaN fails every comparison: refused too
                raise InputError(f"selection: {name} must be {want}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def four_vectors(pt, eta, phi, mass) -> dict:
    """(px, py, pz, E) from (pT, η, φ, m); numpy and awkward arrays alike."""
    pz = pt * np.sinh(eta)
    return {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pz, "E": np.sqrt(pt**2 + pz**2 + mass**2)}


def particles_from_ptetaphi(pt, eta, phi, mass, cls, counts) -> ak.Array:
    """Jagged particle records {px, py, pz, E, cls} from flat (pT, η, φ, m) arrays and per-event counts."""
    p4 = four_vectors(*(np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, mass)))
    flat = ak.zip({**p4, "cls": np.asarray(cls, dtype=np.int8)})
    return ak.unflatten(flat, np.asarray(counts, dtype=np.int64))


def pair_mass(jets: ak.Array) -> np.ndarray:
    """Invariant mass of the first two jets {px, py, pz, E} of each event."""
    s, t = jets[:, 0], jets[:, 1]
    return ak.to_numpy(
        np.sqrt(np.maximum((s.E + t.E) ** 2 - (s.px + t.px) ** 2 - (s.py + t.py) ** 2 - (s.pz + t.pz) ** 2, 0.0))
    )


def _pt(v):
    return np.hypot(v.px, v.py)


def _eta(v):
    pt = _pt(v)
    return np.arcsinh(v.pz / pt)


def _phi(v):
    return np.arctan2(v.py, v.px)


def _mass(v):
    return np.sqrt(np.maximum(v.E**2 - v.px**2 - v.py**2 - v.pz**2, 0.0))


def leading_dijets(particles: ak.Array, sel: Selection):
    """Cluster, pick the two leading jets passing pT/|η|, return (mask of events kept, jets, constituents).

    jets: n_kept * 2 * {px, py, pz, E}; constituents: n_kept * 2 * var * particle record.
    """
    fastjet = require("fastjet", "Jet clustering")
    vec = ak.zip({k: particles[k] for k in ("px", "py", "pz", "E")})
    cs = fastjet.ClusterSequence(vec, fastjet.JetDefinition(fastjet.antikt_algorithm, sel.jet_r))
    jets = cs.inclusive_jets(min_pt=sel.jet_pt_min)
    idx = cs.constituent_index(min_pt=sel.jet_pt_min)
    good = np.abs(_eta(jets)) < sel.jet_eta_max
    jets, idx = jets[good], idx[good]
    order = ak.argsort(_pt(jets), axis=1, ascending=False)
    jets, idx = jets[order][:, :2], idx[order][:, :2]
    two = ak.to_numpy(ak.num(jets)) == 2
    deta = np.full(len(particles), np.inf)
    mjj = np.zeros(len(particles))
    if two.any():
        j = jets[two]
        deta[two] = np.abs(ak.to_numpy(_eta(j[:, 0]) - _eta(j[:, 1])))
        mjj[two] = pair_mass(j)
    keep = two & (deta < sel.deta_store) & (mjj >= sel.mjj_min)
    cons = gather(particles[keep], idx[keep])
    return keep, jets[keep], cons, mjj, deta


def gather(particles: ak.Array, index: ak.Array) -> ak.Array:
    """particles[event][index[event][jet]] for every jet (or subjet), without Python loops."""
    counts = ak.to_numpy(ak.num(particles))
    offsets = (np.cumsum(counts) - counts).astype(np.int64)
    n_jets = ak.to_numpy(ak.num(index, axis=1))
    n_cons = ak.to_numpy(ak.flatten(ak.num(index, axis=2)))
    flat_idx = ak.to_numpy(ak.flatten(index, axis=None)).astype(np.int64)
    flat_idx += np.repeat(np.repeat(offsets, n_jets), n_cons)
    flat = ak.flatten(particles)[flat_idx]
    return ak.unflatten(ak.unflatten(flat, n_cons), n_jets)


def jet_features(
    jets: ak.Array, cons: ak.Array, sel: Selection, hadrons: ak.Array | None, rng: np.random.Generator
) -> dict[str, ak.Array]:
    """Per-jet features for n events × 2 jets; returns {'j1': record array, 'j2': record array}."""
    n = len(jets)
    flat_jets = ak.flatten(jets)  # 2n jets, ordered (ev0 j1, ev0 j2, ev1 j1, ...)
    flat_cons = ak.flatten(cons, axis=1)  # 2n * var particles
    vec = ak.zip({k: flat_cons[k] for k in ("px", "py", "pz", "E")})

    fastjet = require("fastjet", "Jet substructure")
    ca = fastjet.ClusterSequence(vec, fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0))
    sd = ca.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, R0=sel.jet_r)
    lund = ak.flatten(ca.exclusive_jets_lund_declusterings(njets=1), axis=1)
    kt = fastjet.ClusterSequence(vec, fastjet.JetDefinition(fastjet.kt_algorithm, 10.0))
    taus = ak.to_numpy(kt.njettiness(axes_definition=sel.tau_axes, njets=[1, 2, 3, 4], beta=1.0, R0=sel.jet_r))

    pt = ak.to_numpy(_pt(flat_jets))
    eta = ak.to_numpy(_eta(flat_jets))
    phi = ak.to_numpy(_phi(flat_jets))
    energy = ak.to_numpy(flat_jets.E)
    lep = (flat_cons.cls == 3) | (flat_cons.cls == 4)
    lepton_fraction = ak.to_numpy(ak.sum(flat_cons.E * lep, axis=1)) / energy
    # a jet with constituents of unknown class (LHCO hadrons, PF candidates without pdgId) has no lepton fraction
    unknown = ak.to_numpy(ak.any(flat_cons.cls < 0, axis=1))
    lepton_fraction = np.where(unknown, np.nan, lepton_fraction)
    n_cons = ak.to_numpy(ak.num(flat_cons))

    if hadrons is not None:
        flavour = jet_flavour(eta, phi, _repeat_events(hadrons, 2), sel.jet_r)
        btag = btag_score(flavour, rng)
    else:
        flavour = np.full(len(pt), -1, dtype=np.int8)
        btag = np.full(len(pt), np.nan, dtype=np.float32)

    constituents = stored_constituents(flat_cons)
    lund_rec = _lund_record(lund, pt)

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    cols = {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": ak.to_numpy(_mass(flat_jets)),
        "msoftdrop": ak.to_numpy(sd.msoftdrop),
        "tau1": taus[:, 0],
        "tau2": taus[:, 1],
        "tau3": taus[:, 2],
        "tau4": taus[:, 3],
        "tau21": ratio(taus[:, 1], taus[:, 0]),
        "tau32": ratio(taus[:, 2], taus[:, 1]),
        "tau43": ratio(taus[:, 3], taus[:, 2]),
        "n_constituents": n_cons.astype(np.int32),
        "lepton_fraction": lepton_fraction,
        "btag": btag,
        "hadron_flavour": flavour.astype(np.int8),
    }
    rec = {k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in cols.items()}
    out = {}
    for j, name in enumerate(("j1", "j2")):
        fields = {k: np.ascontiguousarray(v[j::2]) for k, v in rec.items()}
        fields["constituents"] = constituents[j::2]
        fields["lund"] = lund_rec[j::2]
        out[name] = ak.zip(fields, depth_limit=1)
    assert all(len(v) == n for v in out.values())
    return out


def stored_constituents(cons: ak.Array) -> ak.Array:
    """A jet's constituents as the EventSet stores them: the MAX_CONSTITUENTS highest-pT, float32 four-vectors."""
    top = cons[ak.argsort(_pt(cons), axis=1, ascending=False)][:, :MAX_CONSTITUENTS]
    return ak.zip({k: ak.values_astype(top[k], np.float32) for k in ("px", "py", "pz", "E")} | {"cls": top["cls"]})


def _repeat_events(arr: ak.Array, k: int) -> ak.Array:
    idx = np.repeat(np.arange(len(arr)), k)
    return arr[idx]


def _lund_record(lund: ak.Array, jet_pt: np.ndarray) -> ak.Array:
    """Primary Lund declusterings as (ln 1/Δ, ln kt, z) per step.

    FastJet gives (Δ, kt) per step with kt = pT_soft·Δ. z = pT_soft / (pT_hard + pT_soft) follows
    along the primary chain: the harder branch carries the parent pT into the next step, starting
    from the jet pT (small-angle approximation: scalar pT sums, exact up to O(Δ²) corrections).
    """
    delta = ak.to_numpy(ak.flatten(lund.Delta))
    ktv = ak.to_numpy(ak.flatten(lund.kt))
    steps = ak.to_numpy(ak.num(lund.Delta))
    soft = np.divide(ktv, delta, out=np.zeros_like(ktv), where=delta > 0)
    # parent pT at each step = jet pT minus the soft pT removed in earlier steps of the same jet
    jet_idx = np.repeat(np.arange(len(steps)), steps)
    cum_before = np.cumsum(soft) - soft
    start = np.concatenate([[0], np.cumsum(steps)[:-1]]).astype(np.int64)
    base = np.zeros(len(steps))
    has = steps > 0
    base[has] = cum_before[start[has]]
    parent = jet_pt[jet_idx] - (cum_before - np.repeat(base, steps))
    z = np.clip(np.divide(soft, parent, out=np.zeros_like(soft), where=parent > 0), 0.0, 0.5)
    with np.errstate(divide="ignore"):
        rec = ak.zip(
            {
                "ln_inv_delta": np.log(1.0 / np.maximum(delta, 1e-12)).astype(np.float32),
                "ln_kt": np.log(np.maximum(ktv, 1e-12)).astype(np.float32),
                "z": z.astype(np.float32),
            }
        )
    return ak.unflatten(rec, steps)


def event_record(
    jets: ak.Array,
    cons: ak.Array,
    mjj: np.ndarray,
    deta: np.ndarray,
    extra: dict,
    sel: Selection,
    hadrons: ak.Array | None,
    rng: np.random.Generator,
) -> ak.Array:
    """Assemble the per-event record of the EventSet contract."""
    per_jet = jet_features(jets, cons, sel, hadrons, rng)
    fields = {
        "mjj": mjj.astype(np.float32),
        "deta": deta.astype(np.float32),
        **extra,
        "j1": per_jet["j1"],
        "j2": per_jet["j2"],
    }
    return ak.zip(fields, depth_limit=1)
