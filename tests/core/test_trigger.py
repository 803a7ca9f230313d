"""Level-1 trigger models: L1 inputs, rates on known distributions, bit-exact firmware, resource estimates."""

from __future__ import annotations

import json
import shutil

import awkward as ak
import numpy as np
import pytest

from anomalyscope.core.errors import InputError
from anomalyscope.core.results.records.trigger import Threshold, TriggerReport
from anomalyscope.core.trigger import firmware
from anomalyscope.core.trigger.l1 import ETA_STEP, PHI_STEP, PT_STEP, l1_objects, network_inputs, region_image
from anomalyscope.core.trigger.pileup import load_pileup, overlay_from_pool, pileup_study
from anomalyscope.core.trigger.rates import (
    TailFit,
    efficiency_at,
    efficiency_vs_rate,
    rate_curve,
    tail_curve,
    threshold_for_rate,
    trigger_threshold,
)
from anomalyscope.core.trigger.report import build_trigger_report, load_report
from anomalyscope.core.trigger.samples import L1Sample
from tests.conftest import ensure_debian_package


def test_rate_threshold_and_efficiency_are_exact_on_a_known_distribution():
    background = np.arange(100_000, dtype=float)  # scores 0 .. 99999, one each
    t = threshold_for_rate(background, 1000.0)  # 2.5e-5 × 1e5 = 2.5 → at most 2 events may fire
    assert t["threshold"] == 99_997.0 and t["zero_bias_events_above"] == 2
    assert t["achieved_rate_hz"] == pytest.approx(2 / 100_000 * 40e6)
    signal = np.arange(99_990, 100_010, dtype=float)  # 12 of these 20 lie above 99997
    assert efficiency_at(signal, t["threshold"])["efficiency"] == pytest.approx(0.6)
    curve = rate_curve(background)
    assert np.all(np.diff(curve["rate_hz"]) <= 0)  # rising threshold, falling rate
    assert curve["rate_hz"][0] == pytest.approx(40e6 * (1 - 1 / 100_000))
    ties = threshold_for_rate(np.array([1.0] * 10 + [5.0] * 5), 40e6 * 0.3)  # 4 may fire; the 5 tied may not
    assert ties["zero_bias_events_above"] == 0


def test_tail_fit_extrapolates_the_threshold_of_known_distributions():
    """20k zero-bias-like scores are too few to count a 1 kHz rate (0.5 events): the generalised-Pareto
    extrapolation finds the true threshold of an exponential (P(s > t) = e^−t) within its bootstrap
    uncertainty, whose 68% interval covers the truth about as often as it should over 20 toys."""
    rng = np.random.default_rng(11)
    true = np.log(40e6 / 1000.0)
    pulls = []
    for k in range(20):
        r = trigger_threshold(rng.exponential(size=20_000), 1000.0, n_boot=40, seed=k)
        assert r["limited_by_statistics"] and "Pareto" in r["method"] and r["threshold_empirical"] < np.inf
        pulls.append((r["threshold"] - true) / r["threshold_uncertainty"])
    pulls = np.array(pulls)
    assert abs(np.median(pulls)) < 0.5 and 0.5 <= np.mean(np.abs(pulls) < 1) <= 0.95, pulls
    # a light (Gaussian) tail: negative shape, still recovered
    g = trigger_threshold(rng.normal(size=40_000), 1000.0, n_boot=40)
    assert g["tail_fit"]["shape"] < 0 and abs(g["threshold"] - 4.0556) < 2.5 * g["threshold_uncertainty"]
    # a tail too heavy for a direct fit (Pareto, P(s > t) = t^(−1/1.2): infinite mean) is fitted in ln(score)
    pareto = rng.pareto(1 / 1.2, size=20_000) + 1.0
    h = trigger_threshold(pareto, 1000.0, n_boot=40)
    lo, hi = np.log(h["threshold_interval_68"])
    assert h["tail_fit"]["in_log_score"] and abs(np.log(h["threshold"]) - 1.2 * np.log(40e3)) < 1.5 * (hi - lo)
    # the drawn tail passes through the threshold at the target rate
    curve = tail_curve(Threshold.from_dict(r, "trigger_threshold"))
    assert np.interp(np.log(1000.0), np.log(curve["rate_hz"][::-1]), curve["threshold"][::-1]) == pytest.approx(
        r["threshold"], rel=1e-3
    )
    # enough events above: the direct count, no fit
    direct = trigger_threshold(rng.exponential(size=20_000), 40e6 * 0.01)
    assert direct["method"] == "empirical quantile" and "tail_fit" not in direct
    # efficiency against rate: extrapolated where the sample cannot count, and a looser threshold never loses signal
    bg, sig = rng.exponential(size=20_000), rng.exponential(size=5_000) + 8.0
    ev = efficiency_vs_rate(bg, sig, rates_hz=np.logspace(3, 6, 13))
    assert ev["extrapolated"][0] and not ev["extrapolated"][-1] and np.all(np.diff(ev["efficiency"]) >= 0)
    assert ev["efficiency"][0] == np.mean(sig > TailFit.fit(bg).threshold(1000.0 / 40e6))  # the one tail fit


def particle(pt, eta, phi, cls):
    return {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "E": pt * np.cosh(eta), "cls": cls}


def test_l1_objects_of_a_known_event():
    # an isolated 40 GeV photon, a 25 GeV muon, and a 3-particle jet of 100 GeV at (η, φ) = (−1, 2)
    event = [
        particle(40.0, 0.3, -1.0, 2),
        particle(25.0, 1.0, 0.5, 4),
        particle(50.0, -1.0, 2.0, 0),
        particle(30.0, -1.05, 2.05, 1),
        particle(20.0, -0.95, 1.95, 0),
    ]
    obj = l1_objects(ak.Array([event]), np.random.default_rng(1))[0]
    met, eg, mu, jets = obj[0], obj[1:5], obj[5:9], obj[9:]
    for o in obj[obj[:, 0] > 0]:  # every number on its L1 grid
        assert o[0] / PT_STEP == pytest.approx(round(o[0] / PT_STEP)) and o[1] / ETA_STEP == pytest.approx(
            round(o[1] / ETA_STEP)
        )
        assert o[2] / PHI_STEP == pytest.approx(round(o[2] / PHI_STEP))
    assert eg[0][1:] == pytest.approx([round(0.3 / ETA_STEP) * ETA_STEP, round(-1.0 / PHI_STEP) * PHI_STEP])
    assert 30 < eg[0][0] < 50 and np.all(eg[1:] == 0)
    assert mu[0][1] == pytest.approx(round(1.0 / ETA_STEP) * ETA_STEP) and np.all(mu[1:] == 0)
    assert jets[0][0] > 50 and jets[0][1] == pytest.approx(-1.0, abs=0.05)
    # the photon's deposit is a jet too (L1 jets are built from all calorimeter deposits); nothing else
    assert jets[1][1] == pytest.approx(0.3, abs=0.02) and np.all(jets[2:, 0] == 0)
    # the calorimeter MET balances everything but the muon (exact up to the 0.5 GeV step)
    calo = [p for p in event if p["cls"] != 4]
    mex, mey = -sum(p["px"] for p in calo), -sum(p["py"] for p in calo)
    assert met[0] == pytest.approx(np.hypot(mex, mey), abs=PT_STEP / 2) and met[1] == 0.0
    x = network_inputs(obj[None])
    assert x.shape == (1, 57) and np.all(x * 512 == np.round(x * 512))  # exact fixed-point numbers
    img = region_image(ak.Array([event]))[0]
    assert img.shape == (14, 18) and img.sum() == pytest.approx(140.0)  # everything but the muon, |η| < 3


def test_da4ml_resource_estimate_agrees_with_yosys(trigger_dir):
    """The trained AXOL1TL-like encoder's Verilog (written by the report) mapped by yosys, compared like with like:
    da4ml's cost with ReLU masks at one LUT per bit, as yosys maps them (da4ml's own figure assumes Vivado packs
    two mask bits per LUT6; yosys does not combine LUTs). Measured here on 9 networks: 0.7–3.3% (LUT), ≤ 1.4% (FF:
    yosys drops registers holding constant bits)."""
    ensure_debian_package("yosys", "yosys")
    est = load_report(trigger_dir).models["axol1tl"].resources.to_dict()
    syn = firmware.yosys_check(trigger_dir / "firmware" / "axol1tl" / "verilog", "axol1tl")
    assert syn["status"] == "ok", syn
    d = firmware.estimate_vs_yosys(est, syn)
    assert est["lut"] > 1000 and abs(d["lut_without_combining"]) < 0.05 and 0 <= d["ff"] < 0.02, d
    assert est["lut"] < est["lut_without_combining"] and abs(d["lut_da4ml"]) < 0.08, d


def test_firmware_is_bit_exact_with_the_quantised_models(trigger_report):
    for name in ("axol1tl", "cicada"):
        bits = trigger_report.models[name].bit_accuracy
        for check in ("hls4ml_csim_vs_quantised", "da4ml_emulation_vs_quantised"):
            assert bits[check].n >= 11_500  # every zero-bias and signal event, multi-TeV W' jets included
            assert bits[check].mismatches == 0 and bits[check].max_abs_diff == 0.0, (name, check)


def test_report_has_resources_rates_and_efficiencies(trigger_report, trigger_dir):
    axo = trigger_report.models["axol1tl"]
    res = axo.resources
    assert res.lut > 1000 and res.dsp == 0 and res.latency_cycles >= 1 and "da4ml" in res.source
    assert axo.utilisation_percent["Virtex-7 690T (xc7vx690t, CMS global trigger / CTP7)"]["lut"] == pytest.approx(
        100 * res.lut / 433_200
    )
    thr = axo.physics.threshold
    assert thr.zero_bias_events == 5_000
    assert thr.limited_by_statistics and "Pareto" in thr.method and thr.threshold_uncertainty > 0
    eff = axo.physics.signals["h_aa_4b"].at_target_rate.efficiency
    assert 0.0 <= eff <= 1.0
    curve = axo.physics.signals["h_aa_4b"].efficiency_vs_rate
    assert np.all(np.diff(curve.efficiency) >= 0)  # a looser threshold never loses signal
    assert axo.physics.float_model.decision_agreement_at_threshold > 0.95
    assert axo.yosys.status.startswith("skipped")
    assert "published" in trigger_report.published.source
    assert trigger_report.models["cicada"].physics.teacher.threshold.zero_bias_events == 5_000
    html = (trigger_dir / "plots.html").read_text()
    assert "axol1tl: zero-bias rate" in html and "cicada: signal efficiency" in html


def test_bad_l1_inputs_are_clear_errors(tmp_path, l1_samples):
    bg = l1_samples[0]
    (tmp_path / "junk").mkdir()
    with pytest.raises(InputError, match="junk: not an L1 sample"):
        L1Sample.open(tmp_path / "junk")
    small = L1Sample(bg.path, bg.meta, bg.inputs[:100], bg.image[:100])
    with pytest.raises(InputError, match="needs at least 10000"):
        build_trigger_report(tmp_path / "t", small, [], progress=False)
    assert not (tmp_path / "t").exists()


CSYNTH = """<?xml version="1.0" encoding="UTF-8"?>
<profile><UserAssignments><TargetClockPeriod>25.00</TargetClockPeriod></UserAssignments>
<PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>4.321</EstimatedClockPeriod>
</SummaryOfTimingAnalysis><SummaryOfOverallLatency><Best-caseLatency>2</Best-caseLatency>
<Worst-caseLatency>2</Worst-caseLatency><Interval-min>1</Interval-min><Interval-max>1</Interval-max>
</SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>0</BRAM_18K><DSP>3</DSP><FF>1234</FF><LUT>5678</LUT><URAM>0</URAM></Resources>
<AvailableResources><BRAM_18K>2940</BRAM_18K><DSP>3600</DSP><FF>866400</FF><LUT>433200</LUT><URAM>0</URAM>
</AvailableResources></AreaEstimates></profile>
"""


def test_a_vendor_report_is_read_with_hls4ml_and_stored_labelled(trigger_dir, tmp_path):
    from anomalyscope.core.trigger.report import import_vendor_report

    trig = tmp_path / "trigger"
    shutil.copytree(trigger_dir, trig)
    prj = trig / "firmware" / "axol1tl" / "hls4ml"
    with pytest.raises(InputError, match="no Vivado/Vitis C-synthesis report"):
        import_vendor_report(trig, "axol1tl", prj)  # before any vendor build
    sln = prj / "myproject_prj"
    (sln / "solution1" / "syn" / "report").mkdir(parents=True)
    (sln / "hls.app").write_text('<project><solutions><solution name="solution1"/></solutions></project>')
    (sln / "solution1" / "syn" / "report" / "myproject_csynth.xml").write_text(CSYNTH)
    entry = import_vendor_report(trig, "axol1tl", prj)
    assert entry["csynth"]["LUT"] == "5678" and entry["csynth"]["FF"] == "1234" and entry["csynth"]["DSP"] == "3"
    vendor = load_report(trig).models["axol1tl"].vendor
    assert vendor.source.startswith("Vivado/Vitis HLS report (user") and vendor.csynth["LUT"] == "5678"
    with pytest.raises(InputError, match="not an hls4ml project"):
        import_vendor_report(trig, "axol1tl", tmp_path)


def test_pileup_overlay_adds_exactly_the_drawn_interactions():
    parts = ak.Array([[{"E": 1.0}], [{"E": 2.0}, {"E": 3.0}], []])
    pool = ak.Array([[{"E": 10.0}], [{"E": 20.0}, {"E": 40.0}], [{"E": 100.0}]])
    events, n_pu = overlay_from_pool(parts, pool, 4.0, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # the same draws again
    n = rng.poisson(4.0, 3)
    drawn = rng.integers(0, 3, n.sum())
    pool_e = np.array([10.0, 60.0, 100.0])[drawn]
    owner = np.repeat(np.arange(3), n)
    expected = np.array([1.0, 5.0, 0.0]) + np.bincount(owner, pool_e, minlength=3)
    assert np.array_equal(n_pu, n) and np.allclose(ak.to_numpy(ak.sum(events.E, axis=1)), expected)
    unchanged, none = overlay_from_pool(parts, pool, 0.0, rng)
    assert none.sum() == 0 and ak.to_list(unchanged) == ak.to_list(parts)


def test_pileup_study_of_the_report_models(trigger_pileup):
    """The same crossings at <mu> = 0 and 30: 30 interactions on average are overlaid, the calorimeter ET grows by
    30 × a minimum-bias interaction's ET, and a model trained without pile-up fires far more often with it."""
    pu = load_pileup(trigger_pileup)
    assert pu.pileup == [0.0, 30.0] and pu.mean_overlaid[0] == 0.0 and abs(pu.mean_overlaid[1] - 30) < 0.6
    # one minimum-bias interaction leaves ≈ 40–60 GeV in |η| < 3 (the zero-bias crossing at <mu> = 0 is one)
    per_interaction = (pu.mean_region_et_gev[1] - pu.mean_region_et_gev[0]) / pu.mean_overlaid[1]
    assert per_interaction == pytest.approx(pu.mean_region_et_gev[0], rel=0.15)
    cic = pu.models["cicada"]
    assert cic.rate_at_nominal_hz[1] > 100 * max(cic.rate_at_nominal_hz[0], 40e6 / 1000)
    assert cic.median_zero_bias_score[1] > cic.median_zero_bias_score[0]
    for m in pu.models.values():
        for s in m.signals.values():
            assert all(0.0 <= e.efficiency <= 1.0 for e in s.efficiency_at_target_rate)
    with pytest.raises(InputError, match="too few events"):
        pileup_study(trigger_pileup, pileups=(0, 60), n_events=1000, pool_size=100)


def test_a_corrupt_pileup_study_is_rejected_with_the_file_named(tmp_path):
    assert load_pileup(tmp_path) is None  # none made yet
    (tmp_path / "pileup.json").write_text('{"pileup": [0, 20')
    with pytest.raises(InputError, match=r"pileup\.json: not a valid pile-up study"):
        load_pileup(tmp_path)
    (tmp_path / "pileup.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="expected a JSON object"):
        load_pileup(tmp_path)


def test_the_report_is_a_typed_record_checked_field_by_field(trigger_dir, tmp_path):
    """What is stored reads back as the same record; a report from before versions were stamped reads as version 0;
    a wrong value deep in the file is an error naming the file and the field's path; the writer is checked too."""
    from anomalyscope.core.results.attachments import write

    stored = json.loads((trigger_dir / "report.json").read_text())
    report = load_report(trigger_dir)
    assert isinstance(report, TriggerReport) and report.to_dict() == stored
    trig = tmp_path / "trigger"
    trig.mkdir()
    unstamped = {k: v for k, v in stored.items() if k != "schema_version"}
    (trig / "report.json").write_text(json.dumps(unstamped))
    assert load_report(trig).schema_version == 0 and load_report(trig).models == report.models
    unstamped["models"]["cicada"]["physics"]["teacher"]["threshold"]["threshold"] = "high"
    (trig / "report.json").write_text(json.dumps(unstamped))
    with pytest.raises(
        InputError,
        match=r"report\.json: field 'models\.cicada\.physics\.teacher\.threshold\.threshold' is 'high', "
        "expected a number$",
    ):
        load_report(trig)
    with pytest.raises(RuntimeError, match="field 'models.axol1tl.resources.luts' is not a field of Resources"):
        broken = json.loads(json.dumps(stored))
        broken["models"]["axol1tl"]["resources"]["luts"] = 1
        write(tmp_path / "broken.json", "trigger", broken)
    assert not (tmp_path / "broken.json").exists(), "nothing is written when the writer's content does not fit"
