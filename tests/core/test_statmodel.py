"""A bump hunt's model exported for pyhf and Combine: the files hold what the search fitted, pyhf recovers an
injected signal strength from them, and pyhf's CLs equals ours (background fixed) within 2%."""

from __future__ import annotations

import json

import numpy as np
import pyhf  # a test dependency (pip install -e ".[test]")
import pytest
import uproot

from anomalyscope.core.bumphunt.likelihood import FixedBackground, ProfileLikelihood
from anomalyscope.core.bumphunt.limits import CLsCalculator, cls_limit
from anomalyscope.core.cli import main
from anomalyscope.core.errors import InputError
from anomalyscope.core.results.statmodel import StatModel, statistical_model, write_model


def _pyhf(model: StatModel):
    ws = pyhf.Workspace(model.pyhf_spec())
    m = ws.model()
    return m, ws.data(m)


def _toy_model(n_signal: float) -> StatModel:
    edges = np.linspace(2000.0, 5000.0, 31)
    centers = 0.5 * (edges[1:] + edges[:-1])
    background = 4000.0 * np.exp(-(centers - 2000.0) / 500.0) * np.diff(edges) / 100.0
    signal = np.diff(np.exp(-0.5 * ((edges - 3500.0) / 175.0) ** 2).cumsum())  # any peaked template
    signal = np.clip(signal, 0, None) / np.clip(signal, 0, None).sum()
    return StatModel("toy", 0.1, "W", 3500.0, edges, background + n_signal * signal, background, signal, 4)


@pytest.mark.parametrize("n_signal", [0.0, 60.0])
def test_pyhf_recovers_the_injected_signal_strength_from_the_workspace(n_signal):
    model, data = _pyhf(_toy_model(n_signal))  # Asimov data: background + n_signal events of signal
    mu_hat = float(pyhf.infer.mle.fit(data, model)[model.config.poi_index])
    assert mu_hat == pytest.approx(n_signal, abs=0.5)


def test_the_exported_files_hold_the_searchs_selection_and_give_our_cls(small_run, tmp_path):
    model = statistical_model(small_run, "inclusive")
    search, table = small_run.search(), small_run.table()
    expected = search.spectrum(table.mjj[search.in_region(table.mjj, table.deta)])
    assert np.array_equal(model.observed, expected.counts) and model.window is None and model.efficiency == 1.0
    assert model.background.sum() == pytest.approx(model.observed.sum(), rel=0.02)  # a fit to these counts
    out = write_model(model, tmp_path / "model")
    with uproot.open(out / "shapes.root") as f:
        assert np.array_equal(f["data_obs"].values(), model.observed)
        assert np.allclose(f["background"].values(), model.background) and np.allclose(
            f["signal"].values(), model.signal
        )
        assert np.allclose(f["data_obs"].axis().edges(), model.edges)
    card = (out / "datacard.txt").read_text().splitlines()
    assert "shapes * * shapes.root $PROCESS" in card and f"observation  {model.observed.sum():g}" in card
    assert "imax 1" in card and "rate         -1  -1" in card

    spec = json.loads((out / "workspace.json").read_text())
    pm, data = _pyhf(StatModel(**{**model.__dict__, "observed": np.array(spec["observations"][0]["data"])}))
    pl = ProfileLikelihood(model.observed, model.signal, FixedBackground(model.background))
    ours, mu95 = CLsCalculator(pl), cls_limit(pl).observed
    for mu in (0.5 * mu95, mu95, 1.5 * mu95):  # across the limit: CLs from ≈ 0.3 down to ≈ 0.01
        theirs = float(pyhf.infer.hypotest(mu, data, pm, test_stat="qtilde", calctype="asymptotics"))
        assert ours.cls(mu) == pytest.approx(theirs, rel=0.02, abs=1e-4), mu
    assert ours.cls(mu95) == pytest.approx(0.05, abs=1e-3)
    with pytest.raises(InputError, match="already exists"):
        write_model(model, out)


def test_export_model_command_writes_the_files_or_one_error_line(small_run, tmp_path, capsys):
    assert main(["export-model", str(small_run.path), "--method", "inclusive", "--out", str(tmp_path / "m")]) == 0
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "datacard.txt", "model.json", "shapes.root", "workspace.json",
    ]  # fmt: skip
    assert "combine -M AsymptoticLimits" in capsys.readouterr().out
    assert main(["export-model", str(small_run.path), "--method", "cwola", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no method 'cwola'" in err[0] and not (tmp_path / "x").exists()
