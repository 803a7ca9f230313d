"""The demo checks what it needs before it starts, and stops at once with every problem named."""

from __future__ import annotations

import shutil
from collections import namedtuple

import pytest

import anomalyscope.core.workflows.demo as demo
from anomalyscope.core.errors import InputError


def _no_generation(*a, **k):
    raise AssertionError("nothing may be generated before the requirements are checked")


def test_demo_without_a_compiler_stops_before_generating(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "generate_or_reuse", _no_generation)
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name in ("g++", "c++") else real(name))
    with pytest.raises(InputError, match=r"no C\+\+ compiler \(g\+\+\)"):
        demo.build_demo(tmp_path / "demo")
    assert not (tmp_path / "demo").exists()


def test_demo_without_disk_space_names_the_place_and_the_need(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "generate_or_reuse", _no_generation)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**12, 10**12 - 10**8, 10**8))
    with pytest.raises(InputError, match=r"0\.1 GB free, the demo needs about 1\.2 GB"):
        demo.build_demo(tmp_path / "demo")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**12, 10**12 - 10**10, 10**10))
    demo.check_requirements(tmp_path / "demo")  # 10 GB free: nothing to say


def test_demo_samples_alone_are_the_demos_with_or_without_its_qcd(tmp_path, monkeypatch):
    """The sensitivity bench takes the demo's samples without its Run: the same processes, counts and seeds as the
    demo build (a regenerated sample must be the same events), and on a larger background no demo QCD at all."""
    calls = []
    monkeypatch.setattr(demo, "generate_or_reuse", lambda process, n, seed, path, *a, **k: calls.append(
        (process, n, seed, path.name)) or path.name)  # fmt: skip
    got = demo.build_samples(tmp_path, scale=1.0)
    assert calls == [
        ("qcd", demo.N_QCD, demo.SEED, "qcd"),
        ("wprime_xy", demo.N_SIGNAL, demo.SEED + 1, "wprime_xy"),
        ("qcd", demo.N_QCD_SIM, demo.SEED + 5, "qcd_sim"),
        ("x_yyprime", demo.N_PRIOR, demo.SEED + 6, "prior_x_yyprime"),
        ("wprime_bprime_t", demo.N_PRIOR, demo.SEED + 7, "prior_wprime_bprime_t"),
    ]
    assert sorted(got) == sorted(c[3] for c in calls)
    calls.clear()
    assert "qcd" not in demo.build_samples(tmp_path, qcd=False) and [c[3] for c in calls][0] == "wprime_xy"
    calls.clear()
    assert sorted(demo.build_samples(tmp_path, scale=0.1, quick=True)) == ["qcd", "wprime_xy"]
    assert calls[0][1] == demo.N_QCD // 10
