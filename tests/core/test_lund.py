"""Lund-plane reweighting: subjets and their Lund planes, the data/simulation ratio, weights, closure, Run output."""

from __future__ import annotations

import shutil

import awkward as ak
import numpy as np
import pytest

from anomalyscope.core.errors import InputError
from anomalyscope.core.generate.processes import TUNES
from anomalyscope.core.lund.closure import closure_study
from anomalyscope.core.lund.control import ControlSelection, fit_ratio
from anomalyscope.core.lund.ratio import LundBinning, LundCounts, LundRatio
from anomalyscope.core.lund.report import LundResult, add_to_run
from anomalyscope.core.lund.subjets import MATCHED, SHARED, UNMATCHED, Subjets, eventset_jets, prongs_in_jets, recluster
from anomalyscope.core.lund.weights import LundWeights
from anomalyscope.core.results import Run


def particle(pt, eta, phi):
    return {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "E": pt * np.cosh(eta)}


def two_prong_jet():
    """Prong A: 300 GeV at (0, 0) with a 30 GeV emission at ΔR = 0.1; prong B: 200 GeV at (0.4, 0)."""
    return [particle(300, 0.0, 0.0), particle(30, 0.1, 0.0), particle(200, 0.4, 0.0)]


def test_recluster_gives_the_prongs_and_the_lund_splitting_of_a_known_jet():
    jets = ak.Array([two_prong_jet()])
    quarks = ak.Array([[{"eta": 0.01, "phi": 0.0}, {"eta": 0.41, "phi": 0.01}]])
    sub = recluster(jets, np.array([2]), 0.8, quarks, match_dr=0.2)
    assert len(sub) == 2 and sub.n_jets == 1
    order = np.argsort(-sub.pt)
    # the 300 GeV prong absorbs its 30 GeV emission: pT ≈ 330 GeV; the other is the lone 200 GeV particle
    np.testing.assert_allclose(sub.pt[order], [330.0, 200.0], rtol=0.01)
    assert list(sub.category) == [MATCHED, MATCHED]
    lead = order[0]
    # one primary splitting: kt = pT_soft · ΔR = 30 × 0.1 = 3 GeV, ln(R/ΔR) = ln 8
    np.testing.assert_allclose(ak.to_numpy(sub.ln_kt[lead]), [np.log(3.0)], atol=0.01)
    np.testing.assert_allclose(ak.to_numpy(sub.ln_r_delta[lead]), [np.log(8.0)], atol=0.01)
    assert len(sub.ln_kt[order[1]]) == 0


def test_subjet_categories_when_quarks_share_a_subjet_or_miss_them():
    jets = ak.Array([two_prong_jet()])
    shared = ak.Array([[{"eta": 0.0, "phi": 0.0}, {"eta": 0.05, "phi": 0.0}]])
    sub = recluster(jets, np.array([2]), 0.8, shared)
    assert sorted(sub.category.tolist()) == [UNMATCHED, SHARED]
    far = ak.Array([[{"eta": 0.0, "phi": 0.0}, {"eta": 0.4, "phi": 0.5}]])
    sub = recluster(jets, np.array([2]), 0.8, far)
    assert sorted(sub.category.tolist()) == [MATCHED, UNMATCHED]


def test_generated_w_jets_carry_their_two_quarks(lund_control):
    es = lund_control["sim"]
    jets = eventset_jets(es)
    n = ak.to_numpy(ak.num(prongs_in_jets(jets["partons"], jets["eta"], jets["phi"], 0.8)))
    pdg = np.abs(ak.to_numpy(ak.flatten(jets["partons"].pdgid)))
    assert set(np.unique(pdg)) <= {1, 2, 3, 4}  # W → ud̄, cs̄
    assert np.mean(n == 2) > 0.85  # at √s = 13 TeV, 1 TeV W jets contain both quarks
    assert "partons" not in es.load(["mjj"]).fields  # truth, hidden from methods


def counts_of(pt, splits, binning):
    """A Subjets table of one subjet per entry with the given (ln R/ΔR, ln kt) splittings."""
    n = len(pt)
    return Subjets(
        np.arange(n),
        np.asarray(pt, float),
        np.zeros(n),
        np.zeros(n),
        np.full(n, -1, np.int8),
        ak.Array([[a for a, _ in s] for s in splits]),
        ak.Array([[b for _, b in s] for s in splits]),
        n,
        np.ones(n, int),
    )


def test_ratio_of_densities_weights_and_storage(tmp_path):
    binning = LundBinning(subjet_pt=(0.0, 100.0, 200.0), ln_r_delta=(0.0, 1.0, 2.0), ln_kt=(0.0, 1.0, 2.0))
    # data: 2 subjets in pT bin 0 with 100 splittings each in bin (0, 0); simulation: 4 subjets with 50 each
    data = counts_of([50, 50], [[(0.5, 0.5)] * 100] * 2, binning)
    sim = counts_of([50] * 4, [[(0.5, 0.5)] * 50] * 4, binning)
    ratio = LundRatio(binning, LundCounts.of(data, binning), LundCounts.of(sim, binning))
    # densities 2 vs 1 splittings per subjet → ratio 2; empty bins → 1
    assert ratio.ratio[0, 0, 0] == pytest.approx(2.0)
    assert np.all(np.delete(ratio.ratio.reshape(-1), 0) == 1.0)
    assert ratio.stat_error()[0, 0, 0] == pytest.approx(np.sqrt(1 / 200 + 1 / 200))
    toys = ratio.toys(400, seed=3)[:, 0, 0, 0]
    assert toys.mean() == pytest.approx(2.0, rel=0.02)
    assert toys.std() == pytest.approx(2.0 * np.sqrt(1 / 200 + 1 / 200), rel=0.15)
    # a jet of two such splittings weighs 2² = 4 times a jet without any (out-of-grid splittings use edge bins)
    target = counts_of([50, 50, 150], [[(0.5, 0.5), (0.5, 0.5)], [], [(5.0, -3.0)]], binning)
    w = LundWeights(ratio, target).nominal()
    assert w[0] / w[1] == pytest.approx(4.0) and w[2] / w[1] == pytest.approx(1.0)
    assert w.mean() == pytest.approx(1.0)
    path = ratio.save(tmp_path / "ratio.json")
    again = LundRatio.load(path)
    np.testing.assert_array_equal(again.ratio, ratio.ratio)
    path.write_text(path.read_text().replace("anomalyscope.lund_ratio/1", "something-else"))
    with pytest.raises(InputError, match="ratio.json: field 'format'"):
        LundRatio.load(path)


def test_tunes_are_valid_pythia_settings():
    import pythia8mc

    py = pythia8mc.Pythia("", False)
    for settings in TUNES.values():
        for s in settings:
            assert py.readString(s), s


@pytest.fixture(scope="module")
def closure(lund_control):
    c = lund_control
    return closure_study(c["data"], c["sim"], sim_alt=c["sim_alt"], n_toys=40)


def test_reweighting_closes_on_independent_halves(closure):
    tau21 = closure.observables["tau21"]
    (c0, n0), (c1, n1) = tau21.chi2_ndf_before, tau21.chi2_ndf_after
    assert c0 / n0 > 2.0  # the pseudo-data's tune is visibly different
    assert c1 / n1 < 1.8 and c1 < 0.5 * c0
    for key in ("tau32", "msoftdrop"):
        o = closure.observables[key]
        assert o.chi2_ndf_after_with_uncertainty[0] / o.chi2_ndf_after[1] < 1.5
    cut = closure.cuts["tau21 < 0.35"]
    assert abs(cut.before_in_sigma) > 2.5  # the simulation's efficiency is off before the correction
    for name, c in closure.cuts.items():
        assert abs(c.non_closure_in_sigma) < 2.0, name
        assert set(c.uncertainty) == {"stat", "model", "pt_extrapolation"}


def test_pseudo_data_reweighted_to_itself_gives_weights_near_one(closure):
    s = closure.self_closure
    # weights normalised to mean 1 with a log-normal-like spread σ have median ≈ exp(−σ²/2)
    assert s.median_weight == pytest.approx(np.exp(-(s.rms_ln_weight**2) / 2), abs=0.08)
    # the spread of the weights is what the control sample's statistics explain, nothing more
    assert s.rms_ln_weight < 1.3 * s.expected_rms_ln_weight_from_statistics


def test_lund_added_to_a_run_gives_corrected_signal_efficiencies(small_run, lund_control, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(small_run.path, run)
    c = lund_control
    out = add_to_run(run, c["data"], c["sim"], c["sim_alt"], n_toys=20)
    lund = LundResult.of_run(run)
    assert lund.toys.shape == (len(lund.event_id), 20)
    report = lund.report
    assert report.subjets.categories["matched"] > 0.8 * report.subjets.n
    eff = report.efficiencies["cut_tau21"]["0.1"]
    assert 0 < eff.corrected < 1 and eff.total > 0
    assert {"stat", "model", "pt_extrapolation", "unmatched", "shared"} == set(eff.uncertainty)
    assert "inclusive" not in report.efficiencies  # no cut to correct
    assert {"lund", "lund_closure"} <= set(Run.open(run).attachments())  # the Run knows both files
    # a failing re-run (no control jet passes) leaves the stored result as it was
    before = (out / "ratio.json").read_text()
    with pytest.raises(InputError, match="no jet passes the control selection"):
        add_to_run(run, c["data"], c["sim"], control=ControlSelection(msd_min=5000.0))
    assert (out / "ratio.json").read_text() == before
    assert not [p for p in run.iterdir() if p.name.startswith(".lund")]


def test_ratio_needs_constituents_and_a_valid_selection(lund_control):
    with pytest.raises(InputError, match="n_prongs must be 1..6"):
        ControlSelection(n_prongs=9)
    with pytest.raises(InputError, match="jets must be among j1, j2"):
        ControlSelection(jets=("j3",))
    r = fit_ratio(lund_control["data"], lund_control["sim"], part="even")
    assert r.provenance["events"] == "even" and r.sim_alt is None
    assert any("alphaSvalue" in s for s in r.provenance["tunes"]["data"])
