"""The Lund ratio exported as correctionlib JSON: correctionlib evaluates it to our weights (1e-6, 10k jets)."""

from __future__ import annotations

import awkward as ak
import correctionlib  # a test dependency (pip install -e ".[test]")
import numpy as np

from anomalyscope.core.cli import main
from anomalyscope.core.lund.correction import NAME, correction_set, write_correction
from anomalyscope.core.lund.ratio import LundBinning, LundCounts, LundRatio
from anomalyscope.core.lund.subjets import Subjets
from anomalyscope.core.lund.weights import LundWeights


def _subjets(n_jets: int, seed: int) -> Subjets:
    """Two subjets per jet, Poisson(6) splittings each, spread beyond the grid on every axis."""
    rng = np.random.default_rng(seed)
    n = 2 * n_jets
    counts = rng.poisson(6, n)
    lnr = ak.unflatten(rng.uniform(-0.5, 7.5, counts.sum()), counts)
    lnkt = ak.unflatten(rng.uniform(-5.0, 4.5, counts.sum()), counts)
    return Subjets(
        np.repeat(np.arange(n_jets), 2), rng.uniform(20, 1300, n), np.zeros(n), np.zeros(n),
        np.full(n, -1), lnr, lnkt, n_jets, np.full(n_jets, 2),
    )  # fmt: skip


def _ratio(seed: int) -> LundRatio:
    b = LundBinning()
    rng = np.random.default_rng(seed)

    def counts():
        return LundCounts(rng.poisson(40, b.shape).astype(float), rng.poisson(2000, b.shape[0]).astype(float))

    return LundRatio(b, counts(), counts(), counts())


def test_correctionlib_evaluates_the_export_to_our_weights_on_10k_jets(tmp_path):
    ratio, sub = _ratio(1), _subjets(10_000, 2)
    path = write_correction(ratio, tmp_path / "lund.json")
    corr = correctionlib.CorrectionSet.from_file(str(path))[NAME]
    n_split = ak.to_numpy(ak.num(sub.ln_kt))
    owner = np.repeat(np.arange(len(sub)), n_split)
    pt = sub.pt[owner]
    lnr, lnkt = ak.to_numpy(ak.flatten(sub.ln_r_delta)), ak.to_numpy(ak.flatten(sub.ln_kt))
    assert len(pt) > 100_000
    for syst, ours in (("nominal", LundWeights(ratio, sub).nominal()), ("model", None)):
        factor = corr.evaluate(syst, pt, lnr, lnkt)
        w = np.exp(np.bincount(sub.jet[owner], weights=np.log(factor), minlength=sub.n_jets))
        w /= w.mean()
        if ours is None:  # the alternative-simulation variation
            ours = LundWeights(ratio, sub).variations()["model"]
        assert np.allclose(w, ours, rtol=1e-6, atol=0), syst
    assert np.std(w) > 0.05  # a real correction, not weights of 1


def test_the_export_command_writes_a_runs_ratio(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "lund").mkdir(parents=True)
    _ratio(3).save(run / "lund" / "ratio.json")
    assert main(["export-lund", str(run), "--out", str(tmp_path / "c.json")]) == 0
    cset = correctionlib.CorrectionSet.from_file(str(tmp_path / "c.json"))
    assert list(cset) == [NAME] and "correctionlib" in capsys.readouterr().out
    assert main(["export-lund", str(tmp_path), "--out", str(tmp_path / "d.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Lund reweighting" in err[0]
    assert correction_set(_ratio(4))["corrections"][0]["inputs"][1]["name"] == "subjet_pt"
