"""Known physics of generated events: the LHCO W' → X Y signal against QCD."""

from __future__ import annotations

import json

import numpy as np
from scipy.stats import ks_2samp

from anomalyscope.core.generate.turn_on import measure_edge


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


def test_an_edge_the_calibration_cannot_bound_is_named_with_the_measured_rule(qcd_es):
    """600 calibration events see a handful above a 1 TeV threshold's edge: the loss there is bounded only
    loosely, and the search is told where pTHat > 1 TeV is measured fully efficient (3.2 × 1000 GeV); a
    calibration that bounds its loss to ≤ 5% raises nothing."""
    import copy

    turn = qcd_es.schema["turn_on"]
    assert turn["inefficiency_95cl_above_edge"] > 0.05 and qcd_es.mjj_fit_min < 3200
    assert "above 3200 GeV" in qcd_es.edge_caveat and "fit_min" in qcd_es.edge_caveat
    bounded = copy.copy(qcd_es)
    bounded.schema = {**qcd_es.schema, "turn_on": {**turn, "inefficiency_95cl_above_edge": 0.02}}
    assert bounded.edge_caveat is None
    from anomalyscope.core.bumphunt.single import search_of_eventset

    assert qcd_es.edge_caveat in search_of_eventset(qcd_es).warnings


def test_measure_edge_known_answer():
    """Lost events (below the thresholds) uniform in 1.5–2.5 TeV, kept events 4× denser, uniform in 1.5–4 TeV:
    the fraction lost above m is (2500 − m) / (18500 − 5m) ≤ 1% from m = 2437 GeV, however large the sample.
    The largest lost m_jj (≈ 2.5 TeV, the former definition) is not the edge."""
    for n_lost in (1000, 20000):
        rng = np.random.default_rng(n_lost)
        lost_m, kept_m = rng.uniform(1500, 2500, n_lost), rng.uniform(1500, 4000, 10 * n_lost)
        mjj = np.concatenate([lost_m, kept_m])
        pthat = np.concatenate([np.full(n_lost, 900.0), np.full(10 * n_lost, 1100.0)])
        res = measure_edge(mjj, pthat, np.full(len(mjj), 5000.0), {"pthat_min": 1000.0, "mhat_min": 0.0}, 1450.0)
        tol = 40 if n_lost == 1000 else 12  # the statistical spread of the crossing point
        assert abs(res["edge_gev"] - 2437) < tol, res["edge_gev"]
        assert res["mjj_fit_min"] == res["edge_gev"] and res["edge_gev"] < lost_m.max() - 30
        assert res["lost_above_edge"] <= 0.01 * res["n_above_edge"] < res["lost_above_edge"] + 0.01 * 20 * n_lost
        assert res["lost_above_edge"] / res["n_above_edge"] < res["inefficiency_95cl_above_edge"] < 0.02
        curve = res["efficiency_curve"]
        centres = np.array(curve["mjj_bin_edges"][:-1]) + 50
        eff = np.array([np.nan if e is None else e for e in curve["efficiency"]])
        assert np.all(eff[(centres > 2550) & ~np.isnan(eff)] == 1.0) and np.nanmin(eff) < 0.85


def test_measure_edge_with_few_calibration_events_tolerates_no_loss():
    """Below 100 events above the edge 1% is less than one event: the edge is then just above the largest lost
    m_jj, and with no lost event at all there is no edge."""
    rng = np.random.default_rng(3)
    pthat = rng.uniform(600, 1500, 60)
    mjj = 2.4 * pthat + rng.uniform(-50, 50, 60)
    res = measure_edge(mjj, pthat, np.full(60, 5000.0), {"pthat_min": 1000.0, "mhat_min": 0.0}, 1450.0)
    assert res["edge_gev"] == np.ceil(np.max(mjj[pthat < 1000]) / 10) * 10 and res["lost_above_edge"] == 0
    none_lost = measure_edge(mjj, pthat + 1000, np.full(60, 5000.0), {"pthat_min": 1000.0, "mhat_min": 0.0}, 1450.0)
    assert none_lost["edge_gev"] == 0.0 and none_lost["mjj_fit_min"] == 1450.0
