"""τ_N conventions: every EventSet records which axes its τ_N came from, and mixing conventions is warned of.

CMS NanoAOD stores τ_N with one-pass kT axes; anomalyscope computes them with exclusive-kT axes. The two differ
jet by jet, so τ ratios from a file's branches and recomputed ones must not silently meet in one sample or Run.
"""

from __future__ import annotations

import pytest

from anomalyscope.core.data import inject
from anomalyscope.core.data.ingest import ingest
from anomalyscope.core.data.nanoaod import BranchMap, NanoAODFormat, export_root
from anomalyscope.core.errors import InputWarning
from anomalyscope.core.features.jets import combined_tau_axes

TAU_OFF = {q: None for q in ("tau1", "tau2", "tau3", "tau4")}


def _read(paths, out, **mapping):
    fmt = NanoAODFormat(mapping=BranchMap(branches={**BranchMap().branches, **mapping}), process="qcd", label=0)
    return ingest([str(p) for p in paths], fmt, out, scheduler=None, progress=False)


def test_one_convention_is_kept_and_a_mix_is_named_sample_by_sample():
    assert combined_tau_axes({"a": "exclusive_kt", "b": "exclusive_kt", "c": None}) == ("exclusive_kt", None)
    assert combined_tau_axes({"a": None}) == (None, None)
    kind, note = combined_tau_axes({"gen": "exclusive_kt", "nano": "stored"})
    assert kind == "mixed"
    assert "exclusive-kT axes (anomalyscope): gen" in note and "CMS NanoAOD: one-pass kT axes): nano" in note


def test_each_source_records_its_tau_axes_and_a_mixed_read_warns(qcd_es, tmp_path):
    assert qcd_es.schema["tau_axes"] == "exclusive_kt"  # generated: computed by us
    nano = export_root(qcd_es, tmp_path / "nano.root")
    assert _read([nano], tmp_path / "stored").schema["tau_axes"] == "stored"
    assert _read([nano], tmp_path / "recomputed", **TAU_OFF).schema["tau_axes"] == "exclusive_kt"
    # a NanoAOD file without τ branches or PF candidates has no τ_N at all
    no_tau = {**TAU_OFF, **{q: None for q in ("pf_pt", "pf_eta", "pf_phi", "pf_mass", "pf_jet_index", "pf_cand_index")}}
    assert _read([nano], tmp_path / "none", **no_tau).schema.get("tau_axes") is None

    without = _without_tau_branches(nano, tmp_path / "without.root")
    with pytest.warns(InputWarning, match="not all of one convention"):
        mixed = ingest([str(nano), str(without)], NanoAODFormat(process="qcd", label=0), tmp_path / "both",
                       scheduler=None, progress=False)  # fmt: skip
    assert mixed.schema["tau_axes"] == "mixed"
    assert [f["tau_axes"] for f in mixed.schema["source"]["files"]] == ["stored", "exclusive_kt"]


def _without_tau_branches(src, dst):
    """A copy of a NanoAOD file with its jets and PF candidates but no FatJet_tau* branches."""
    import awkward as ak
    import uproot

    with uproot.open(src) as f:
        t = f["Events"]
        out = {}
        for prefix in ("FatJet", "PFCands", "FatJetPFCands"):
            names = [k for k in t.keys() if k.startswith(prefix + "_") and not k.startswith("FatJet_tau")]
            arr = t.arrays(names, library="ak")
            out[prefix] = ak.zip({k[len(prefix) + 1 :]: arr[k] for k in names})
        flat = [k for k in ("event_id", "genWeight") if k in t.keys()]
        out.update({k: t[k].array(library="np") for k in flat})
    with uproot.recreate(dst) as f:
        f.mktree("Events", {k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in out.items()})
        f["Events"].extend(out)
    return dst


def test_injecting_a_signal_of_another_convention_warns_and_records_mixed(qcd_es, signal_es, tmp_path):
    nano = export_root(signal_es, tmp_path / "signal.root")
    fmt = NanoAODFormat(process="wprime_xy", label=1)
    stored = ingest([str(nano)], fmt, tmp_path / "signal", scheduler=None, progress=False)
    with pytest.warns(InputWarning) as caught:
        mixed = inject(qcd_es, stored, 20, tmp_path / "data", seed=1)
    said = " | ".join(str(w.message) for w in caught)
    assert "not all of one convention" in said
    assert "left out: partons" in said  # generator quarks exist only in the generated sample
    assert mixed.schema["tau_axes"] == "mixed"
    same = inject(qcd_es, signal_es, 20, tmp_path / "same", seed=1)
    assert same.schema["tau_axes"] == "exclusive_kt"
