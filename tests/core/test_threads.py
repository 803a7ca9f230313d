"""Training threads: one per process unless ANOMALYSCOPE_THREADS says otherwise (why: methods.device), and a
bad value is refused naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = "import torch, anomalyscope.core.methods.device as d; print(d.THREADS, torch.get_num_threads())"


def _run(value: str | None):
    env = {k: v for k, v in os.environ.items() if k != "ANOMALYSCOPE_THREADS"}
    if value is not None:
        env["ANOMALYSCOPE_THREADS"] = value
    return subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120)


def test_training_takes_one_thread_unless_asked_for_more():
    assert _run(None).stdout.split() == ["1", "1"]
    assert _run("2").stdout.split() == ["2", "2"]


def test_a_bad_thread_count_is_refused_naming_the_variable():
    out = _run("lots")
    assert out.returncode != 0
    assert "ANOMALYSCOPE_THREADS: must be a whole number ≥ 1, got 'lots'" in out.stderr
