"""The Sensitivity tab: the injection scan a Run belongs to, drawn as median Z against injected signal."""

from __future__ import annotations

import json

import holoviews as hv
import panel as pn

from anomalyscope.core.results.records.injection_scan import InjectionScan
from anomalyscope.dashboard.data import bench_scan, bench_scans
from anomalyscope.dashboard.sensitivity import (
    RUN_SCAN,
    SensitivityView,
    draws_text,
    scan_file,
    sensitivity_plot,
    sensitivity_table,
)
from anomalyscope.dashboard.state import SessionState
from tests.conftest import injection_scan_content

SCAN = injection_scan_content()


def test_the_sensitivity_tab_shows_the_scan_a_run_belongs_to(tmp_path):
    run = tmp_path / "scan" / "run-100-0"
    run.mkdir(parents=True)
    assert scan_file(str(run)) is None
    (tmp_path / "scan" / "injection_scan.json").write_text(json.dumps(SCAN))
    assert scan_file(str(run)) == tmp_path / "scan" / "injection_scan.json"
    table = sensitivity_table(InjectionScan.from_dict(SCAN, "scan")).set_index("method")
    assert table.loc["cwola", "3σ [events]"] == "100 ± 10" and table.loc["inclusive", "5σ [events]"] == "not reached"
    assert table.loc["cwola", "σ×B×A 5σ [fb]"] == "52.0"  # no signal-selection efficiency given
    # CMS's published factors beside ours, labelled as published (CATHODE 4.8× for X → Y Y′ at 26.8 fb⁻¹)
    published = [c for c in table.columns if "published" in c]
    assert published == ["× inclusive (5σ), CMS published"] and table.loc["cwola", published[0]] == "—"
    as_cathode = json.loads(json.dumps(SCAN).replace('"cwola"', '"cathode"'))
    assert (
        sensitivity_table(InjectionScan.from_dict(as_cathode, "scan")).set_index("method").loc["cathode", published[0]]
        == "4.8"
    )
    plot = sensitivity_plot(InjectionScan.from_dict(SCAN, "scan"))
    curves = [el for el in plot if isinstance(el, hv.Curve)]
    assert [c.label for c in curves] == ["inclusive", "cwola"]
    assert list(curves[1].dimension_values(1)) == [0.0, 3.1, 6.0]  # the median of the draws
    assert [el.data for el in plot if isinstance(el, hv.HLine)] == [3, 5]
    assert "(3 draws per point)" in plot.opts.get().kwargs["title"]
    stopped = json.loads(json.dumps(SCAN))  # a scan stopped part-way: the last amount has one draw of three
    for zs in stopped["z"].values():
        zs[-1][1:] = [float("nan"), float("nan")]
    assert draws_text(InjectionScan.from_dict(stopped, "scan")) == "1–3 of 3 draws per point finished"
    unread = json.loads(json.dumps(SCAN))  # every Run finished, one fit at a tight cut not readable at the mass
    unread["z"]["cwola"][2][0] = float("nan")
    assert draws_text(InjectionScan.from_dict(unread, "scan")) == (
        "3 draws per point; some Runs' fits could not be read at this cut"
    )
    state = SessionState()
    state.run_path = str(run)
    assert isinstance(pn.panel(SensitivityView(state=state)._view()), pn.Column)
    state.run_path = str(tmp_path / "elsewhere")
    assert isinstance(SensitivityView(state=state)._view(), pn.pane.Alert)


def test_the_sensitivity_tab_reads_the_scan_at_the_sidebars_cut(tmp_path):
    """A scan holding the same Runs read at another efficiency follows the sidebar's cut (the one the other views
    use); a cut the Runs did not search shows the scan's own, saying so."""
    z = {"inclusive": [[0.1] * 3, [1.0] * 3, [2.0] * 3], "cwola": [[0.0] * 3, [4.0] * 3, [9.0] * 3]}
    tighter = injection_scan_content(efficiency=0.001, z=z, median_z={m: [v[0] for v in zs] for m, zs in z.items()})
    (tmp_path / "scan" / "run-0-0").mkdir(parents=True)
    (tmp_path / "scan" / "injection_scan.json").write_text(
        json.dumps(injection_scan_content(other_efficiencies={"0.001": tighter}))
    )
    state = SessionState()
    state.run_path = str(tmp_path / "scan" / "run-0-0")
    view = SensitivityView(state=state)

    def shown():
        head, reading = view._view()
        plot = reading[0].object
        cwola = [el for el in plot if isinstance(el, hv.Curve)][1].dimension_values(1)
        return head, plot.opts.get().kwargs["title"], list(cwola)

    state.efficiency = 0.01  # the scan's own
    head, title, cwola = shown()
    assert "ε = 0.01 " in title and cwola == [0.0, 3.1, 6.0] and "read at ε = 0.01, 0.001" in head.object
    state.efficiency = 0.001
    head, title, cwola = shown()
    assert "ε = 0.001 " in title and cwola == [0, 4, 9] and not isinstance(head, pn.pane.Alert)
    state.efficiency = 0.1  # not searched by these Runs: the scan's own, and why
    head, title, cwola = shown()
    assert "ε = 0.01 " in title and isinstance(head, pn.pane.Alert) and "ε = 0.1, is not one" in head.object
    # a cut so tight that no Run's search could fit what passed: said so above the (inclusive-only) plot
    empty = {**z, "cwola": [[float("nan")] * 3] * 3}
    (tmp_path / "scan" / "injection_scan.json").write_text(
        json.dumps(injection_scan_content(other_efficiencies={"0.001": {**tighter, "z": empty}}))
    )
    state.efficiency = 0.001
    alert = view._view()[1][0]
    assert isinstance(alert, pn.pane.Alert) and "No method's search could be read at ε = 0.001" in alert.object


def test_the_sensitivity_tab_opens_a_bench_result(tmp_path, monkeypatch):
    """A sensitivity bench's JSON (the scan with the bench's own keys beside it) is offered in the tab's menu and
    drawn as a Run's scan is, said to be a bench result; files that hold no scan are not offered, and a corrupt one
    is refused naming the file, without the server's directory."""
    scans = tmp_path / "measured"
    scans.mkdir()
    bench = SCAN | {"n_background": 283313, "points": [], "by_efficiency": {}, "luminosity_fb": 10.2}
    (scans / "sensitivity_3x.json").write_text(json.dumps(bench))
    (scans / "sensitivity_luminosity.json").write_text(json.dumps({"luminosities_fb": [3.4, 10.2], "rows": []}))
    (scans / "broken.json").write_text('{"z": {"cwola": [[0.1')
    monkeypatch.setenv("ANOMALYSCOPE_SCAN_DIRS", str(scans))
    state = SessionState()
    state.run_path = str(tmp_path / "run-without-scan")
    view = SensitivityView(state=state)
    assert view.param.source.objects == [RUN_SCAN, "broken.json", "sensitivity_3x.json"]
    alert = view._view()
    assert isinstance(alert, pn.pane.Alert) and "choose a bench result in the menu" in alert.object
    view.source = "sensitivity_3x.json"
    state.efficiency = 0.01
    head, reading = view._view()
    assert "Bench result `sensitivity_3x.json`** on 10.2 fb⁻¹" in head.object and "not this Run's" in head.object
    cwola = [el for el in reading[0].object if isinstance(el, hv.Curve)][1]
    assert list(cwola.dimension_values(1)) == [0.0, 3.1, 6.0]
    assert reading[2].value.set_index("method").loc["cwola", "3σ [events]"] == "100 ± 10"
    view.source = "broken.json"
    alert = view._view()
    assert isinstance(alert, pn.pane.Alert) and "broken.json" in alert.object and str(tmp_path) not in alert.object


def test_the_measured_3x_bench_opens_at_each_cut_it_read():
    """The scan measured at 3× the demo's events, kept in the checkout (bench/measured), opens in the tab as the
    bench wrote it: its 5σ improvements at ε = 1% are the ones its table gives."""
    path = bench_scans()["sensitivity_3x.json"]
    data = json.loads(path.read_text())
    scan = bench_scan(str(path))
    assert scan.efficiencies == [0.1, 0.01, 0.001] and scan.draws == 3
    for m, s in data["by_efficiency"]["0.01"]["sensitivity"].items():
        assert scan.at(0.01).sensitivity[m].improvement_5sigma == s["improvement_5sigma"]
    assert sensitivity_plot(scan.at(0.01)).opts.get().kwargs["title"].startswith("Discovery sensitivity at m = 3700")
