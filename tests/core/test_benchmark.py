"""The CMS injection benchmark end to end on a tiny luminosity: event counts from the luminosity, injected
amounts from CMS's cross sections, the published values beside ours, resuming, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.errors import InputError
from core.workflows.benchmark import PUBLISHED, XSEC_FB, report, run_benchmark


def test_benchmark_runs_end_to_end_on_a_tiny_luminosity_and_resumes(tmp_path):
    out = tmp_path / "bm"
    kw = dict(luminosity=0.1, signals=["x_yyprime"], methods=["inclusive", "cut_tau21"], draws=1, toys=10)
    res = run_benchmark(out, progress=False, **kw)
    # the QCD sample stands for the luminosity asked: N = L × σ(Pythia's estimate), L = N / σ(the sample's)
    assert res["qcd"]["events"] == round(0.1 * 1000 * res["qcd"]["sigma_pb"])
    assert res["luminosity_fb"] == pytest.approx(0.1, rel=0.03)
    sig = res["signals"]["x_yyprime"]
    eff, lumi = sig["preselection_efficiency"], res["luminosity_fb"]
    assert 0.5 < eff < 1.0
    assert sig["injected_events"] == sorted({0, *(round(x * lumi * eff) for x in XSEC_FB["x_yyprime"])})
    assert sig["xsec_fb"] == pytest.approx([n / (lumi * eff) for n in sig["injected_events"]])
    assert set(sig["methods"]) == {"inclusive", "cut_tau21"}
    assert sig["methods"]["inclusive"]["published_p_value"] == PUBLISHED["x_yyprime"]["p_value"]["inclusive"]
    table = report(res)
    assert "published" in table and "arXiv:2412.03747" in table and "8.9e-02" in table
    same = lambda a, b: json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # noqa: E731 (NaN-safe)
    assert same(json.loads((out / "benchmark.json").read_text())["signals"]["x_yyprime"], sig)

    # resumed: every stage's output is reused, nothing generated or trained again
    stamps = {p: p.stat().st_mtime_ns for p in (out / "qcd" / "schema.json", out / "scan-x_yyprime" / "points.json")}
    again = run_benchmark(out, progress=False, **kw)
    assert same(again["signals"], res["signals"])
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


@pytest.mark.parametrize(
    "args, message",
    [
        (["--luminosity", "0"], "--luminosity must be a positive"),
        (["--signals", "zprime_foo"], "unknown signal"),
        (["--methods", "cwola"], "need the inclusive search"),
        (["--methods", "inclusive", "quak", "--signals", "x_yyprime"], "give at least two --signals"),
        (["--efficiency", "1.5"], "--efficiency must lie in (0, 1)"),
        (["--scheduler", "somewhere"], "--scheduler"),
    ],
)
def test_benchmark_refuses_bad_options_in_one_line(tmp_path, args, message):
    r = subprocess.run(
        [sys.executable, "-m", "core", "benchmark", "cms-injection", "--out", str(tmp_path / "bm"), *args],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "bm").exists(), "nothing is made before the options are checked"


def test_too_small_a_luminosity_is_refused_before_generating(tmp_path):
    with pytest.raises(InputError, match="at least 500"):
        run_benchmark(tmp_path / "bm", luminosity=0.001, signals=["x_yyprime"], methods=["inclusive"], progress=False)
