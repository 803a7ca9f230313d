"""The CMS injection benchmark end to end on a tiny luminosity: event counts from the luminosity, injected
amounts from CMS's cross sections, the published values beside ours, resuming, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from anomalyscope.core.errors import InputError
from anomalyscope.core.workflows.benchmark import XSEC_FB, qcd_threshold, report, run_benchmark


def test_benchmark_runs_end_to_end_on_a_tiny_luminosity_and_resumes(tmp_path):
    out = tmp_path / "bm"
    kw = dict(luminosity=0.1, signals=["wprime_xy"], methods=["inclusive"], draws=1, toys=10, pthat_min=1000.0)
    res = run_benchmark(out, progress=False, **kw)
    # the QCD sample stands for the luminosity asked: N = L × σ(Pythia's estimate), L = N / σ(the sample's)
    assert res["qcd"]["events"] == round(0.1 * 1000 * res["qcd"]["sigma_pb"])
    assert res["luminosity_fb"] == pytest.approx(0.1, rel=0.03) and res["qcd"]["pthat_min_gev"] == 1000.0
    sig = res["signals"]["wprime_xy"]
    eff, lumi = sig["preselection_efficiency"], res["luminosity_fb"]
    assert 0.5 < eff < 1.0
    assert sig["injected_events"] == sorted({0, *(round(x * lumi * eff) for x in XSEC_FB["wprime_xy"])})
    assert sig["xsec_fb"] == pytest.approx([n / (lumi * eff) for n in sig["injected_events"]])
    assert set(sig["methods"]) == {"inclusive"}
    # the fit starts where pTHat > 1 TeV is known to lose ≤ 1% (3.2 TeV), whatever the small calibration saw
    assert res["qcd"]["fit_start_gev"] == 3200.0 >= res["qcd"]["mjj_fit_min_gev"] and sig["windows"] == []
    table = report(res)
    assert "published" in table and "arXiv:2412.03747" in table
    same = lambda a, b: json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # noqa: E731 (NaN-safe)
    assert same(json.loads((out / "benchmark.json").read_text())["signals"]["wprime_xy"], sig)

    # resumed: every stage's output is reused, nothing generated or trained again
    stamps = {p: p.stat().st_mtime_ns for p in (out / "qcd" / "schema.json", out / "scan-wprime_xy" / "points.json")}
    again = run_benchmark(out, progress=False, **kw)
    assert same(again["signals"], res["signals"])
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # no CMS window with its sidebands fits above 3.2 TeV around the 3.5 TeV W′'s peak (B4's sideband starts at
    # 2725 GeV), so a windowed method is refused before any training (it used to train on no window at all)
    with pytest.raises(InputError, match=r"wprime_xy: no usable m_jj window holds its peak at 3[34]\d\d GeV"):
        run_benchmark(out, progress=False, **{**kw, "methods": ["inclusive", "cwola"]})
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_qcd_threshold_puts_a_cms_window_with_its_sidebands_where_the_sample_is_fully_efficient():
    from anomalyscope.core.data.eventset import FULL_EFFICIENCY_RATIO

    pthat, plan = qcd_threshold({"x_yyprime": 2986.0})  # the X → Y Y′ peak (measured median m_jj)
    assert plan["x_yyprime"]["window"] == "B3" and plan["x_yyprime"]["needs_fit_start_gev"] == 2230.0
    assert pthat == 690.0 and FULL_EFFICIENCY_RATIO * pthat <= 2230.0 < FULL_EFFICIENCY_RATIO * (pthat + 10)
    pthat, plan = qcd_threshold({"wprime_xy": 3450.0})
    assert (pthat, plan["wprime_xy"]["window"]) == (850.0, "B4")
    both, _ = qcd_threshold({"x_yyprime": 2986.0, "wprime_xy": 3450.0})
    assert both == 690.0  # the most demanding signal sets it
    assert qcd_threshold({"z": 7000.0})[0] == 1000.0  # never above the default sample's threshold


@pytest.mark.parametrize(
    "args, message",
    [
        (["--luminosity", "0"], "luminosity must be > 0, got 0.0"),
        (["--signals", "zprime_foo"], "unknown signal"),
        (["--methods", "cwola"], "need the inclusive search"),
        (["--pthat-min", "-5"], "pthat_min must be in [100, 3000], got -5.0"),
        (["--efficiency", "1.5"], "efficiency must be in (0, 1), got 1.5"),
        (["--scheduler", "somewhere"], "--scheduler"),
    ],
)
def test_benchmark_refuses_bad_options_in_one_line(tmp_path, args, message):
    r = subprocess.run(
        [sys.executable, "-m", "anomalyscope", "benchmark", "cms-injection", "--out", str(tmp_path / "bm"), *args],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "bm").exists(), "nothing is made before the options are checked"


def test_too_small_a_luminosity_is_refused_before_generating(tmp_path):
    with pytest.raises(InputError, match="at least 500"):
        run_benchmark(tmp_path / "bm", luminosity=0.001, signals=["x_yyprime"], methods=["inclusive"], progress=False)
