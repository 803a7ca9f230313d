"""Readers of real formats (LHC Olympics HDF5, NanoAOD-like ROOT), export, and chunked / Dask ingestion."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from anomalyscope.core.data import EventSet, inject
from anomalyscope.core.data.ingest import ingest
from anomalyscope.core.data.lhco import LHCOFormat, eventset_hadrons, export_lhco, write_lhco_table
from anomalyscope.core.data.nanoaod import BranchMap, NanoAODFormat, export_root
from anomalyscope.core.errors import InputError, InputWarning
from anomalyscope.core.features import Selection
from anomalyscope.core.methods.events import Events

R08 = Selection()  # the generator's jet definition, so read-back events can be compared with the originals


def back_to_back(n: int, pt: float = 1500.0, eta: float = 0.5) -> np.ndarray:
    """n events of two massless hadrons at (pT, ±η), back to back in φ: m_jj = 2 pT cosh(η)."""
    had = np.zeros((n, 2, 3))
    had[:, 0] = [pt, eta, 0.0]
    had[:, 1] = [pt, -eta, np.pi]
    return had


def read(paths, fmt, out, **kw):
    return ingest(paths, fmt, out, scheduler=kw.pop("scheduler", None), progress=False, **kw)


def fields_equal(a: ak.Array, b: ak.Array, names) -> None:
    for name in names:
        assert ak.array_equal(a[name], b[name], equal_nan=True), name


# ---------------------------------------------------------------------- LHC Olympics layout
def test_lhco_known_mass_labels_and_ids(tmp_path):
    labels = np.r_[np.zeros(30), np.ones(20)]
    write_lhco_table(tmp_path / "rnd.h5", back_to_back(50), labels)
    es = read([tmp_path / "rnd.h5"], LHCOFormat(), tmp_path / "es")
    arr = es.load(truth=True)
    assert len(arr) == 50
    np.testing.assert_allclose(ak.to_numpy(arr.mjj), 2 * 1500.0 * np.cosh(0.5), rtol=1e-6)
    np.testing.assert_allclose(ak.to_numpy(arr.deta), 1.0, rtol=1e-6)
    assert ak.to_list(arr.label) == labels.astype(int).tolist()
    assert es.counts == {"qcd": 30, "lhco_signal": 20}
    assert ak.to_list(arr.event_id) == list(range(50))
    assert es.schema["selection"]["jet_r"] == 1.0  # the LHCO papers' jets by default
    assert np.isnan(ak.to_numpy(arr.j1.lepton_fraction)).all()  # hadrons of unknown class
    assert ak.all(arr.j1.constituents.cls == -1)


def test_lhco_black_box_has_unknown_truth(tmp_path):
    write_lhco_table(tmp_path / "bb.h5", back_to_back(10))
    es = read([tmp_path / "bb.h5"], LHCOFormat(), tmp_path / "es")
    assert (es.truth() == -1).all()
    assert es.counts == {"unknown": 10}


def test_lhco_file_layout_is_the_published_one(tmp_path):
    import h5py
    import pandas as pd

    write_lhco_table(tmp_path / "f.h5", back_to_back(4), np.zeros(4))
    with h5py.File(tmp_path / "f.h5") as f:
        assert set(f["df"]) == {"axis0", "axis1", "block0_items", "block0_values"}
        assert f["df/block0_values"].shape == (4, 2101)
    df = pd.read_hdf(tmp_path / "f.h5")
    assert list(df.columns) == list(range(2101))
    assert df.iloc[0, :6].tolist() == [1500.0, 0.5, 0.0, 1500.0, -0.5, np.pi]


def test_lhco_from_generated_events_reproduces_the_generator(tmp_path, qcd_es, signal_es):
    """Generated events written in the LHCO layout and read back give the generator's jets again."""
    mixed = inject(qcd_es, signal_es, 50, tmp_path / "mixed", seed=3)
    export_lhco(mixed, tmp_path / "rnd.h5")
    es = read([tmp_path / "rnd.h5"], LHCOFormat(selection=R08), tmp_path / "es")
    a, b = mixed.load(truth=True), es.load(truth=True)
    assert len(b) >= 0.97 * len(a)
    idx = ak.to_numpy(b.event_id)  # row in the file = position in the exported EventSet
    assert (ak.to_numpy(a.label)[idx] == ak.to_numpy(b.label)).all()
    rel = np.abs(ak.to_numpy(b.mjj) / ak.to_numpy(a.mjj)[idx] - 1)
    assert np.median(rel) < 1e-3 and np.percentile(rel, 90) < 0.01  # hadrons taken massless, ≤ 100 per jet
    assert es.counts["lhco_signal"] == int((ak.to_numpy(b.label) == 1).sum())


def test_lhco_export_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    had = np.zeros((40, 60, 3))
    for k, (eta0, phi0) in enumerate(((0.3, 0.2), (-0.6, 0.2 + np.pi))):
        had[:, 30 * k : 30 * (k + 1), 0] = rng.exponential(40.0, (40, 30)) + 1.0
        had[:, 30 * k : 30 * (k + 1), 1] = eta0 + rng.normal(0, 0.15, (40, 30))
        had[:, 30 * k : 30 * (k + 1), 2] = phi0 + rng.normal(0, 0.15, (40, 30))
    had[:, :2, 0] = 800.0  # hard cores: both jets pass pT > 300 GeV
    had[:, 30:32, 0] = 800.0
    write_lhco_table(tmp_path / "a.h5", had, np.ones(40))
    first = read([tmp_path / "a.h5"], LHCOFormat(selection=R08), tmp_path / "es1")
    export_lhco(first, tmp_path / "b.h5")
    second = read([tmp_path / "b.h5"], LHCOFormat(selection=R08), tmp_path / "es2")
    a, b = first.load(truth=True), second.load(truth=True)
    assert len(a) == len(b) == 40
    fields_equal(a, b, ["event_id", "label", "process"])
    np.testing.assert_allclose(ak.to_numpy(a.mjj), ak.to_numpy(b.mjj), rtol=1e-5)
    for f in ("pt", "mass", "msoftdrop", "tau1", "tau2", "n_constituents"):
        np.testing.assert_allclose(ak.to_numpy(a.j1[f]), ak.to_numpy(b.j1[f]), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- NanoAOD-like ROOT
def test_nanoaod_export_round_trip(tmp_path, qcd_es):
    export_root(qcd_es, tmp_path / "nano.root")
    with uproot.open(tmp_path / "nano.root") as f:
        names = set(f["Events"].keys())
    assert {"FatJet_pt", "FatJet_msoftdrop", "FatJet_tau4", "PFCands_pt", "FatJetPFCands_pFCandsIdx"} <= names
    es = read([tmp_path / "nano.root"], NanoAODFormat(), tmp_path / "es")
    a, b = qcd_es.load(truth=True), es.load(truth=True)
    a = a[[f for f in a.fields if f != "partons"]]  # generator quarks are not exported
    assert a.type == b.type
    fields_equal(a, b, ["event_id", "label", "process", "weight"])
    for f in ("pt", "eta", "phi", "mass", "msoftdrop", "tau1", "tau4", "n_constituents", "btag", "lund"):
        fields_equal(a.j1, b.j1, [f])
        fields_equal(a.j2, b.j2, [f])
    np.testing.assert_allclose(ak.to_numpy(a.mjj), ak.to_numpy(b.mjj), rtol=1e-6)  # recomputed from float32 jets
    np.testing.assert_allclose(ak.to_numpy(a.j1.tau21), ak.to_numpy(b.j1.tau21), rtol=1e-6)
    ca, cb = ak.flatten(a.j1.constituents), ak.flatten(b.j1.constituents)
    assert ak.all(ca.cls == cb.cls)
    np.testing.assert_allclose(ak.to_numpy(cb.px), ak.to_numpy(ca.px), rtol=1e-5, atol=1e-4)


def test_nanoaod_computes_missing_substructure_from_pf_candidates(tmp_path, qcd_es):
    """With τ and soft-drop branches switched off, they are recomputed from the PF candidates."""
    export_root(qcd_es, tmp_path / "nano.root")
    off = {q: None for q in ("msoftdrop", "tau1", "tau2", "tau3", "tau4", "lund_ln_kt")}
    fmt = NanoAODFormat(mapping=BranchMap(branches={**BranchMap().branches, **off}))
    es = read([tmp_path / "nano.root"], fmt, tmp_path / "es")
    a, b = qcd_es.load(truth=True), es.load(truth=True)
    small = ak.to_numpy(a.j1.n_constituents) <= 100  # every constituent stored: same inputs, same answer
    assert small.sum() > 10
    # float32 storage of the candidates (pT, η, φ, m) can flip a near-tie in the exclusive-kT axis finding,
    # and moves groomed masses below a few GeV (one or two particles left) by O(0.1 GeV)
    for f, atol in (("tau21", 1e-3), ("tau32", 1e-3), ("msoftdrop", 0.2)):
        x, y = ak.to_numpy(b.j1[f])[small], ak.to_numpy(a.j1[f])[small]
        close = np.isclose(x, y, rtol=1e-3, atol=atol)
        assert close.mean() > 0.97, (f, close.mean())
    assert np.mean(ak.to_numpy(ak.num(b.j1.lund)[small] == ak.num(a.j1.lund)[small])) > 0.97


def _write_tree(path, branches: dict, tree: str = "Events"):
    with uproot.recreate(path) as f:
        f.mktree(tree, {k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in branches.items()})
        f[tree].extend(branches)


def _fatjets(n: int, **extra) -> dict:
    """n events with three fat jets: two hard back-to-back ones and a soft third (must not be chosen)."""
    pt = np.tile([1200.0, 1100.0, 50.0], (n, 1)).astype(np.float32)
    eta = np.tile([0.4, -0.4, 1.0], (n, 1)).astype(np.float32)
    phi = np.tile([0.0, np.pi, 1.0], (n, 1)).astype(np.float32)
    mass = np.tile([80.0, 30.0, 5.0], (n, 1)).astype(np.float32)
    jets = {"pt": pt, "eta": eta, "phi": phi, "mass": mass, **extra}
    return {"FatJet": ak.zip({k: ak.from_regular(ak.Array(v)) for k, v in jets.items()})}


def test_nanoaod_without_optional_branches_degrades(tmp_path):
    msd = np.tile([75.0, 25.0, 4.0], (20, 1)).astype(np.float32)
    _write_tree(tmp_path / "f.root", _fatjets(20, msoftdrop=msd))
    es = read([tmp_path / "f.root"], NanoAODFormat(process="qcd", label=0), tmp_path / "es")
    arr = es.load(truth=True)
    assert arr.j1.fields == ["pt", "eta", "phi", "mass", "msoftdrop"]
    assert ak.all(arr.j1.pt == 1200.0) and ak.all(arr.j2.msoftdrop == 25.0)
    four = [
        np.array([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), np.hypot(pt * np.cosh(eta), m)])
        for pt, eta, phi, m in ((1200.0, 0.4, 0.0, 80.0), (1100.0, -0.4, np.pi, 30.0))
    ]
    s = four[0] + four[1]
    np.testing.assert_allclose(ak.to_numpy(arr.mjj), np.sqrt(s[3] ** 2 - s[:3] @ s[:3]), rtol=1e-5)
    assert es.counts == {"qcd": 20} and (es.truth() == 0).all()
    ev = Events.from_eventset(es)
    assert ev.feature_names == ("msoftdrop",)
    with pytest.raises(InputError, match="jet feature 'tau21' is not available"):
        ev.feature("tau21")
    with pytest.raises(InputError, match="no constituents"):
        ev.constituents()


def test_nanoaod_branch_mapping_file(tmp_path):
    jets = _fatjets(5)["FatJet"]
    _write_tree(
        tmp_path / "f.root",
        {"AK8": ak.zip({"PT": jets.pt, "ETA": jets.eta, "PHI": jets.phi, "M": jets.mass})},
        tree="t",
    )
    (tmp_path / "map.yaml").write_text(
        "tree: t\nbranches:\n  pt: AK8_PT\n  eta: AK8_ETA\n  phi: AK8_PHI\n  mass: AK8_M\n"
    )
    es = read([tmp_path / "f.root"], NanoAODFormat(mapping=BranchMap.from_file(tmp_path / "map.yaml")), tmp_path / "es")
    assert len(es) == 5
    (tmp_path / "bad.yaml").write_text("branches:\n  ptt: X\n")
    with pytest.raises(InputError, match=r"bad.yaml: field 'branches' has unknown quantities \['ptt'\]"):
        BranchMap.from_file(tmp_path / "bad.yaml")
    (tmp_path / "null.yaml").write_text("branches:\n  pt: null\n")
    with pytest.raises(InputError, match="branches.pt is required"):
        BranchMap.from_file(tmp_path / "null.yaml")


def test_nanoaod_missing_required_branch_names_branch_and_file(tmp_path):
    branches = _fatjets(5)
    branches["FatJet"] = branches["FatJet"][["pt", "eta", "phi"]]
    _write_tree(tmp_path / "nomass.root", branches)
    with pytest.raises(InputError, match=r"nomass.root: required branch 'FatJet_mass' \(mass\) is missing"):
        read([tmp_path / "nomass.root"], NanoAODFormat(), tmp_path / "es")


# ---------------------------------------------------------------------- bad input
def test_corrupt_files_fail_clearly_and_good_files_complete(tmp_path, qcd_es):
    write_lhco_table(tmp_path / "good.h5", back_to_back(20), np.zeros(20))
    data = (tmp_path / "good.h5").read_bytes()
    (tmp_path / "truncated.h5").write_bytes(data[: len(data) // 3])
    (tmp_path / "text.h5").write_text("not an HDF5 file\n")
    with pytest.raises(InputError) as err:
        read([tmp_path / "good.h5", tmp_path / "truncated.h5", tmp_path / "text.h5"], LHCOFormat(), tmp_path / "es")
    msg = str(err.value)
    # named what is wrong, not "HDF5 error back trace"; the first line stands alone, one line per file follows
    first, *files = msg.splitlines()
    assert first.startswith("2 inputs cannot be read (finished chunks are kept in") and len(files) == 2
    assert f"  {tmp_path / 'truncated.h5'}: a damaged HDF5 file (" in files[0] and "back trace" not in msg
    assert (
        files[1] == f"  {tmp_path / 'text.h5'}: not an HDF5 file (no HDF5 signature); the LHC Olympics files are HDF5"
    )
    assert "good.h5" not in msg
    assert not (tmp_path / "es").exists()
    # the good file's chunk is done; --skip-bad publishes it and records what was left out
    es = read(
        [tmp_path / "good.h5", tmp_path / "truncated.h5", tmp_path / "text.h5"],
        LHCOFormat(),
        tmp_path / "es",
        skip_bad=True,
    )
    assert len(es) == 20 and len(es.schema["skipped"]) == 2

    export_root(qcd_es, tmp_path / "nano.root")
    raw = (tmp_path / "nano.root").read_bytes()
    (tmp_path / "cut.root").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut.root: (not a readable ROOT file|entries 0-\d+: cannot be read)"):
        read([tmp_path / "cut.root"], NanoAODFormat(), tmp_path / "es_root")
    (tmp_path / "zero.root").write_bytes(b"")
    with pytest.raises(InputError, match="zero.root: empty file"):
        read([tmp_path / "zero.root"], NanoAODFormat(), tmp_path / "es_root")


def test_wrong_column_count(tmp_path):
    import pandas as pd

    pd.DataFrame(np.zeros((3, 2099))).to_hdf(tmp_path / "w.h5", key="df")
    with pytest.raises(InputError, match=r"w.h5: key '/df' has 2099 columns; the LHCO layout has 2100"):
        read([tmp_path / "w.h5"], LHCOFormat(), tmp_path / "es")


def test_nan_rows_dropped_with_warning(tmp_path):
    had = back_to_back(10)
    had[3, 0, 0] = np.nan
    had[7, 1, 1] = np.inf
    write_lhco_table(tmp_path / "n.h5", had, np.zeros(10))
    with pytest.warns(InputWarning, match=r"n.h5: 2 event\(s\) with NaN/inf values dropped \(rows 3, 7\)"):
        es = read([tmp_path / "n.h5"], LHCOFormat(), tmp_path / "es")
    assert sorted(ak.to_list(es.load(["event_id"]).event_id)) == [0, 1, 2, 4, 5, 6, 8, 9]


def test_empty_and_nothing_selected(tmp_path):
    write_lhco_table(tmp_path / "empty.h5", np.zeros((0, 2, 3)), np.zeros(0))
    write_lhco_table(tmp_path / "soft.h5", back_to_back(5, pt=100.0), np.zeros(5))  # jets below 300 GeV
    write_lhco_table(tmp_path / "good.h5", back_to_back(5), np.zeros(5))
    with pytest.warns(InputWarning) as record:
        es = read([tmp_path / "empty.h5", tmp_path / "soft.h5", tmp_path / "good.h5"], LHCOFormat(), tmp_path / "es")
    text = [str(w.message) for w in record]
    assert any("empty.h5: holds no events" in t for t in text)
    assert any("soft.h5: none of its 5 events pass the selection" in t for t in text)
    assert len(es) == 5 and es.schema["warnings"]
    with pytest.raises(InputError, match="no event in 1 file"), pytest.warns(InputWarning):
        read([tmp_path / "soft.h5"], LHCOFormat(), tmp_path / "es2")


def test_failure_leaves_existing_eventset_intact(tmp_path):
    write_lhco_table(tmp_path / "good.h5", back_to_back(6), np.zeros(6))
    (tmp_path / "bad.h5").write_text("junk")
    first = read([tmp_path / "good.h5"], LHCOFormat(), tmp_path / "es")
    before = first.load(truth=True)
    with pytest.raises(InputError, match="bad.h5"):
        read([tmp_path / "bad.h5"], LHCOFormat(), tmp_path / "es", overwrite=True)
    assert ak.array_equal(EventSet.open(tmp_path / "es").load(truth=True), before, equal_nan=True)


def test_failed_chunk_is_retried_alone(tmp_path, monkeypatch):
    for name in ("a", "b"):
        write_lhco_table(tmp_path / f"{name}.h5", back_to_back(30), np.zeros(30))
    calls = []
    original = LHCOFormat.read_chunk

    def flaky(self, path, start, stop, first_id, info):
        name = Path(path).name  # a chunk names its input as a string (a local path or a URL)
        calls.append((name, start))
        if name == "b.h5" and start == 10 and len([c for c in calls if c == ("b.h5", 10)]) == 1:
            raise OSError("disk hiccup")
        return original(self, path, start, stop, first_id, info)

    monkeypatch.setattr(LHCOFormat, "read_chunk", flaky)
    files = [tmp_path / "a.h5", tmp_path / "b.h5"]
    with pytest.raises(InputError, match=r"b.h5: entries 10-20: OSError: disk hiccup"):
        read(files, LHCOFormat(), tmp_path / "es", chunk_size=10)
    assert len(calls) == 6
    es = read(files, LHCOFormat(), tmp_path / "es", chunk_size=10)
    assert calls[6:] == [("b.h5", 10)]  # only the failed chunk is read again
    clean = read(files, LHCOFormat(), tmp_path / "clean", chunk_size=10)
    assert ak.array_equal(es.load(truth=True), clean.load(truth=True), equal_nan=True)
    assert len(es.files) == 6 and len(es) == 60  # one partition per input chunk


def test_dask_local_cluster_equals_single_process(tmp_path, qcd_es, signal_es):
    export_lhco(qcd_es, tmp_path / "q.h5")
    export_lhco(signal_es, tmp_path / "s.h5")
    write_lhco_table(tmp_path / "k.h5", back_to_back(7), np.ones(7))
    files = [str(tmp_path / "*.h5")]  # a glob: sorted k, q, s
    fmt = LHCOFormat(selection=R08)
    serial = read(files, fmt, tmp_path / "serial", chunk_size=60)
    dask = read(files, fmt, tmp_path / "dask", chunk_size=60, scheduler="local", workers=2)
    assert len(dask.files) > 3
    assert serial.schema["counts"] == dask.schema["counts"]
    assert ak.array_equal(serial.load(truth=True), dask.load(truth=True), equal_nan=True)


def test_eventset_hadrons_are_pt_ordered(qcd_es):
    had, labels = eventset_hadrons(qcd_es)
    pt = had[:, :, 0]
    assert (np.diff(pt, axis=1) <= 0).all() and (labels == 0).all()


def test_cli_read_and_export(tmp_path, capsys):
    from anomalyscope.core.cli import main

    write_lhco_table(tmp_path / "a.h5", back_to_back(8), np.zeros(8))
    assert (
        main(["read", "lhco", str(tmp_path / "a.h5"), "--out", str(tmp_path / "es"), "--scheduler", "none", "--quiet"])
        == 0
    )
    assert "a.h5: 8 of 8 events kept" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "es"), "--format", "root", "--out", str(tmp_path / "es.root")]) == 0
    with uproot.open(tmp_path / "es.root") as f:
        assert f["Events"].num_entries == 8
    (tmp_path / "bad.h5").write_text("junk")
    assert (
        main(["read", "lhco", str(tmp_path / "bad.h5"), "--out", str(tmp_path / "x"), "--scheduler", "none", "--quiet"])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path / 'bad.h5'}: not an HDF5 file (no HDF5 signature)")


def test_nanoaod_nan_jets_and_empty_tree(tmp_path):
    branches = _fatjets(6)
    pt = ak.to_numpy(ak.to_regular(branches["FatJet"].pt)).copy()
    pt[2, 0] = np.nan
    branches["FatJet"] = ak.with_field(branches["FatJet"], ak.from_regular(ak.Array(pt)), "pt")
    _write_tree(tmp_path / "nan.root", branches)
    _write_tree(tmp_path / "none.root", {k: v[:0] for k, v in _fatjets(1).items()})
    with pytest.warns(InputWarning) as record:
        es = read([tmp_path / "nan.root", tmp_path / "none.root"], NanoAODFormat(), tmp_path / "es")
    text = " | ".join(str(w.message) for w in record)
    assert "nan.root: 1 event(s) with NaN/inf jet values dropped (entries 2)" in text
    assert "none.root: holds no events" in text
    assert sorted(ak.to_list(es.load(["event_id"]).event_id)) == [0, 1, 3, 4, 5]


def _with_truth(n, label=None, process_id=None, weight=None, info=None, path=None):
    branches = _fatjets(n)
    if label is not None:
        branches["label"] = np.asarray(label, dtype=np.int32)
    if process_id is not None:
        branches["process_id"] = np.asarray(process_id, dtype=np.int32)
    if weight is not None:
        branches["genWeight"] = np.asarray(weight, dtype=np.float32)
    _write_tree(path, branches)
    if info is not None:
        with uproot.update(path) as f:
            f["anomalyscope_eventset"] = info


@pytest.mark.parametrize(
    "label, message",
    [
        ([0, 1, 7, 0], r"branch 'label' \(label\) holds \[7\] at entries 2; labels are -1 \(unknown\), 0"),
        ([257, 0, 1, 0], r"holds \[257\] at entries 0"),  # used to wrap to 1: background read as signal
    ],
)
def test_nanoaod_refuses_labels_that_are_not_truth_classes(tmp_path, label, message):
    _with_truth(4, label=label, path=tmp_path / "f.root")
    with pytest.raises(InputError, match=message) as err:
        read([tmp_path / "f.root"], NanoAODFormat(), tmp_path / "es")
    assert "f.root" in str(err.value) and not (tmp_path / "es").exists()


def test_nanoaod_process_ids_must_index_the_files_process_names(tmp_path):
    names = '{"name": "x", "process_names": ["qcd", "wprime_xy"]}'
    _with_truth(4, label=[0, 1, 0, 0], process_id=[0, 1, -1, 0], info=names, path=tmp_path / "f.root")
    with pytest.raises(InputError, match=r"'process_id' \(process_id\) holds \[-1\] at entries 2; the file names 2"):
        read([tmp_path / "f.root"], NanoAODFormat(), tmp_path / "es")
    _with_truth(4, label=[0, 1, 0, 0], process_id=[0, 1, 1, 0], info=names, path=tmp_path / "g.root")
    es = read([tmp_path / "g.root"], NanoAODFormat(), tmp_path / "es_g")
    assert es.counts == {"qcd": 2, "wprime_xy": 2}


def test_nanoaod_nan_weights_are_dropped_with_a_warning_and_a_bad_description_is_noted(tmp_path):
    _with_truth(5, label=[0] * 5, weight=[1.0, np.nan, 1.0, np.inf, 1.0], info="{not json", path=tmp_path / "f.root")
    with pytest.warns(InputWarning) as record:
        es = read([tmp_path / "f.root"], NanoAODFormat(), tmp_path / "es")
    text = " | ".join(str(w.message) for w in record)
    assert "f.root: 2 event(s) with NaN/inf genWeight dropped (entries 1, 3)" in text
    assert "'anomalyscope_eventset' is not a valid EventSet description" in text
    assert len(es) == 3 and np.isfinite(es.column("weight")).all()


def test_read_refuses_chunk_size_zero_and_leaves_nothing_when_no_input_can_be_read(tmp_path, capsys):
    """--chunk-size 0 used to mean the default, silently; an input that cannot be read at all used to leave a
    job directory behind for a 're-run' that had nothing to resume."""
    from anomalyscope.core.cli import main

    write_lhco_table(tmp_path / "good.h5", back_to_back(20), np.zeros(20))
    (tmp_path / "junk.h5").write_text("junk")
    base = ["--out", str(tmp_path / "es"), "--scheduler", "none", "--quiet"]
    assert main(["read", "lhco", str(tmp_path / "good.h5"), *base, "--chunk-size", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: chunk size must be positive, got 0"
    assert main(["read", "lhco", str(tmp_path / "junk.h5"), *base]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "finished chunks" not in err[0] and "not an HDF5 file" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.h5", "junk.h5"]
