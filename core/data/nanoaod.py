"""NanoAOD-like ROOT files (read with uproot) into EventSets, and EventSets back out to ROOT.

The reader takes large-radius jets from ``FatJet_*`` branches (pt, eta, phi, mass required; soft-drop
mass, τ1..τ4, constituent count, b-tag, hadron flavour optional) and, where present, PF candidates
with PFNano's index maps (``PFCands_*`` and ``FatJetPFCands_jetIdx`` / ``FatJetPFCands_pFCandsIdx``).
Branch names come from a :class:`BranchMap`, overridable by a small YAML/JSON mapping file.

With PF candidates, the jet's leading constituents and its primary Lund-plane declusterings are stored,
and any substructure feature without a branch is computed from the constituents with the same code as
for generated events. Without them, a feature with no branch is absent from the EventSet, and methods
that need it say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np

from anomalyscope.core.data import sources
from anomalyscope.core.data.atomic import temp_sibling
from anomalyscope.core.data.eventset import UNKNOWN_PROCESS, EventSet
from anomalyscope.core.errors import FieldError, InputError, row_list, short_message
from anomalyscope.core.features.jets import (
    Selection,
    four_vectors,
    jet_features,
    pair_mass,
    particles_from_ptetaphi,
    stored_constituents,
    tau_axes_name,
)
from anomalyscope.core.params import build

REQUIRED = ("pt", "eta", "phi", "mass")
OPTIONAL = ("msoftdrop", "tau1", "tau2", "tau3", "tau4", "n_constituents", "btag", "hadron_flavour", "lepton_fraction")
LUND_FIELDS = ("lund_ln_inv_delta", "lund_ln_kt", "lund_z", "lund_jet_index")
PF_FIELDS = ("pf_pt", "pf_eta", "pf_phi", "pf_mass", "pf_pdg_id", "pf_jet_index", "pf_cand_index")
PF_REQUIRED = ("pf_pt", "pf_eta", "pf_phi", "pf_mass", "pf_jet_index", "pf_cand_index")
EVENT_FIELDS = ("event_id", "weight", "label", "process_id")
JET_ORDER = (
    *REQUIRED,
    "msoftdrop",
    "tau1",
    "tau2",
    "tau3",
    "tau4",
    "tau21",
    "tau32",
    "tau43",
    "n_constituents",
    "lepton_fraction",
    "btag",
    "hadron_flavour",
    "constituents",
    "lund",
)
MAY_BE_NAN = ("btag", "lepton_fraction")  # NaN = not available for this jet (as in generated EventSets)

DEFAULT_BRANCHES = {
    "pt": "FatJet_pt",
    "eta": "FatJet_eta",
    "phi": "FatJet_phi",
    "mass": "FatJet_mass",
    "msoftdrop": "FatJet_msoftdrop",
    "tau1": "FatJet_tau1",
    "tau2": "FatJet_tau2",
    "tau3": "FatJet_tau3",
    "tau4": "FatJet_tau4",
    "n_constituents": "FatJet_nConstituents",
    "btag": "FatJet_btagDeepB",
    "hadron_flavour": "FatJet_hadronFlavour",
    "lepton_fraction": "FatJet_leptonFraction",
    "pf_pt": "PFCands_pt",
    "pf_eta": "PFCands_eta",
    "pf_phi": "PFCands_phi",
    "pf_mass": "PFCands_mass",
    "pf_pdg_id": "PFCands_pdgId",
    "pf_jet_index": "FatJetPFCands_jetIdx",
    "pf_cand_index": "FatJetPFCands_pFCandsIdx",
    "lund_ln_inv_delta": "FatJetLund_lnInvDelta",
    "lund_ln_kt": "FatJetLund_lnKt",
    "lund_z": "FatJetLund_z",
    "lund_jet_index": "FatJetLund_jetIdx",
    "event_id": "event_id",
    "weight": "genWeight",
    "label": "label",
    "process_id": "process_id",
}
# PDG id of a PF candidate -> our constituent class (detector.py); anything else is unknown (-1)
PDG_CLASS = {211: 0, 130: 1, 22: 2, 11: 3, 13: 4}
CLASS_PDG = {0: 211, 1: 130, 2: 22, 3: 11, 4: 13, -1: 0}
INFO_NAME = "anomalyscope_eventset"  # TObjString with the exporting EventSet's schema (process names)


@dataclass(frozen=True)
class BranchMap:
    """Which branch holds which quantity; ``None`` switches an optional quantity off."""

    tree: str = "Events"
    branches: dict = field(default_factory=lambda: dict(DEFAULT_BRANCHES))

    @classmethod
    def from_file(cls, path: str | Path) -> BranchMap:
        """A mapping file: ``tree: NAME`` and ``branches: {quantity: branch or null}`` (YAML or JSON)."""
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"{path}: cannot read the branch mapping ({exc})") from None
        if not isinstance(data, dict):
            raise FieldError(f"{path}: a branch mapping is a mapping with 'tree' and 'branches'", path, None, data)
        spec = build(cls, {k: v for k, v in data.items() if v is not None}, str(path), "field")
        given = spec.branches
        unknown = set(given) - set(DEFAULT_BRANCHES)
        if unknown:
            known = ", ".join(DEFAULT_BRANCHES)
            first = min(unknown)
            raise FieldError(
                f"{path}: field 'branches' has unknown quantities {sorted(unknown)}; known: {known}",
                path,
                f"branches.{first}",
                given[first],
            )
        for q in REQUIRED:
            if q in given and not given[q]:
                raise FieldError(f"{path}: branches.{q} is required and cannot be null", path, f"branches.{q}", None)
        bad = [q for q, b in given.items() if b is not None and not isinstance(b, str)]
        if bad:
            raise FieldError(
                f"{path}: branches.{bad[0]} must be a branch name or null, got {given[bad[0]]!r}",
                path,
                f"branches.{bad[0]}",
                given[bad[0]],
            )
        return cls(tree=spec.tree, branches={**DEFAULT_BRANCHES, **given})

    def to_dict(self) -> dict:
        return {"tree": self.tree, "branches": dict(self.branches)}


@dataclass(frozen=True)
class NanoAODFormat:
    """How to read NanoAOD-like files: branch map, jet selection, and the truth to attach when the file has none."""

    mapping: BranchMap = field(default_factory=BranchMap)
    selection: Selection = field(default_factory=Selection)
    process: str = UNKNOWN_PROCESS
    label: int = -1
    kind: str = "nanoaod"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "mapping": self.mapping.to_dict(), "process": self.process, "label": self.label}

    # ------------------------------------------------------------------ file facts
    def inspect(self, path: str | Path) -> dict:
        """Entries and which mapped branches exist; a clear InputError for a missing required branch. ``path``:
        a local file or a URL (``root://``, ``https://``, ``s3://``), optionally ``…/file.root:Tree``."""
        import uproot

        inp = sources.parse(path)
        tree_name = inp.tree or self.mapping.tree
        path = inp.location
        if inp.remote:
            sources.check_handler(inp)
        elif not Path(path).exists():
            raise InputError(f"{path}: no such file")
        elif Path(path).stat().st_size == 0:
            raise InputError(f"{path}: empty file (0 bytes), not a ROOT file")
        try:
            with uproot.open(path) as f:
                if tree_name not in f:
                    raise InputError(f"{path}: no tree '{tree_name}' (has: {', '.join(f.keys()) or 'nothing'})")
                tree = f[tree_name]
                names = set(tree.keys())
                n = int(tree.num_entries)
                info_json = f[INFO_NAME] if INFO_NAME in f else None
                info_json = str(info_json) if info_json is not None else None
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"{path}: not a readable ROOT file ({type(exc).__name__}: {short_message(exc)})") from None
        b = self.mapping.branches
        for q in REQUIRED:
            if b[q] not in names:
                raise InputError(f"{path}: required branch '{b[q]}' ({q}) is missing from tree '{tree_name}'")
        present = {q: b[q] for q in (*OPTIONAL, *PF_FIELDS, *LUND_FIELDS, *EVENT_FIELDS) if b.get(q) and b[q] in names}
        has_pf = all(q in present for q in PF_REQUIRED)
        notes = []
        if not has_pf and any(q in present for q in PF_FIELDS):
            missing = [b[q] or f"{q} (switched off)" for q in PF_REQUIRED if q not in present]
            notes.append(f"{path}: PF candidates not used, missing branch(es) {', '.join(map(str, missing))}")
        processes = None
        if info_json:
            try:
                processes = json.loads(info_json).get("process_names")
            except (json.JSONDecodeError, AttributeError):  # not JSON, or not a JSON object
                processes = None
            if processes is not None and not (
                isinstance(processes, list) and processes and all(isinstance(p, str) for p in processes)
            ):
                processes = None
            if processes is None:
                notes.append(f"{path}: '{INFO_NAME}' is not a valid EventSet description; process names not used")
        return {
            "tree": tree_name,
            "n_entries": n,
            "has_truth": "label" in present,
            "present": present,
            "has_pf": has_pf,
            "has_lund": all(q in present for q in LUND_FIELDS),
            "absent": [q for q in OPTIONAL if q not in present and not has_pf],
            "process_names": processes,
            "notes": notes,
        }

    def tau_axes(self, info: dict) -> str | None:
        """The τ_N convention of one file's jets: its own branches, recomputed from PF candidates, or none."""
        if any(f"tau{i}" in info["present"] for i in range(1, 5)):
            return "stored"
        return tau_axes_name(self.selection) if info["has_pf"] else None

    # ------------------------------------------------------------------ reading
    def read_chunk(
        self, path: str | Path, start: int, stop: int, first_id: int, info: dict
    ) -> tuple[ak.Array, list[str]]:
        import uproot

        path = sources.parse(path).location

        b = self.mapping.branches
        present = info["present"]
        jet_q = [*REQUIRED, *[q for q in OPTIONAL if q in present]]
        want = [b[q] for q in jet_q] + [present[q] for q in EVENT_FIELDS if q in present]
        if info["has_pf"]:
            want += [present[q] for q in PF_FIELDS if q in present]
        if info["has_lund"]:
            want += [present[q] for q in LUND_FIELDS]
        try:
            with uproot.open(path) as f:
                arr = f[info.get("tree", self.mapping.tree)].arrays(
                    want, entry_start=start, entry_stop=stop, library="ak"
                )
        except Exception as exc:
            raise InputError(
                f"{path}: entries {start}-{stop}: cannot be read ({type(exc).__name__}: {short_message(exc)})"
            ) from None
        warnings = []
        jets = ak.zip({q: arr[b[q]] for q in jet_q})
        finite = np.ones(len(arr), dtype=bool)
        for q in jet_q:
            if q not in MAY_BE_NAN:
                finite &= ak.to_numpy(ak.all(np.isfinite(jets[q]), axis=1))
        if not finite.all():
            warnings.append(
                f"{path}: {int((~finite).sum())} event(s) with NaN/inf jet values dropped "
                f"(entries {row_list(np.flatnonzero(~finite) + start)})"
            )
        if "weight" in present:
            bad_w = ~np.isfinite(ak.to_numpy(arr[present["weight"]]).astype(np.float64))
            if bad_w.any():
                warnings.append(
                    f"{path}: {int(bad_w.sum())} event(s) with NaN/inf {present['weight']} dropped "
                    f"(entries {row_list(np.flatnonzero(bad_w) + start)})"
                )
                finite &= ~bad_w
        self._check_truth(path, arr, present, info, start)
        sel = self.selection
        ok = (jets.pt > sel.jet_pt_min) & (np.abs(jets.eta) < sel.jet_eta_max)
        index = ak.local_index(jets.pt)[ok]
        jets = jets[ok]
        order = ak.argsort(jets.pt, axis=1, ascending=False)
        jets, index = jets[order][:, :2], index[order][:, :2]
        two = (ak.to_numpy(ak.num(jets)) == 2) & finite
        p4 = ak.zip(four_vectors(*(ak.values_astype(jets[q], np.float64) for q in ("pt", "eta", "phi", "mass"))))
        mjj = np.zeros(len(arr))
        deta = np.full(len(arr), np.inf)
        if two.any():
            mjj[two] = pair_mass(p4[two])
            deta[two] = np.abs(ak.to_numpy(jets.eta[two][:, 0] - jets.eta[two][:, 1]))
        keep = two & (deta < sel.deta_store) & (mjj >= sel.mjj_min)
        k = int(keep.sum())
        if k == 0:
            return None, warnings
        jets, index, p4, ev = jets[keep], index[keep], p4[keep], arr[keep]

        per_jet = {}
        cons = _constituents(ev, index, present) if info["has_pf"] else None
        computed = None
        if cons is not None and (
            any(
                q not in present
                for q in ("msoftdrop", "tau1", "tau2", "tau3", "tau4", "n_constituents", "lepton_fraction")
            )
            or not info["has_lund"]
        ):
            rng = np.random.default_rng(0)  # unused: no hadron record, so no b-tag is drawn
            computed = jet_features(p4, cons, sel, None, rng)
        for slot, name in enumerate(("j1", "j2")):
            rec = {}
            if computed is not None:
                rec = {f: computed[name][f] for f in computed[name].fields if f not in ("btag", "hadron_flavour")}
            if cons is not None:
                rec["constituents"] = stored_constituents(cons[:, slot])
            if info["has_lund"]:
                rec["lund"] = _lund(ev, index[:, slot], present)
            rec.update(_branch_features(jets[:, slot], present))
            per_jet[name] = ak.zip({f: rec[f] for f in JET_ORDER if f in rec}, depth_limit=1)

        label, process = self._truth(ev, present, info, k)
        weight = (
            ak.to_numpy(ev[present["weight"]]).astype(np.float32) if "weight" in present else np.ones(k, np.float32)
        )
        fields = {
            "mjj": mjj[keep].astype(np.float32),
            "deta": deta[keep].astype(np.float32),
            "event_id": (
                ak.to_numpy(ev[present["event_id"]]).astype(np.int64)
                if "event_id" in present
                else first_id + np.flatnonzero(keep).astype(np.int64)
            ),
            "weight": weight,
            "label": label,
            "process": process,
            "pthat": np.full(k, np.nan, dtype=np.float32),
            **per_jet,
        }
        return ak.zip(fields, depth_limit=1), warnings

    @staticmethod
    def _check_truth(path, arr, present, info, start) -> None:
        """Labels are -1, 0 or 1 and process ids index the file's process names: anything else is refused, not
        wrapped into another class (257 → 1 made background into signal) or another process."""
        if "label" in present:
            raw = ak.to_numpy(arr[present["label"]])
            bad = ~np.isin(raw, (-1, 0, 1))
            if bad.any():
                raise InputError(
                    f"{path}: branch '{present['label']}' (label) holds {sorted(set(raw[bad].tolist()))[:5]} at entries "
                    f"{row_list(np.flatnonzero(bad) + start)}; labels are -1 (unknown), 0 (background), 1 (signal)"
                )
        names = info.get("process_names")
        if names and "process_id" in present:
            pid = ak.to_numpy(arr[present["process_id"]])
            bad = (pid < 0) | (pid >= len(names)) | (pid != np.round(pid))
            if bad.any():
                raise InputError(
                    f"{path}: branch '{present['process_id']}' (process_id) holds {sorted(set(pid[bad].tolist()))[:5]} "
                    f"at entries {row_list(np.flatnonzero(bad) + start)}; the file names {len(names)} processes "
                    f"(ids 0–{len(names) - 1})"
                )

    def _truth(self, ev, present, info, k) -> tuple[np.ndarray, np.ndarray]:
        if "label" not in present:
            return np.full(k, self.label, dtype=np.int8), np.full(k, self.process).astype(str)
        label = ak.to_numpy(ev[present["label"]]).astype(np.int8)
        names = info.get("process_names")
        if names and "process_id" in present:
            pid = ak.to_numpy(ev[present["process_id"]]).astype(np.int64)
            return label, np.asarray(names, dtype=object)[pid].astype(str)
        return label, np.where(label == 1, "signal", np.where(label == 0, "qcd", UNKNOWN_PROCESS)).astype(str)


def _branch_features(jet: ak.Array, present: dict) -> dict:
    """Per-jet fields from branch values (one jet slot, numpy per field), in the EventSet's dtypes."""
    out = {}
    for q in (*REQUIRED, *OPTIONAL):
        if q in jet.fields:
            v = ak.to_numpy(jet[q])
            if q == "n_constituents":
                out[q] = v.astype(np.int32)
            elif q == "hadron_flavour":
                out[q] = v.astype(np.int8)
            else:
                out[q] = v.astype(np.float32)
    taus = [f"tau{i}" for i in range(1, 5)]
    for num, den in ((2, 1), (3, 2), (4, 3)):
        a, b = f"tau{num}", f"tau{den}"
        if a in out and b in out:
            out[f"tau{num}{den}"] = np.divide(out[a], out[b], out=np.zeros_like(out[a]), where=out[b] > 0)
    return {k: out[k] for k in (*REQUIRED, "msoftdrop", *taus, "tau21", "tau32", "tau43", *OPTIONAL) if k in out}


def _lund(ev: ak.Array, jet_index: ak.Array, present: dict) -> ak.Array:
    """The stored primary Lund declusterings of one jet slot (rows whose jet index is the selected jet)."""
    mine = ev[present["lund_jet_index"]] == jet_index
    return ak.zip(
        {
            out: ak.values_astype(ev[present[q]][mine], np.float32)
            for out, q in (("ln_inv_delta", "lund_ln_inv_delta"), ("ln_kt", "lund_ln_kt"), ("z", "lund_z"))
        }
    )


def _constituents(ev: ak.Array, index: ak.Array, present: dict) -> ak.Array:
    """(n, 2, var) PF candidates {px, py, pz, E, cls} of the two selected jets, through PFNano's index maps."""
    pdg = ev[present["pf_pdg_id"]] if "pf_pdg_id" in present else None
    cls = ak.zeros_like(ev[present["pf_pt"]], dtype=np.int8) - 1
    if pdg is not None:
        apdg = abs(pdg)
        for p, c in PDG_CLASS.items():
            cls = ak.where(apdg == p, np.int8(c), cls)
    counts = ak.num(ev[present["pf_pt"]])
    cands = particles_from_ptetaphi(
        *(ak.to_numpy(ak.flatten(ev[present[q]])) for q in ("pf_pt", "pf_eta", "pf_phi", "pf_mass")),
        ak.to_numpy(ak.flatten(cls)),
        ak.to_numpy(counts),
    )
    jet_idx, cand_idx = ev[present["pf_jet_index"]], ev[present["pf_cand_index"]]
    n_cands = ak.to_numpy(counts)
    slots = []
    for slot in (0, 1):
        mine = cand_idx[jet_idx == index[:, slot]]
        bad = ak.to_numpy(ak.any((mine < 0) | (mine >= n_cands), axis=1))
        if bad.any():
            raise InputError(
                f"{present['pf_cand_index']}: candidate index outside PFCands in {int(bad.sum())} event(s)"
            )
        slots.append(cands[mine][:, None])
    return ak.concatenate(slots, axis=1)


# ---------------------------------------------------------------------- writing
def export_root(es: EventSet, path: str | Path) -> Path:
    """An EventSet as a NanoAOD-like ROOT file (tree ``Events``, default branch names), written atomically.

    Jets: ``FatJet_*`` (two per event); constituents as ``PFCands_*`` with PFNano's index maps; event
    fields ``mjj``, ``deta``, ``event_id``, ``genWeight``, ``label`` and ``process_id`` (names in the
    ``anomalyscope_eventset`` string). Reading it back with the default mapping gives the same EventSet.
    """
    import uproot

    path = Path(path)
    arr = es.load(truth=True)
    names = sorted(set(ak.to_numpy(arr.process).astype(str)))
    pid = np.searchsorted(names, ak.to_numpy(arr.process).astype(str))
    b = DEFAULT_BRANCHES
    jet_fields = [q for q in (*REQUIRED, *OPTIONAL) if q in arr.j1.fields and b.get(q)]
    fatjet = {}
    for q in jet_fields:
        col = np.stack([ak.to_numpy(arr.j1[q]), ak.to_numpy(arr.j2[q])], axis=1)
        fatjet[b[q].removeprefix("FatJet_")] = ak.unflatten(col.reshape(-1), np.full(len(arr), 2))
    branches = {
        "event_id": ak.to_numpy(arr.event_id).astype(np.int64),
        "mjj": ak.to_numpy(arr.mjj),
        "deta": ak.to_numpy(arr.deta),
        b["weight"]: ak.to_numpy(arr.weight),
        "label": ak.to_numpy(arr.label).astype(np.int32),
        "process_id": pid.astype(np.int32),
        "FatJet": ak.zip(fatjet),
    }
    if "constituents" in arr.j1.fields:
        c1, c2 = arr.j1.constituents, arr.j2.constituents
        cons = ak.concatenate([c1, c2], axis=1)
        pt = np.hypot(cons.px, cons.py)
        eta = np.arcsinh(cons.pz / pt)
        c64 = {k: ak.values_astype(cons[k], np.float64) for k in ("px", "py", "pz", "E")}
        m2 = c64["E"] ** 2 - c64["px"] ** 2 - c64["py"] ** 2 - c64["pz"] ** 2
        cls = ak.to_numpy(ak.flatten(cons.cls))
        pdg = np.select([cls == c for c in CLASS_PDG], list(CLASS_PDG.values()), default=0)
        branches["PFCands"] = ak.zip(
            {
                "pt": ak.values_astype(pt, np.float32),
                "eta": ak.values_astype(eta, np.float32),
                "phi": ak.values_astype(np.arctan2(cons.py, cons.px), np.float32),
                "mass": ak.values_astype(np.sqrt(np.maximum(m2, 0.0)), np.float32),
                "pdgId": ak.unflatten(pdg.astype(np.int32), ak.num(cons)),
            }
        )
        jet_idx = ak.concatenate([ak.zeros_like(c1.px, dtype=np.int32), ak.ones_like(c2.px, dtype=np.int32)], axis=1)
        branches["FatJetPFCands"] = ak.zip(
            {"jetIdx": jet_idx, "pFCandsIdx": ak.values_astype(ak.local_index(cons.px), np.int32)}
        )
    if "lund" in arr.j1.fields:
        l1, l2 = arr.j1.lund, arr.j2.lund
        lund = ak.concatenate([l1, l2], axis=1)
        branches["FatJetLund"] = ak.zip(
            {
                "lnInvDelta": lund.ln_inv_delta,
                "lnKt": lund.ln_kt,
                "z": lund.z,
                "jetIdx": ak.concatenate(
                    [ak.zeros_like(l1.z, dtype=np.int32), ak.ones_like(l2.z, dtype=np.int32)], axis=1
                ),
            }
        )
    info = json.dumps({"name": es.name, "process_names": names, "source": es.schema.get("source")})
    with temp_sibling(path) as tmp, uproot.recreate(tmp) as f:
        # mktree + extend writes a TTree (assigning a dict would write an RNTuple in uproot >= 5.7)
        f.mktree("Events", {k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in branches.items()})
        f["Events"].extend(branches)
        f[INFO_NAME] = info
    return path
