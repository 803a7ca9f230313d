"""The retrained null: background-only pseudo-datasets through a Run's whole chain, and the calibration it gives.

Known answers: the calibrated p is the fraction of pseudo-datasets reaching a Z (a bound where none does); each
pseudo-dataset is searched as the Run was (same events count, same fit start and windows); the command resumes
where it stopped and refuses a pool holding signal.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from scipy import stats

from anomalyscope.core.data import EventSet, inject
from anomalyscope.core.data.eventset import select
from anomalyscope.core.errors import InputError
from anomalyscope.core.results import Run
from anomalyscope.core.results.records.null import NullCalibration


def calibration(max_z, p_toys=None, observed=3.0):
    n = len(max_z)
    return NullCalibration(
        pool="pool", pool_events=10 * n, n_events=100, shared="", max_z=list(max_z),
        p_toys=list(p_toys if p_toys is not None else np.linspace(0.01, 0.99, n)), method_max_z={},
        observed_max_z=observed, observed_p_toys=0.01, seconds=1.0,
    )  # fmt: skip


def test_the_calibrated_p_is_the_fraction_of_retrained_nulls_reaching_z_and_a_bound_beyond():
    cal = calibration(np.arange(1.0, 3.0, 0.04))  # 50 values 1.00 … 2.96
    p, hi, bound = cal.p_calibrated(2.5)
    assert not bound and p == np.sum(np.arange(1.0, 3.0, 0.04) >= 2.5) / 50 and hi > p
    p, hi, bound = cal.p_calibrated(3.1)  # none reach it: the 95% CL bound 1 − 0.05^(1/50)
    assert bound and abs(p - (1 - 0.05 ** (1 / 50))) < 1e-9
    assert cal.text(3.1).startswith("calibrated global > 1.") and "0 of 50" in cal.text(3.1)
    # a toy p that is uniform on the null is reported as calibrated; one piled up at 0 is not
    rng = np.random.default_rng(0)
    assert calibration(np.ones(200), rng.uniform(0, 1, 200)).toy_miscalibration()["ks_pvalue_uniform"] > 0.01
    piled = calibration(np.ones(200), rng.uniform(0, 0.2, 200)).toy_miscalibration()
    assert piled["ks_pvalue_uniform"] < 1e-6 and piled["fraction_below_0.05"] > 0.2
    # with a calibrated statistic the leave-one-out calibrated p of each pseudo-dataset is uniform
    z = stats.norm.isf(rng.uniform(0, 1, 200))
    loo = [np.mean(np.delete(z, i) >= z[i]) for i in range(len(z))]
    assert stats.kstest(loo, "uniform").pvalue > 0.01


@pytest.fixture(scope="module")
def null_run(tmp_path_factory, qcd_es, signal_es):
    """A Run on 300 of the QCD events with 20 W' events; the 400 QCD events are the background-only pool."""
    d = tmp_path_factory.mktemp("null")
    mask = np.zeros(len(qcd_es), dtype=bool)
    mask[np.random.default_rng(3).choice(len(qcd_es), 280, replace=False)] = True
    part = select(qcd_es, mask, d / "part", note="280 of the QCD events")
    inject(part, signal_es, 20, d / "data", seed=2)
    cfg = {
        "eventset": "data",
        "out": "run",
        "search": {"windows": "lhco", "min_window_events": 5, "efficiencies": [0.1], "toys": 20},
        "folds": 2,
        "methods": ["inclusive", "cut_tau21"],
    }
    (d / "run.yaml").write_text(yaml.safe_dump(cfg))
    from anomalyscope.core.methods.runner import execute, load_config

    return execute(load_config(d / "run.yaml"), progress=False), d


def test_pseudo_datasets_go_through_the_runs_chain_and_the_command_resumes(null_run, qcd_es, capsys):
    from anomalyscope.core.cli import main

    run, _ = null_run
    assert main(["null", str(run.path), "--pool", str(qcd_es.path), "--pseudo", "2", "--quiet", "--keep"]) == 0
    points = json.loads((run.path / "null" / "points.json").read_text())
    assert sorted(points) == ["0", "1"]
    first = {k: v["seconds"] for k, v in points.items()}
    for k in ("0", "1"):  # searched as the Run was: same size, same fit start and windows
        es = EventSet.open(run.path / "null" / f"data-{k}")
        assert len(es) == run.manifest.eventset.n_events and not np.any(es.truth() == 1)
        assert points[k]["fit_min"] == run.search().fit_min
        assert points[k]["windows"] == [w.name for w in run.search().windows]
    assert main(["null", str(run.path), "--pool", str(qcd_es.path), "--pseudo", "3", "--quiet"]) == 0
    points = json.loads((run.path / "null" / "points.json").read_text())
    assert sorted(points) == ["0", "1", "2"] and all(points[k]["seconds"] == first[k] for k in first)  # resumed
    out = capsys.readouterr().out
    assert "retrained null: 3 background-only pseudo-datasets" in out and "calibrated global" in out
    cal = Run.open(run.path).attachment("null_calibration")
    assert cal.n_pseudo == 3 and cal.n_events == run.manifest.eventset.n_events
    assert cal.observed_max_z == Run.open(run.path).search_result().global_significance.observed_max_z
    assert not (run.path / "null" / "data-2").exists()  # removed once recorded


def test_a_pool_with_signal_or_too_few_events_is_refused(null_run, signal_es, tmp_path):
    run, d = null_run
    with pytest.raises(InputError, match="signal events"):
        from anomalyscope.core.workflows.null import run_null

        mixed = inject(EventSet.open(d / "part"), signal_es, 30, tmp_path / "mixed", seed=1)
        run_null(run.path, mixed.path, 2, progress=False)
    with pytest.raises(InputError, match="fewer than the Run's data"):
        run_null(run.path, d / "part", 2, progress=False)


def test_a_pool_generated_otherwise_than_the_data_is_refused(null_run, qcd_es, tmp_path):
    """A QCD pool at another pTHat has another spectrum and turn-on: its pseudo-datasets are not the data's null."""
    from anomalyscope.core.errors import FieldError
    from anomalyscope.core.workflows.null import check_generated_alike, run_null

    run, d = null_run
    data = EventSet.open(d / "data")
    check_generated_alike(qcd_es, data)  # the data's own background: accepted
    pool = select(qcd_es, np.ones(len(qcd_es), dtype=bool), tmp_path / "pool", note="all")
    schema = json.loads((pool.path / "schema.json").read_text())
    was = schema["processes"]["qcd"]["params"]["pthat_min"]
    schema["processes"]["qcd"]["params"]["pthat_min"] = was + 150.0
    (pool.path / "schema.json").write_text(json.dumps(schema))
    with pytest.raises(FieldError, match="pthat_min") as err:
        run_null(run.path, pool.path, 2, progress=False)
    assert err.value.field == "processes.qcd.params.pthat_min" and err.value.value == was + 150.0
    assert err.value.path == str(pool.path)


def test_a_score_that_sculpts_its_signal_region_fools_the_toys_but_not_the_retrained_null():
    """Background only, a windowed score whose efficiency is 1.3× higher inside each window's signal region than
    in its sidebands (what a classifier trained SR-against-sidebands on a mass-correlated feature does): the toys,
    which give every event a random event's score, call it significant; calibrated against pseudo-datasets put
    through the same chain, its global p is not small."""
    from anomalyscope.core.bumphunt.search import ScoreTable, SearchDefinition
    from tests.core.test_search import make_table

    eps = 0.1
    shift = float(stats.norm.isf(eps) - stats.norm.isf(1.3 * eps))  # ε 10% → 13% inside the signal region
    probe, _, _ = make_table(199, n_bkg=60000)
    d = SearchDefinition(fit_min=2037.0, binnings=("A",), efficiencies=(eps,), scan_points=8, toys=100)
    search = d.resolve(probe.mjj, probe.deta)

    def chain(seed):
        table, _, _ = make_table(seed, n_bkg=60000, search=search)
        rng = np.random.default_rng(seed + 1)
        sculpted = {w.name: rng.normal(0, 1, len(table.mjj)) + shift * w.in_sr(table.mjj) for w in search.windows}
        table = ScoreTable(table.mjj, table.deta, {"inclusive": table.scores["inclusive"], "windowed": sculpted[
            search.windows[0].name]}, {"windowed": sculpted})  # fmt: skip
        g = search.run(table).global_significance
        return g.observed_max_z, g.p_global

    assert d.efficiencies == (eps,)
    null = [chain(200 + k) for k in range(20)]
    fresh = [chain(300 + k) for k in range(6)]
    cal = calibration([z for z, _ in null], [p for _, p in null])
    p_toys = np.array([p for _, p in fresh])
    p_cal = np.array([cal.p_calibrated(z)[0] for z, _ in fresh])
    assert np.mean(p_toys < 0.05) > 0.7, p_toys  # the toys are fooled
    assert np.mean(p_cal < 0.05) < 0.3 and np.median(p_cal) > 0.2, p_cal  # the retrained null is not
    assert cal.toy_miscalibration()["fraction_below_0.05"] > 0.7
