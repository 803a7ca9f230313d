"""A Run on events read from the LHC Olympics layout opens in the dashboard, and says what the format lacks."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from anomalyscope.core.data import inject
from anomalyscope.core.data.ingest import ingest
from anomalyscope.core.data.lhco import LHCOFormat, export_lhco
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.runner import execute, load_config
from anomalyscope.dashboard.data import event_display, feature_distributions, load_run


@pytest.fixture(scope="module")
def lhco_run(tmp_path_factory, qcd_es, signal_es):
    d = tmp_path_factory.mktemp("lhco_run")
    mixed = inject(qcd_es, signal_es, 40, d / "mixed", seed=2)
    export_lhco(mixed, d / "rnd.h5")
    ingest([d / "rnd.h5"], LHCOFormat(), d / "data", scheduler=None, progress=False)  # R = 1.0 jets
    (d / "run.yaml").write_text(
        yaml.safe_dump(
            {
                "eventset": "data",
                "out": "run",
                "search": {"windows": "lhco", "min_window_events": 5, "efficiencies": [0.1], "toys": 20},
                "folds": 2,
                "methods": ["inclusive", "cut_tau21"],
            }
        )
    )
    return execute(load_config(d / "run.yaml"), progress=False)


def test_lhco_run_in_dashboard(lhco_run):
    rd = load_run(str(lhco_run.path))
    assert rd.truth is not None and set(np.unique(rd.truth)) == {0, 1}  # the R&D layout's label column
    d = feature_distributions(rd, "cut_tau21", "tau21", eff=0.1)
    assert d["n_top"] > 0
    with pytest.raises(InputError, match="'btag' is not available in EventSet data \\(source: lhco\\)"):
        feature_distributions(rd, "cut_tau21", "btag", eff=0.1)
    shown = event_display(rd.eventset, 0)
    assert shown["jet_r"] == 1.0
    assert all((jet["c_cls"] == -1).all() for jet in shown["jets"])  # LHCO hadrons have no particle class
