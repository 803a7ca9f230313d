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
