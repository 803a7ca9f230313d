"""Substructure on hand-made jets with answers known in closed form."""

from __future__ import annotations

import awkward as ak
import numpy as np

from anomalyscope.core.features import Selection
from anomalyscope.core.features.btag import EFFICIENCY_AT_WP, WORKING_POINT, btag_score, hadron_flavour_of_pid
from anomalyscope.core.features.jets import event_record, leading_dijets

SEL = Selection(mjj_min=0.0, jet_pt_min=50.0)


def _p(pt, eta, phi, m=0.0, cls=0):
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return {"px": px, "py": py, "pz": pz, "E": float(np.sqrt(px**2 + py**2 + pz**2 + m**2)), "cls": cls}


def _event(jet_a, jet_b):
    return ak.Array([jet_a + jet_b])


def _features(events):
    keep, jets, cons, mjj, deta = leading_dijets(events, SEL)
    rec = event_record(jets, cons, mjj[keep], deta[keep], {}, SEL, None, np.random.default_rng(0))
    return keep, rec


def test_two_particle_jets_softdrop_lund_and_mass():
    # jet 1: two massless prongs, pT 300 and 100, ΔR = 0.4 apart (z = 0.25 passes z_cut = 0.1)
    a = [_p(300, 0.0, 0.0), _p(100, 0.4, 0.0)]
    b = [_p(350, -0.5, np.pi)]
    keep, rec = _features(_event(a, b))
    assert keep.tolist() == [True]
    j1 = rec.j1[0]
    # m² = 2 pT1 pT2 (cosh Δη − cos Δφ)
    m_expect = np.sqrt(2 * 300 * 100 * (np.cosh(0.4) - 1.0))
    assert abs(j1.mass - m_expect) / m_expect < 1e-4
    assert abs(j1.msoftdrop - m_expect) / m_expect < 1e-4
    lund = j1.lund
    assert len(lund) == 1
    assert abs(lund[0].ln_inv_delta - np.log(1 / 0.4)) < 1e-3
    assert abs(lund[0].ln_kt - np.log(100 * 0.4)) < 1e-2
    assert abs(lund[0].z - 0.25) < 5e-3
    assert j1.n_constituents == 2
    tot = {k: sum(p[k] for p in a + b) for k in ("px", "py", "pz", "E")}
    mjj = np.sqrt(tot["E"] ** 2 - tot["px"] ** 2 - tot["py"] ** 2 - tot["pz"] ** 2)
    assert abs(rec.mjj[0] - mjj) / mjj < 1e-5


def test_softdrop_grooms_soft_wide_angle_radiation():
    # a hard 1-prong core plus a soft (z ≈ 0.02) particle at ΔR = 0.6: soft drop removes it
    a = [_p(500, 0.0, 0.0), _p(10, 0.6, 0.0)]
    b = [_p(500, 0.3, np.pi)]
    _, rec = _features(_event(a, b))
    assert rec.j1[0].mass > 30
    assert rec.j1[0].msoftdrop < 1e-3


def test_nsubjettiness_counts_prongs():
    rng = np.random.default_rng(1)

    def prong(pt, eta, phi, n=8):
        return [
            _p(
                pt / n * (1 + 0.1 * rng.standard_normal()),
                eta + 0.01 * rng.standard_normal(),
                phi + 0.01 * rng.standard_normal(),
            )
            for _ in range(n)
        ]

    two = prong(300, 0.0, 0.0) + prong(300, 0.3, 0.2)
    one = prong(600, 0.0, np.pi) + [_p(1, 0.2, np.pi + 0.2)]
    _, rec = _features(_event(two, one))
    two_jet = rec.j1[0] if abs(rec.j1[0].phi) < 1 else rec.j2[0]
    one_jet = rec.j2[0] if abs(rec.j1[0].phi) < 1 else rec.j1[0]
    assert two_jet.tau21 < 0.2, "two tight prongs: τ2 ≪ τ1"
    assert one_jet.tau1 < 0.05, "one tight prong: τ1 ≈ 0"
    assert two_jet.tau1 > 0.1


def test_events_failing_the_selection_are_dropped():
    low_pt = [_p(100, 0.0, 0.0)] + [_p(600, 0.2, np.pi)]  # only one jet above 300 GeV with default cuts
    keep, _, _, _, _ = leading_dijets(ak.Array([low_pt]), Selection())
    assert keep.tolist() == [False]
    far = [_p(600, -1.4, 0.0), _p(600, 1.4, np.pi)]  # |Δη| = 2.8 > 2.5
    keep, _, _, _, deta = leading_dijets(ak.Array([far]), Selection())
    assert keep.tolist() == [False] and abs(deta[0] - 2.8) < 1e-6


def test_btag_working_point_efficiencies():
    rng = np.random.default_rng(3)
    for flav, eff in EFFICIENCY_AT_WP.items():
        s = btag_score(np.full(40000, flav), rng)
        assert abs(np.mean(s > WORKING_POINT) - eff) < 0.01 + 3 * np.sqrt(eff * (1 - eff) / 40000)


def test_hadron_flavour_from_pdg_ids():
    pid = np.array([511, -521, 5122, 421, 4122, 211, 21, 5, 22, 2212, 443, 553])
    # J/ψ (443) counts as charm content and Υ (553) as bottom content by the digit rule
    assert hadron_flavour_of_pid(pid).tolist() == [5, 5, 5, 4, 4, 0, 0, 0, 0, 0, 4, 5]
