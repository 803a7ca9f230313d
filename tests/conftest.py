"""Shared small samples, generated once per test session (a few seconds of Pythia each)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from anomalyscope.core.features import Selection
from anomalyscope.core.generate import generate


def ensure_debian_package(program: str, package: str) -> str:
    """The path of ``program``; where it is missing and this runs as root on Debian (CI), install ``package``
    with apt-get. Elsewhere a missing program fails the test with what to install: it is never skipped."""
    found = shutil.which(program)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{program} is missing: install Debian's {package} package (apt-get install {package})")
    import fcntl

    with open("/tmp/anomalyscope-tests-apt.lock", "w") as lock:  # the test workers install one at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shutil.which(program):  # another worker installed it while this one waited
            return shutil.which(program)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, capture_output=True)
    return shutil.which(program) or pytest.fail(f"apt-get installed {package} but {program} is not on PATH")


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


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, qcd_es, signal_es):
    """A Run of cheap methods on QCD with 40 injected W' events."""
    import yaml

    from anomalyscope.core.data import inject
    from anomalyscope.core.methods.runner import execute, load_config

    d = tmp_path_factory.mktemp("run")
    inject(qcd_es, signal_es, 40, d / "data", seed=1, remainder=d / "signal")
    (d / "run.yaml").write_text(
        yaml.safe_dump(
            {
                "eventset": "data",
                "signal": "signal",
                "out": "run",
                "search": {"windows": "lhco", "min_window_events": 5, "efficiencies": [0.1, 0.01], "toys": 50},
                "folds": 2,
                "inner_folds": 2,
                "methods": ["inclusive", "cut_tau21", "cut_tau32", {"supervised": {"epochs": 5, "region": "all"}}],
            }
        )
    )
    return execute(load_config(d / "run.yaml"), progress=False)


@pytest.fixture(scope="session")
def lund_control(tmp_path_factory):
    """Boosted-W control samples (Z' → WW) for the Lund-plane reweighting: simulation (Pythia defaults),
    pseudo-data (another shower/hadronisation tune) and an alternative simulation."""
    d = tmp_path_factory.mktemp("lund")
    return {
        name: generate("zprime_ww", 2500, 5, d / name, workers=2, chunk_size=1250, progress=False, tune=tune)
        for name, tune in (("sim", "monash"), ("data", "pseudodata"), ("sim_alt", "alt_shower"))
    }


@pytest.fixture(scope="session")
def l1_samples(tmp_path_factory):
    """Zero-bias (minimum-bias) and H → aa → 4b L1-trigger samples: 10k events, the bit-exactness minimum."""
    from anomalyscope.core.trigger.samples import L1Sample, generate_l1

    d = tmp_path_factory.mktemp("l1")
    bg = generate_l1("minbias", 10_000, 3, d / "minbias", workers=2, chunk_size=2500, progress=False)
    sig = generate_l1("h_aa_4b", 1_000, 4, d / "h_aa_4b", workers=1, chunk_size=1000, progress=False)
    # multi-TeV jets: the largest inputs the firmware must handle (overflows show up here)
    big = generate_l1("wprime_xy", 500, 5, d / "wprime_xy", workers=1, chunk_size=500, progress=False)
    return L1Sample.open(bg), L1Sample.open(sig), L1Sample.open(big)


@pytest.fixture(scope="session")
def trigger_dir(l1_samples, tmp_path_factory):
    """A trigger report's directory (5 training epochs, no yosys)."""
    from anomalyscope.core.trigger.report import build_trigger_report

    bg, sig, big = l1_samples
    out = tmp_path_factory.mktemp("trig") / "trigger"
    build_trigger_report(out, bg, [sig, big], epochs=5, use_yosys=False, progress=False)
    return out


@pytest.fixture(scope="session")
def trigger_report(trigger_dir):
    """That report, read back as the typed record every reader gets."""
    from anomalyscope.core.trigger.report import load_report

    return load_report(trigger_dir)


@pytest.fixture(scope="session")
def trigger_pileup(trigger_dir, tmp_path_factory):
    """A copy of the trigger report with a pile-up study at <mu> = 0 and 30 (1000 crossings, pool of 1500)."""
    import shutil

    from anomalyscope.core.trigger.pileup import pileup_study

    out = tmp_path_factory.mktemp("trig_pu") / "trigger"
    shutil.copytree(trigger_dir, out)
    pileup_study(out, pileups=(0, 30), n_events=1000, n_signal=100, pool_size=1500, workers=2, progress=False)
    return out


def injection_scan_content(**changes) -> dict:
    """A complete injection_scan.json (two methods, three amounts, three draws) for tests that need one on disk."""
    nothing = {"n_3sigma": None, "n_3sigma_err": None, "n_3sigma_reached_in": 0.0, "improvement_3sigma": None}
    nothing |= {"n_5sigma": None, "n_5sigma_err": None, "n_5sigma_reached_in": 0.0, "improvement_5sigma": None}
    z = {
        "inclusive": [[0.1, 0.1, 0.1], [0.8, 1.0, 1.2], [1.9, 2.0, 2.1]],
        "cwola": [[-0.2, 0.3, 0.0], [2.9, 3.1, 3.3], [6.0, 6.2, 5.8]],
    }
    content = {
        "schema_version": 1,
        "mass": 3500.0,
        "reconstructed_peak": 3420.0,
        "efficiency": 0.01,
        "draws": 3,
        "mode": "re-trained for every draw",
        "injections": [0, 100, 400],
        "luminosity_fb": 5.0,
        "signal_efficiency": None,
        "z": z,
        "z_observed": z,
        "median_z": {m: [float(np.median(row)) for row in v] for m, v in z.items()},
        "median_z_observed": {m: [float(np.median(row)) for row in v] for m, v in z.items()},
        "sensitivity": {
            "inclusive": nothing,
            "cwola": nothing
            | {"n_3sigma": 100.0, "n_3sigma_err": 10.0, "n_5sigma": 260.0, "n_5sigma_err": 30.0}
            | {"n_3sigma_reached_in": 1.0, "n_5sigma_reached_in": 1.0, "xsec_3sigma_fb": 20.0, "xsec_5sigma_fb": 52.0},
        },
    }
    return content | changes
