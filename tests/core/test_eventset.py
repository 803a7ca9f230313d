"""The EventSet store: lazy reads, truth hiding, mixing, corrupt input, atomic and resumable writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import awkward as ak
import numpy as np
import pytest

import anomalyscope.core.generate.runner as runner
from anomalyscope.core.data import EventSet, inject, select, write_eventset
from anomalyscope.core.data.eventset import TRUTH_FIELDS as TRUTH
from anomalyscope.core.errors import InputError
from anomalyscope.core.generate import generate


def test_methods_never_see_truth_unless_asked(signal_es):
    arr = signal_es.load()
    assert "label" not in arr.fields and "process" not in arr.fields
    assert "label" in signal_es.load(truth=True).fields
    with pytest.raises(InputError, match="truth information"):
        signal_es.load(["mjj", "label"])
    sub = signal_es.load(["mjj", "j1.msoftdrop"])
    assert sub.fields == ["mjj", "j1"] and sub.j1.fields == ["msoftdrop"]
    assert np.all(signal_es.truth() == 1)


def test_one_row_is_read_from_its_row_group(qcd_es, signal_es, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    import anomalyscope.core.data.eventset as eventset

    monkeypatch.setattr(eventset, "ROW_GROUP_ROWS", 50)
    both = inject(qcd_es, signal_es, len(signal_es), tmp_path / "both", seed=4)
    assert pq.read_metadata(both.files[0]).num_row_groups > 5
    arr = both.load()
    for i in (0, 49, 50, len(both) // 2, len(both) - 1):
        assert json.dumps(ak.to_list(both.row(i))) == json.dumps(ak.to_list(arr[i]))  # NaN-safe comparison
    assert both.row(3, ["mjj"]).mjj == arr.mjj[3]
    assert "label" not in both.row(0).fields
    with pytest.raises(InputError, match="outside"):
        both.row(len(both))
    with pytest.raises(InputError, match="truth"):
        both.row(0, ["label"])


def test_constituents_are_capped_and_sorted(signal_es):
    cons = signal_es.load(["j1.constituents"]).j1.constituents
    n = ak.to_numpy(ak.num(cons))
    assert n.max() <= 100
    assert np.all(n == np.minimum(signal_es.column("j1.n_constituents"), 100))
    pt = np.hypot(cons.px, cons.py)
    assert ak.all(pt[:, :-1] >= pt[:, 1:])


def test_method_events_read_constituents_once_padded_in_order(signal_es, monkeypatch):
    """Methods see each jet's leading constituents in stored (pT) order, zero-padded to 100, and an Events' folds
    and regions read them from the EventSet once (VAE-QR took 8 reads per Run)."""
    from anomalyscope.core.methods.events import Events

    reads = []
    load = EventSet.load
    monkeypatch.setattr(EventSet, "load", lambda self, cols=None, **kw: reads.append(cols) or load(self, cols, **kw))
    ev = Events.from_eventset(signal_es)
    half = ev.subset(np.arange(len(ev)) % 2 == 0)
    quarter = half.subset(np.arange(len(half)) % 2 == 1)
    cons = ev.constituents()
    assert quarter.constituents().shape == (len(quarter), 2, 100, 3)
    np.testing.assert_array_equal(quarter.constituents(), cons[np.arange(len(ev)) % 4 == 2])
    assert sum("j1.constituents" in (c or []) for c in reads) == 1
    arr = signal_es.load(["j1.constituents", "j2.constituents"])
    for i in (0, len(ev) // 2, len(ev) - 1):
        for j, name in enumerate(("j1", "j2")):
            c = arr[name].constituents[i]
            k = len(c)
            expect = np.column_stack([ak.to_numpy(c[f]) for f in ("px", "py", "pz")])
            np.testing.assert_array_equal(cons[i, j, :k], expect)
            assert not cons[i, j, k:].any()


def test_injected_labels_come_back_from_the_seed(signal_es, qcd_es, tmp_path):
    from anomalyscope.core.data.eventset import injected_labels

    mixed = inject(qcd_es, signal_es, 30, tmp_path / "mixed", seed=17)
    np.testing.assert_array_equal(injected_labels(len(qcd_es), len(signal_es), 30, 17), mixed.truth())
    assert injected_labels(len(qcd_es), len(signal_es), 30, 18).tolist() != mixed.truth().tolist()


def test_inject_mixes_with_labels_and_keeps_remainder_disjoint(signal_es, qcd_es, tmp_path):
    mixed = inject(qcd_es, signal_es, 25, tmp_path / "data", seed=3, remainder=tmp_path / "rest")
    assert mixed.counts == {"qcd": len(qcd_es), "wprime_xy": 25}
    assert json.loads((mixed.path / "schema.json").read_text())["labels"] == {"0": len(qcd_es), "1": 25}
    truth = mixed.truth()
    assert truth.sum() == 25 and len(truth) == len(qcd_es) + 25
    assert np.array_equal(mixed.column("event_id"), np.arange(len(mixed)))
    assert truth[: len(qcd_es)].sum() < 25, "signal is shuffled in, not appended"
    rest = EventSet.open(tmp_path / "rest")
    assert len(rest) == len(signal_es) - 25
    # disjoint: the injected and the remaining signal events have no jet pT in common
    injected_pt = set(mixed.column("j1.pt")[truth == 1].tolist())
    assert injected_pt.isdisjoint(set(rest.column("j1.pt").tolist()))
    with pytest.raises(InputError, match="asked to inject"):
        inject(qcd_es, signal_es, len(signal_es) + 1, tmp_path / "bad", seed=1)


def test_to_dask_reads_lazily_only_the_columns_a_computation_touches(qcd_es, signal_es, tmp_path):
    """A selection on a lazy dask-awkward view equals the same selection on the loaded events; dask-awkward
    plans to read only the two columns it uses; truth stays out unless asked, as in load()."""
    import dask_awkward as dak

    events = ak.concatenate([qcd_es.load(truth=True), signal_es.load(truth=True)])
    half = len(events) // 2
    es = write_eventset(tmp_path / "two", [events[:half], events[half:]], {"name": "two"})
    lazy = es.to_dask()
    assert lazy.npartitions == 2 and not set(TRUTH) & set(lazy.fields)
    heavy = lazy.mjj[lazy.j1.msoftdrop > 50]
    (columns,) = dak.report_necessary_columns(heavy).values()
    assert set(columns) == {"mjj", "j1.msoftdrop"}
    want = es.column("mjj")[es.column("j1.msoftdrop") > 50]
    assert 0 < len(want) < len(es) and np.array_equal(heavy.compute().to_numpy(), want)
    assert np.array_equal(es.to_dask(["label"], truth=True).label.compute().to_numpy(), es.truth())
    with pytest.raises(InputError, match="truth information"):
        es.to_dask(["mjj", "label"])


def test_select_records_provenance(qcd_es, tmp_path):
    mask = qcd_es.column("deta") < 1.3
    sr = select(qcd_es, mask, tmp_path / "sr", note="deta < 1.3")
    assert len(sr) == mask.sum()
    assert sr.schema["derived_from"]["selection"] == "deta < 1.3"


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_stored_files_get_the_permissions_the_umask_gives_ordinary_files(qcd_es, tmp_path, mask):
    """A group server shows Runs and EventSets another account made: nothing stays 0600 / 0700."""
    import os
    import stat

    from anomalyscope.core.data.atomic import write_json_atomic

    old = os.umask(mask)
    try:
        es = select(qcd_es, qcd_es.column("deta") < 1.3, tmp_path / "sr", note="deta < 1.3")
        write_json_atomic(tmp_path / "report.json", {"a": 1})
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(es.path) == 0o777 & ~mask
    files = [es.path / "schema.json", *es.path.glob("*.parquet"), tmp_path / "report.json"]
    assert len(files) >= 3 and {p.name: mode(p) for p in files} == {p.name: 0o666 & ~mask for p in files}


def test_corrupt_and_partial_eventsets_are_rejected_with_the_file_named(signal_es, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(signal_es.path, bad)
    part = bad / signal_es.schema["files"][0]
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"part-00000\.parquet: corrupt parquet file"):
        EventSet.open(bad)

    (bad / "schema.json").write_text("{not json")
    with pytest.raises(InputError, match="schema.json: not valid JSON"):
        EventSet.open(bad)
    (bad / "schema.json").unlink()
    with pytest.raises(InputError, match="schema.json: missing"):
        EventSet.open(bad)

    wrong = tmp_path / "wrong"
    shutil.copytree(signal_es.path, wrong)
    schema = json.loads((wrong / "schema.json").read_text())
    schema["n_events"] += 1
    (wrong / "schema.json").write_text(json.dumps(schema))
    with pytest.raises(InputError, match="'n_events' says"):
        EventSet.open(wrong)
    # every field of schema.json is checked on opening (``data.schema``), the wrong one named by its path
    schema["n_events"] -= 1
    for edit, message in (
        (lambda s: s.pop("counts"), "field 'counts' is missing"),
        (lambda s: s["processes"]["wprime_xy"].update(n_generated="many"), "field 'processes.wprime_xy.n_generated'"),
        (lambda s: s.update(mjj_fit_min=[1]), "field 'mjj_fit_min' is \\[1\\], expected a number"),
    ):
        bent = json.loads(json.dumps(schema))
        edit(bent)
        (wrong / "schema.json").write_text(json.dumps(bent))
        with pytest.raises(InputError, match=f"{wrong / 'schema.json'}: {message}"):
            EventSet.open(wrong)


def test_cli_prints_one_line_errors(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "anomalyscope", *args], capture_output=True, text=True)

    r = run("generate", "--process", "nope", "--events", "5", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "unknown process 'nope'" in r.stderr
    (tmp_path / "file").write_text("")
    r = run("generate", "--process", "qcd", "--events", "5", "--out", str(tmp_path / "file" / "x"))
    assert r.returncode == 2 and "not writable" in r.stderr and "Traceback" not in r.stderr
    r = run("info", str(tmp_path))
    assert r.returncode == 2 and "schema.json: missing" in r.stderr
    # values that used to fail inside a chunk (NaN mass) or be taken silently (0 workers), refused up front
    for args, message in [
        (["--param", "mB=nan"], "process x_yyprime: parameter mB must be a finite number, got nan"),
        (["--param", "width_fraction=2"], "process x_yyprime: width_fraction (Γ/m) must lie in (0, 0.5], got 2.0"),
        (["--workers", "0"], "--workers must be a positive number of processes, got 0"),
    ]:
        r = run("generate", "--process", "x_yyprime", "--events", "5", "--out", str(tmp_path / "y"), *args)
        assert r.returncode == 2 and r.stderr.strip() == f"error: {message}", r.stderr
        assert not (tmp_path / "y").exists() and not (tmp_path / ".y.partial").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--pythia", "Foo:bar = 3"],
            "Pythia setting 'Foo:bar = 3' is not accepted (an unknown key or a value it cannot read)",
        ),
        (["--pythia", "PhaseSpace:pTHatMin = abc"], "Pythia setting 'PhaseSpace:pTHatMin = abc' is not accepted"),
        (["--jet-r", "0"], "selection: jet_r must be in (0, 1.5], got 0.0"),
        (["--jet-r", "-1"], "selection: jet_r must be in (0, 1.5], got -1.0"),
        (["--jet-r", "nan"], "selection: jet_r must be in (0, 1.5], got nan"),
        (["--mjj-min", "-1"], "selection: mjj_min must be ≥ 0 GeV, got -1.0"),
        (["--chunk-size", "0"], "chunk size must be positive, got 0"),
    ],
)
def test_generation_options_that_used_to_fail_in_every_chunk_are_one_line_before_any(tmp_path, capsys, args, message):
    """A bad Pythia setting failed inside every chunk (one traceback-like line each); R ≤ 0 crashed FastJet or
    gave an empty EventSet. Now: one `error:` line, and nothing written."""
    from anomalyscope.core.cli import main

    out = tmp_path / "g"
    assert main(["generate", "--process", "qcd", "--events", "5", "--out", str(out), "--scheduler", "none", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {message}"), err
    assert not out.exists() and not (tmp_path / ".g.partial").exists()


def _same_events(a: EventSet, b: EventSet) -> bool:
    """Bit-identical events: the same parquet parts, byte for byte (every field, every row)."""
    return a.schema["files"] == b.schema["files"] and all(
        (a.path / f).read_bytes() == (b.path / f).read_bytes() for f in a.schema["files"]
    )


def test_output_is_independent_of_worker_count(tmp_path):
    a = generate("wprime_xy", 120, 5, tmp_path / "a", workers=1, chunk_size=60, progress=False)
    b = generate("wprime_xy", 120, 5, tmp_path / "b", workers=2, chunk_size=60, progress=False)  # LocalCluster
    assert len(a) == len(b) > 0
    assert _same_events(a, b)
    c = generate("wprime_xy", 120, 6, tmp_path / "c", workers=1, chunk_size=60, progress=False)
    assert not np.array_equal(a.column("mjj")[:10], c.column("mjj")[:10])


def test_generation_on_a_dask_cluster_survives_a_killed_worker(tmp_path):
    """A worker killed mid-job (SIGKILL): the scheduler re-runs its chunks elsewhere and the events are the
    ones the in-process run makes, bit for bit."""
    import os
    import signal
    import threading
    import time

    from dask.distributed import Client, LocalCluster

    job_dir = tmp_path / ".b.partial"
    killed = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            victim = sorted(client.run(os.getpid).values())[0]

            def kill_after_first_chunk():
                deadline = time.time() + 300
                while time.time() < deadline and not list(job_dir.glob("stats-events-*.json")):
                    time.sleep(0.05)
                os.kill(victim, signal.SIGKILL)
                killed.append(len(list(job_dir.glob("stats-events-*.json"))))

            watcher = threading.Thread(target=kill_after_first_chunk)
            watcher.start()
            b = generate(
                "wprime_xy", 240, 5, tmp_path / "b", scheduler=cluster.scheduler_address, chunk_size=40, progress=False
            )
            watcher.join()
            assert victim not in client.run(os.getpid).values(), "the worker was killed (and replaced)"
    assert killed and killed[0] < 6, "the kill came while chunks were still to run"
    a = generate("wprime_xy", 240, 5, tmp_path / "a", scheduler=None, chunk_size=40, progress=False)
    assert len(a) > 0 and _same_events(a, b)


def test_scheduler_option_is_checked_in_one_line(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "anomalyscope",
            "generate",
            "--process",
            "qcd",
            "--events",
            "5",
            "--out",
            str(tmp_path / "x"),
            "--scheduler",
            "cluster-please",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--scheduler" in r.stderr and "Traceback" not in r.stderr


def test_interrupted_generation_leaves_no_eventset_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "sig"
    calls = []
    real = runner.run_chunk

    def flaky(task):
        calls.append(task.index)
        if task.index == 1:
            raise RuntimeError("worker killed")
        return real(task)

    monkeypatch.setattr(runner, "run_chunk", flaky)
    with pytest.raises(RuntimeError, match="worker killed"):
        generate("wprime_xy", 120, 9, out, workers=1, chunk_size=60, progress=False)
    assert not out.exists(), "no half-written EventSet"
    assert (tmp_path / ".sig.partial" / "stats-events-00000.json").exists()

    def recording(task):
        calls.append(task.index)
        return real(task)

    calls.clear()
    monkeypatch.setattr(runner, "run_chunk", recording)
    es = generate("wprime_xy", 120, 9, out, workers=1, chunk_size=60, progress=False)
    assert calls == [1], "the finished chunk is reused, only the missing one runs"
    fresh = generate("wprime_xy", 120, 9, tmp_path / "fresh", workers=1, chunk_size=60, progress=False)
    assert np.array_equal(es.column("mjj"), fresh.column("mjj"))
    assert not (tmp_path / ".sig.partial").exists()
    with pytest.raises(InputError, match="already exists"):
        generate("wprime_xy", 120, 9, out, workers=1, chunk_size=60, progress=False)


def test_export_to_a_directory_an_unwritable_place_or_lhco_without_constituents_is_one_line(qcd_es, tmp_path, capsys):
    from anomalyscope.core.cli import main

    jets_only = qcd_es.load(
        ["event_id", "mjj", "deta", "weight", "label", "process", "pthat", "j1.pt", "j2.pt"], truth=True
    )
    no_constituents = write_eventset(tmp_path / "jets_only", [jets_only], {"name": "jets_only"})
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_file").write_text("")
    for es, fmt, out, message in [
        (qcd_es.path, "root", tmp_path / "a_dir", f"{tmp_path / 'a_dir'}: is a directory; give the output a file name"),
        (qcd_es.path, "lhco", tmp_path / "a_file" / "x.h5", f"{tmp_path / 'a_file' / 'x.h5'}: cannot write there"),
        (no_constituents.path, "lhco", tmp_path / "x.h5", f"{no_constituents.path}: stores no jet constituents"),
    ]:
        assert main(["export", str(es), "--format", fmt, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {message}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_dir", "a_file", "jets_only"]  # nothing half-written
    assert not any((tmp_path / "a_dir").iterdir())
