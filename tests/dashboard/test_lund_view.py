"""The Lund-reweighting tab: its data functions and the view with and without a reweighting in the Run."""

from __future__ import annotations

import shutil

import numpy as np
import panel as pn
import pytest

from anomalyscope.core.lund.report import add_to_run
from anomalyscope.dashboard.data import load_run
from anomalyscope.dashboard.lund import LundView, efficiency_curve, lund_planes, lund_result
from anomalyscope.dashboard.state import SessionState


@pytest.fixture(scope="module")
def lund_run(small_run, lund_control, tmp_path_factory):
    run = tmp_path_factory.mktemp("lundrun") / "run"
    shutil.copytree(small_run.path, run)
    c = lund_control
    add_to_run(run, c["data"], c["sim"], c["sim_alt"], n_toys=10)
    return str(run)


def state_for(run_path: str, method: str = "cut_tau21") -> SessionState:
    st = SessionState()
    st.run_path = run_path
    st.param.method.objects = load_run(run_path).methods
    st.method = method
    st.efficiency = 0.1
    return st


def test_lund_planes_are_the_stored_densities_and_their_ratio(lund_run):
    res = lund_result(lund_run)
    planes = lund_planes(res, 3)
    # densities: emissions per subjet; their ratio where both have splittings is the stored ratio
    ok = (res.ratio.data.splittings[3] > 0) & (res.ratio.sim.splittings[3] > 0)
    np.testing.assert_allclose(planes["ratio"][ok], np.clip(planes["data"][ok] / planes["sim"][ok], 0.1, 10.0))
    assert planes["data"].sum() == pytest.approx(res.ratio.data.splittings[3].sum() / res.ratio.data.subjets[3])


def test_efficiency_curve_is_monotonic_and_the_band_holds_the_corrected_value(lund_run):
    df = efficiency_curve(lund_run, "cut_tau21")
    assert np.all(np.diff(df.uncorrected) >= 0) and np.all(np.diff(df.corrected) >= -1e-12)
    assert np.all(df.lo <= df.corrected) and np.all(df.corrected <= df.hi)
    assert df.uncorrected.iloc[-1] == pytest.approx(1.0, abs=0.02)  # ε_B = 1: (almost) every signal event passes


def test_view_renders_with_and_without_a_reweighting(lund_run, small_run):
    view = LundView(state=state_for(lund_run))
    pn.panel(view).get_root()
    assert isinstance(view._efficiency(), pn.Row)
    empty = LundView(state=state_for(str(small_run.path)))
    alert = empty._planes()
    assert isinstance(alert, pn.pane.Alert) and "python -m anomalyscope lund" in alert.object
    none = LundView(state=state_for(lund_run, "inclusive"))._efficiency()
    assert isinstance(none, pn.pane.Alert) and "no cut" in none.object
