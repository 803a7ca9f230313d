"""Which Runs the browser may open: only those found below the configured directories."""

from __future__ import annotations

import io
import os
import shutil

import pandas as pd
import pytest

from anomalyscope.dashboard.app import make_state
from anomalyscope.dashboard.data import available_runs, run_roots
from anomalyscope.dashboard.events import parquet_file


def test_only_runs_below_the_configured_directories_are_offered(tmp_path, small_run, monkeypatch):
    root, outside = tmp_path / "runs", tmp_path / "elsewhere"
    shutil.copytree(small_run.path, root / "group" / "first")
    shutil.copytree(small_run.path, outside / "secret")
    os.symlink(outside / "secret", root / "link_out")  # a link leading outside the root is ignored
    (root / "not_a_run").mkdir()
    monkeypatch.setenv("ANOMALYSCOPE_RUN_DIRS", str(root))
    monkeypatch.setenv("ANOMALYSCOPE_RUN", str(root / "group" / "first"))
    assert run_roots() == [root.resolve()]
    runs = available_runs()
    assert runs == {"runs/group/first": str((root / "group" / "first").resolve())}

    state = make_state()
    assert state.run == "runs/group/first" and state.run_path == runs["runs/group/first"]
    assert state.method in state.param.method.objects
    # a URL can only name a Run from the list: a path, or a path out of the root, is refused
    for bad in (str(outside / "secret"), "../elsewhere/secret", "runs/../../elsewhere/secret"):
        with pytest.raises(ValueError):
            state.run = bad
    assert state.run_path == runs["runs/group/first"]


def test_selected_events_export_as_parquet():
    df = pd.DataFrame({"event_id": [3, 1], "mjj": [3500.5, 3400.25], "cwola": [0.9, 0.8]})
    back = pd.read_parquet(io.BytesIO(parquet_file(df).read()))
    pd.testing.assert_frame_equal(back, df)
