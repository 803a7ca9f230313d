"""Writing outputs: a full disk is named as one (and the finished chunks are kept for a re-run), and a second
writer into an output another process is writing stops at its start while the first completes."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import pytest
import yaml

from anomalyscope.core.cli import main
from anomalyscope.core.data.atomic import output_lock
from anomalyscope.core.errors import ChunkFailures, DiskFull, OutputBusy
from anomalyscope.core.results import Run
from tests.core.synthetic import make_events, write_synthetic_eventset


def _full_disk_writer(*args, **kwargs):
    """What pyarrow does when the disk fills: the OSError, then the writer's close fails while handling it."""
    try:
        raise OSError(28, "No space left on device")
    except OSError:
        raise RuntimeError("file metadata is only available after writer close") from None


def test_a_full_disk_while_generating_is_reported_as_one(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pythia8mc")
    import anomalyscope.core.generate.runner as runner

    monkeypatch.setattr(runner.ak, "to_parquet", _full_disk_writer)
    out = tmp_path / "sig"
    argv = ["generate", "--process", "wprime_xy", "--events", "20", "--out", str(out), "--scheduler", "none", "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"no space left on device: {tmp_path / '.sig.partial'}" in err, err
    assert "free some space, then re-run the same command" in err
    assert "file metadata" not in err and not out.exists()


def test_the_disk_full_error_keeps_its_fields_through_a_dask_worker():
    for exc in (DiskFull("/data/.x.partial", "chunk 3"), ChunkFailures(["a", "b"], "/data/.x.partial", True)):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc)
    assert pickle.loads(pickle.dumps(DiskFull("/d", "chunk 3"))).path == "/d"


def test_a_second_run_into_the_same_out_is_refused_at_once_and_the_first_completes(tmp_path, capsys):
    ev, truth = make_events(4, 20000, n_sig=100, lo=2800, hi=4500, drift=False)
    write_synthetic_eventset(tmp_path / "data", ev, truth, "x")
    cfg = {"eventset": "data", "out": "run", "search": {"windows": "lhco", "toys": 20}, "folds": 2,
           "methods": [{"cwola": {"epochs": 20, "patience": 20}}]}  # fmt: skip
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg))
    first = subprocess.Popen([sys.executable, "-m", "anomalyscope", "run", "--config", "run.yaml", "--quiet"],
                             cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lock = tmp_path / ".run.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().startswith("process")):
        assert first.poll() is None and time.monotonic() < deadline, "the first Run never took its lock"
        time.sleep(0.1)
    t0 = time.perf_counter()
    assert main(["run", "--config", str(tmp_path / "run.yaml"), "--quiet"]) == 1
    assert time.perf_counter() - t0 < 10
    assert f"run: process {first.pid} is writing it now" in capsys.readouterr().err
    assert first.poll() is None, "the second Run was refused while the first was still training"
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert "cwola" in Run.open(tmp_path / "run").methods


def test_the_lock_is_released_when_its_block_ends_however_it_ends(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), output_lock(out):
        with pytest.raises(OutputBusy) as busy, output_lock(out):
            pass
        assert busy.value.path == out
        raise RuntimeError("the work failed")
    with output_lock(out):  # free again
        pass
