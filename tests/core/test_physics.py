"""Known physics of generated events: the LHCO W' → X Y signal against QCD."""

from __future__ import annotations

import json

import numpy as np
from scipy.stats import ks_2samp

from core.generate.runner import measure_edge


def _both(es, field):
    return np.concatenate([es.column(f"j1.{field}"), es.column(f"j2.{field}")])


def test_signal_softdrop_masses_peak_at_x_and_y(signal_es):
    m1, m2 = signal_es.column("j1.msoftdrop"), signal_es.column("j2.msoftdrop")
    heavy, light = np.maximum(m1, m2), np.minimum(m1, m2)
    h, edges = np.histogram(heavy, bins=np.arange(0, 1000, 50))
    assert 450 <= edges[np.argmax(h)] < 550, "heavier jet should peak at m_X = 500 GeV"
    near_x = (heavy > 400) & (heavy < 600)
    h, edges = np.histogram(light[near_x], bins=np.arange(0, 400, 25))
    assert 75 <= edges[np.argmax(h)] < 125, "lighter jet should peak at m_Y = 100 GeV"
    assert near_x.mean() > 0.3


def test_signal_jets_are_two_pronged_qcd_jets_are_not(signal_es, qcd_es):
    sig, bkg = _both(signal_es, "tau21"), _both(qcd_es, "tau21")
    assert np.median(sig) < np.median(bkg) - 0.1
    assert ks_2samp(sig, bkg).pvalue < 1e-10
    assert np.all((sig >= 0) & (sig <= 1.5))


def test_signal_mjj_peaks_near_wprime_mass(signal_es):
    mjj = signal_es.column("mjj")
    h, edges = np.histogram(mjj, bins=np.arange(2000, 4500, 100))
    assert 3300 <= edges[np.argmax(h)] < 3600
    assert 3200 < np.median(mjj) < 3600


def test_qcd_jets_are_mostly_light_and_signal_kinematics_pass_selection(qcd_es):
    pt1, pt2 = qcd_es.column("j1.pt"), qcd_es.column("j2.pt")
    assert np.all(pt1 >= pt2), "jets are ordered by pT"
    assert np.all(pt2 > 300) and np.all(np.abs(qcd_es.column("j1.eta")) < 2.5)
    assert np.all(qcd_es.column("deta") < 2.5) and np.all(qcd_es.column("mjj") >= 1450)
    flav = _both(qcd_es, "hadron_flavour")
    assert (flav == 0).mean() > 0.7


def test_schema_counts_and_provenance(qcd_es, signal_es):
    for es, proc in ((qcd_es, "qcd"), (signal_es, "wprime_xy")):
        schema = json.loads((es.path / "schema.json").read_text())
        assert schema["counts"] == {proc: len(es)}
        assert schema["n_events"] == len(es) == len(es.column("mjj"))
        info = schema["processes"][proc]
        assert info["n_generated"] == 400 and 0 < info["n_selected"] <= 400
        assert info["sigma_pb"] > 0
        assert schema["units"]["energy"] == "GeV"
        assert len(set(es.column("event_id"))) == len(es)
    assert json.loads((signal_es.path / "schema.json").read_text())["labels"] == {"1": len(signal_es)}


def test_qcd_threshold_edge_is_measured_and_physical(qcd_es):
    turn = qcd_es.schema["turn_on"]
    # parton level: m_jj ≤ 2·pTHat·cosh(Δη/2) for |Δη| < 1.3 → 2.44 TeV at pTHat = 1 TeV; jets smear it
    assert 2200 <= turn["edge_gev"] <= 3200
    assert qcd_es.mjj_fit_min == max(turn["edge_gev"], 1450)


def test_measure_edge_known_answer():
    rng = np.random.default_rng(0)
    pthat = rng.uniform(600, 1500, 5000)
    mjj = 2.4 * pthat + rng.uniform(-50, 50, 5000)
    lost_max = np.max(mjj[pthat < 1000])
    res = measure_edge(mjj, pthat, np.full(5000, 5000.0), {"pthat_min": 1000.0, "mhat_min": 0.0}, 1450.0)
    assert res["edge_gev"] == np.ceil(lost_max / 10) * 10
    assert res["mjj_fit_min"] == res["edge_gev"]
    curve = res["efficiency_curve"]
    centres = np.array(curve["mjj_bin_edges"][:-1]) + 50
    eff = np.array([np.nan if e is None else e for e in curve["efficiency"]])
    assert np.all(eff[centres > res["edge_gev"] + 100][~np.isnan(eff[centres > res["edge_gev"] + 100])] == 1.0)
    assert np.nanmin(eff) < 0.1
