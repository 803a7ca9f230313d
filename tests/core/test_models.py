"""Signal models: cascade kinematics, charge and colour flow of the Les Houches events, and a run of each."""

from __future__ import annotations

import numpy as np
import pytest

from anomalyscope.core.errors import InputError
from anomalyscope.core.generate import MODELS, generate, get_model
from anomalyscope.core.generate.cascade import CascadeBuilder, production_lines, two_body
from anomalyscope.core.generate.processes import production_settings
from anomalyscope.core.generate.pythia import start as start_pythia

CASCADE_MODELS = [name for name, m in MODELS.items() if m.cascade is not None]


def test_two_body_decay_conserves_momentum_and_sets_masses():
    rng = np.random.default_rng(0)
    n = 5000
    parent = np.column_stack([rng.normal(0, 300, n), rng.normal(0, 300, n), rng.normal(0, 1000, n), np.zeros(n)])
    parent[:, 3] = np.sqrt(np.sum(parent[:, :3] ** 2, axis=1) + 3500.0**2)
    m1, m2 = np.full(n, 500.0), np.full(n, 100.0)
    p1, p2 = two_body(parent, m1, m2, rng)
    assert np.allclose(p1 + p2, parent, rtol=1e-9, atol=1e-6)
    mass = lambda p: np.sqrt(p[:, 3] ** 2 - np.sum(p[:, :3] ** 2, axis=1))  # noqa: E731
    assert np.allclose(mass(p1), 500.0, rtol=1e-6) and np.allclose(mass(p2), 100.0, rtol=1e-5)


@pytest.mark.parametrize("name", CASCADE_MODELS)
def test_cascade_conserves_charge_and_colour(name):
    model = get_model(name)
    m = model.masses({})
    prod = start_pythia(production_settings(model, m), 42)
    incoming, a_line, _ = production_lines(prod, 40)
    lines = CascadeBuilder(prod.particleData, m, np.random.default_rng(1)).build(incoming, a_line, model.cascade)
    pd = prod.particleData
    final = [ln for ln in lines if ln.status == 1]
    for i in range(40):
        q_in = sum(pd.charge(int(ln.pdg[i])) for ln in incoming)
        q_out = sum(pd.charge(int(ln.pdg[i])) for ln in final)
        assert abs(q_in - q_out) < 1e-9
        # every colour line is opened once and closed once (incoming partons carry their colours reversed)
        col_in = [int(ln.col[i]) for ln in incoming if ln.col[i]] + [int(ln.acol[i]) for ln in final if ln.acol[i]]
        col_out = [int(ln.acol[i]) for ln in incoming if ln.acol[i]] + [int(ln.col[i]) for ln in final if ln.col[i]]
        assert sorted(col_in) == sorted(col_out)
        p_final = sum(ln.p[i] for ln in final)
        assert np.allclose(p_final, a_line.p[i], atol=1e-6 * a_line.p[i][3])


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [n for n, m in MODELS.items() if n not in ("qcd", "wprime_xy") and m.defaults.get("mA", 0) > 1000]
)
def test_every_signal_model_generates_a_resonance_near_its_mass(name, tmp_path):
    es = generate(name, 80, 3, tmp_path / name, workers=1, chunk_size=80, progress=False)
    assert len(es) > 20
    mA = get_model(name).defaults["mA"]
    assert 0.75 * mA < np.median(es.column("mjj")) < 1.05 * mA
    assert es.schema["processes"][name]["params"]["mA"] == mA


def test_bad_model_configs_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="unknown process 'zprime_foo'"):
        generate("zprime_foo", 10, 1, tmp_path / "x")
    with pytest.raises(InputError, match="mB must be a positive mass"):
        generate("wprime_xy", 10, 1, tmp_path / "x", params={"mB": -5.0})
    with pytest.raises(InputError, match="lighter than its decay products"):
        generate("wprime_xy", 10, 1, tmp_path / "x", params={"mB": 3000.0, "mC": 800.0})
    with pytest.raises(InputError, match="unknown parameter"):
        generate("wprime_xy", 10, 1, tmp_path / "x", params={"mZ": 1.0})
    with pytest.raises(InputError, match="positive integer"):
        generate("qcd", 0, 1, tmp_path / "x")
    assert not (tmp_path / "x").exists()
