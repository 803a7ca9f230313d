"""The Sensitivity tab: the injection scan a Run belongs to, drawn as median Z against injected signal."""

from __future__ import annotations

import json

import holoviews as hv
import panel as pn

from anomalyscope.dashboard.sensitivity import SensitivityView, scan_file, sensitivity_plot, sensitivity_table
from anomalyscope.dashboard.state import SessionState

SCAN = {
    "mass": 3500.0,
    "reconstructed_peak": 3420.0,
    "efficiency": 0.01,
    "draws": 3,
    "mode": "re-trained for every draw",
    "injections": [0, 100, 400],
    "luminosity_fb": 5.0,
    "z": {
        "inclusive": [[0.1, 0.1, 0.1], [0.8, 1.0, 1.2], [1.9, 2.0, 2.1]],
        "cwola": [[-0.2, 0.3, 0.0], [2.9, 3.1, 3.3], [6.0, 6.2, 5.8]],
    },
    "sensitivity": {
        "inclusive": {"n_3sigma": None, "n_3sigma_err": None, "n_5sigma": None, "n_5sigma_err": None},
        "cwola": {
            "n_3sigma": 100.0,
            "n_3sigma_err": 10.0,
            "n_5sigma": 260.0,
            "n_5sigma_err": 30.0,
            "xsec_3sigma_fb": 20.0,
            "xsec_5sigma_fb": 52.0,
            "improvement_3sigma": None,
        },
    },
}


def test_the_sensitivity_tab_shows_the_scan_a_run_belongs_to(tmp_path):
    run = tmp_path / "scan" / "run-100-0"
    run.mkdir(parents=True)
    assert scan_file(str(run)) is None
    (tmp_path / "scan" / "injection_scan.json").write_text(json.dumps(SCAN))
    assert scan_file(str(run)) == tmp_path / "scan" / "injection_scan.json"
    table = sensitivity_table(SCAN).set_index("method")
    assert table.loc["cwola", "3σ [events]"] == "100 ± 10" and table.loc["inclusive", "5σ [events]"] == "not reached"
    assert table.loc["cwola", "σ×B×A 5σ [fb]"] == "52.0"  # no signal-selection efficiency given
    plot = sensitivity_plot(SCAN)
    curves = [el for el in plot if isinstance(el, hv.Curve)]
    assert [c.label for c in curves] == ["inclusive", "cwola"]
    assert list(curves[1].dimension_values(1)) == [0.0, 3.1, 6.0]  # the median of the draws
    assert [el.data for el in plot if isinstance(el, hv.HLine)] == [3, 5]
    state = SessionState()
    state.run_path = str(run)
    assert isinstance(pn.panel(SensitivityView(state=state)._view()), pn.Column)
    state.run_path = str(tmp_path / "elsewhere")
    assert isinstance(SensitivityView(state=state)._view(), pn.pane.Alert)
