"""Shared small samples, generated once per test session (a few seconds of Pythia each)."""
from __future__ import annotations

import pytest

from core.features import Selection
from core.generate import generate


@pytest.fixture(scope="session")
def signal_es(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "wprime_xy"
    return generate("wprime_xy", 400, 7, out, workers=1, chunk_size=400, progress=False)


@pytest.fixture(scope="session")
def qcd_es(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "qcd"
    return generate("qcd", 400, 11, out, workers=1, chunk_size=400, calibration_events=600, progress=False)


@pytest.fixture(scope="session")
def loose_selection():
    return Selection(mjj_min=0.0, jet_pt_min=50.0)
