"""The dashboard's view data and views on a small Run: known counts, normalisations, orderings."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import pytest

from anomalyscope.core.errors import NothingSelected
from anomalyscope.dashboard.correlation import CorrelationView
from anomalyscope.dashboard.data import (
    correlation_matrix,
    event_display,
    feature_distributions,
    load_run,
    stored_spectra,
    top_events,
    top_overlap,
)
from anomalyscope.dashboard.events import EventsView
from anomalyscope.dashboard.features import FeatureView
from anomalyscope.dashboard.performance import PerformanceView
from anomalyscope.dashboard.spectra import SpectraView
from anomalyscope.dashboard.state import SessionState


@pytest.fixture(scope="module")
def rd(small_run):
    return load_run(str(small_run.path))


def test_spectra_drawn_are_the_stored_selections_their_events_and_their_fits(rd):
    fits = stored_spectra(rd, "cut_tau21", (1.0, 0.1))
    mjj = rd.scores["mjj"]
    no_cut, cut = fits[0].spectrum(), fits[1].spectrum()
    assert no_cut.edges[0] == rd.search.fit_min >= rd.eventset.mjj_fit_min
    assert no_cut.total == np.sum(rd.analysis_region & (mjj >= no_cut.edges[0]) & (mjj < no_cut.edges[-1]))
    # the cut's spectrum: the events the search selected, over the same range, scanned in its window's SR
    w = rd.search.window(fits[1].window)
    assert fits[1].window == "lhco" and np.array_equal(cut.edges, no_cut.edges)
    selected = rd.search.selected(rd.table, "cut_tau21", 0.1, w)
    assert np.array_equal(cut.counts, np.histogram(mjj[selected], no_cut.edges)[0])
    assert 0 < cut.total < 0.2 * no_cut.total and np.all(w.in_sr(np.asarray(fits[1].masses)))
    # the stored background is the F-test fit of the stored counts; pulls follow from the two
    for f in fits:
        if f.expected is None:
            assert "events" in f.message
            continue
        refit = rd.search.fit(f.spectrum()).chosen
        np.testing.assert_allclose(f.expected, refit.expected, rtol=1e-6)
        np.testing.assert_allclose(f.pulls(), refit.pulls, rtol=1e-6, atol=1e-9)
    # the inclusive local Z is stored at every bin centre, the trials' thinned scan among them
    incl = fits[0]
    for m, z in zip(incl.masses, incl.z):
        assert incl.z_at(m) == pytest.approx(z, abs=1e-9)


def test_correlations_overlap_and_features(rd):
    corr = correlation_matrix(rd, "data", "spearman")
    assert "inclusive" not in corr.columns, "a constant score has no correlation"
    assert np.allclose(np.diag(corr.values), 1.0) and np.allclose(corr.values, corr.values.T)
    assert corr.loc["cut_tau21", "supervised"] > 0.1
    assert correlation_matrix(rd, "signal").shape == corr.shape
    ov = top_overlap(rd, 0.1)
    assert np.allclose(np.diag(ov.values), 1.0) and (ov.values <= 1).all()
    d = feature_distributions(rd, "cut_tau21", "tau21", eff=0.1)
    widths = np.diff(d["edges"])
    assert abs(np.sum(d["top"] * widths) - 1) < 1e-6 and abs(np.sum(d["rest"] * widths) - 1) < 1e-6
    assert d["n_top"] == np.sum(rd.selection("cut_tau21", 0.1))
    with pytest.raises(NothingSelected, match="too few events"):
        feature_distributions(rd, "cut_tau21", "tau21", mjj_window=(100.0, 101.0))
    # the top-N path: exactly the N highest scores of the analysis region, histograms as np.histogram's
    top = feature_distributions(rd, "supervised", "msoftdrop", n_top=50)
    sc = np.where(rd.analysis_region, rd.scores["supervised"], -np.inf)
    best = np.argsort(sc)[::-1][:50]
    values = np.concatenate([rd.features["j1.msoftdrop"][best], rd.features["j2.msoftdrop"][best]])
    values = np.clip(values[np.isfinite(values)], top["edges"][0], top["edges"][-1])
    assert top["n_top"] == 50 and np.allclose(top["top"], np.histogram(values, top["edges"], density=True)[0])


def test_top_events_are_sorted_and_the_display_shows_their_constituents(rd):
    df = top_events(rd, "supervised", n=20)
    assert len(df) == 20 and np.all(np.diff(df["supervised"].to_numpy()) <= 0)
    window = top_events(rd, "supervised", mjj_window=(3000.0, 4000.0))
    assert window["mjj"].between(3000, 4000).all()
    d = event_display(rd.eventset, int(df.loc[0, "row"]))
    assert d["event_id"] == df.loc[0, "event_id"] and len(d["jets"]) == 2
    n_cons = rd.eventset.column("j1.n_constituents")[int(df.loc[0, "row"])]
    assert len(d["jets"][0]["c_pt"]) == min(n_cons, 100)
    assert len(d["jets"][0]["lund_x"]) > 0


def test_every_view_renders_and_follows_the_state(small_run):
    state = SessionState(run_path=str(small_run.path))
    state.param.method.objects = small_run.methods
    state.param.efficiency.objects = [1.0, 0.1, 0.01]
    state.param.update(method="cut_tau21", efficiency=0.1)
    for view_cls in (SpectraView, CorrelationView, FeatureView, EventsView, PerformanceView):
        root = pn.panel(view_cls(state=state)).get_root()
        assert root is not None
    events = EventsView(state=state)
    assert isinstance(events._display(), pn.pane.Markdown)  # nothing selected yet
    events._step(+1)
    assert state.event_row is not None
    assert isinstance(events._display(), pn.Row)
    state.param.update(mjj_lo=3000.0, mjj_hi=4000.0)
    assert state.mjj_window == (3000.0, 4000.0)
    feat = FeatureView(state=state)._plot()
    assert isinstance(feat, hv.Overlay) and "3000–4000 GeV" in feat.opts.get().kwargs["title"]


def test_a_missing_run_is_explained(tmp_path):
    state = SessionState(run_path=str(tmp_path / "none"))
    out = SpectraView(state=state)._plots()
    assert isinstance(out, pn.pane.Alert) and "python -m anomalyscope" in out.object


def _elements(overlay, kind):
    return [el for el in overlay.traverse(lambda x: x, [kind])]


def test_the_selected_event_is_highlighted_everywhere(small_run):
    state = SessionState(run_path=str(small_run.path))
    state.param.method.objects = small_run.methods
    state.param.efficiency.objects = [1.0, 0.1, 0.01]
    state.param.update(method="cut_tau21", efficiency=1.0)
    rd = load_run(str(small_run.path))
    events = EventsView(state=state)
    table = events._table()[0]
    assert table.selection == []
    row = int(top_events(rd, "cut_tau21").loc[2, "row"])
    state.event_row = row  # as a shared link or Next/Previous would set it
    assert table.selection == [2]

    feat = FeatureView(state=state)
    state.feature = "tau21"
    lines = _elements(feat._plot(), hv.VLine)
    assert sorted(ln.data for ln in lines if np.isfinite(ln.data)) == sorted(
        float(rd.features[f"{j}.tau21"][row]) for j in ("j1", "j2") if np.isfinite(rd.features[f"{j}.tau21"][row])
    )
    spectrum = SpectraView(state=state)._built()[0]  # what the spectrum's DynamicMap shows now
    vlines = [ln.data for ln in _elements(spectrum, hv.VLine)]
    assert vlines == [pytest.approx(float(rd.scores["mjj"][row]))]
    corr = CorrelationView(state=state)
    corr.x_method, corr.y_method = "cut_tau21", "supervised"
    scatter = corr._scatter()
    scatter = scatter[()] if isinstance(scatter, hv.DynamicMap) else scatter  # the datashaded part is dynamic
    stars = [p for p in _elements(scatter, hv.Points) if len(p) == 1]
    assert len(stars) == 1 and stars[0].iloc[0, 0] == pytest.approx(rd.scores["cut_tau21"][row])


def test_projector_mode_scales_the_plots(small_run):
    state = SessionState(run_path=str(small_run.path))
    state.param.method.objects = small_run.methods
    state.param.update(method="cut_tau21")
    assert FeatureView(state=state)._plot().opts.get().kwargs["fontscale"] == 1.0
    state.large_fonts = True
    assert FeatureView(state=state)._plot().opts.get().kwargs["fontscale"] == 1.6
    assert "large_fonts" in state.url_parameters()


def test_no_fit_or_scan_runs_in_the_server_when_a_page_is_built(small_run, monkeypatch):
    """The views draw what the search stored: building every view of every method never fits or scans."""
    import anomalyscope.core.bumphunt.fit as fit
    import anomalyscope.core.bumphunt.search as search
    import anomalyscope.core.bumphunt.significance as significance
    import anomalyscope.dashboard.data as data
    from anomalyscope.dashboard.app import session
    from anomalyscope.dashboard.overview import Overview

    def refit(*args, **kwargs):
        raise AssertionError("a fit or scan ran while a page was built")

    for module, name in ((fit, "fit_background"), (fit, "f_test"), (search, "f_test"), (search, "local_significance"),
                         (significance, "local_significance"), (search.Search, "scan"), (search.Search, "fit")):  # fmt: skip
        monkeypatch.setattr(module, name, refit)
    monkeypatch.setenv("ANOMALYSCOPE_RUN", str(small_run.path))
    monkeypatch.setattr(pn.state, "onload", lambda cb: None)
    load_run.clear()
    state, _ = session()
    overview = Overview(state=state)
    # this Run holds references only: its τ21 cut's excess stands in for the data-driven answer the Overview draws
    monkeypatch.setattr(data.RunData, "best_anomaly", lambda rd: ("cut_tau21", rd.best_excesses()["cut_tau21"]))
    assert isinstance(overview._discovery(), pn.Column) and overview._search_summary() is not None
    for m in load_run(str(small_run.path)).methods:
        state.method = m
        spectra = SpectraView(state=state)
        layers = spectra._build()
        assert not any("could not" in n for n in layers[3]), layers[3]
        assert len(layers[0]) > 3  # points, error bars, fits and marks


def test_the_first_page_imports_and_reads_only_what_it_draws(small_run, tmp_path):
    """A server's first page waits for every import and read it makes (at 1M events: ≈ 2 s of imports, 1.3 s of
    score and feature columns). In a fresh process, the page served, the dashboard imported and the Run opened
    in its thread, the session's contents built and rendered to Bokeh models: none of scipy.stats,
    scipy.optimize, numba or datashader is imported, and of the Run's per-event columns only the event ids
    (checked against the EventSet) are read; the features and the truth labels wait for the views that show them."""
    import json
    import os
    import subprocess
    import sys

    code = """
import json, sys
import panel as pn
from bokeh.document import Document
from anomalyscope.dashboard import page
pn.extension(*page.EXTENSIONS)
page.page()  # what `panel serve app.py` builds: the template at once, the dashboard prepared in a thread
app = page.prepare().result()
_, side, main = app.contents()
main.get_root(Document())
rd = app.load_run(app._default_run(app.available_runs())[1])
print(json.dumps({"imported": [m for m in ("scipy.stats", "scipy.optimize", "numba", "datashader") if m in sys.modules],
                  "read": sorted(rd.scores._store.arrays), "lazy": [k for k in ("features", "truth") if k in vars(rd)]}))
"""
    env = {**os.environ, "ANOMALYSCOPE_RUN": str(small_run.path), "ANOMALYSCOPE_RUN_DIRS": str(small_run.path.parent)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == {"imported": [], "read": ["event_id"], "lazy": []}, got


def test_a_search_result_without_stored_spectra_is_refused_with_the_command_that_rewrites_it(small_run, tmp_path):
    import json
    import shutil

    from anomalyscope.core.errors import InputError
    from anomalyscope.core.results import Run

    old = tmp_path / "run"
    shutil.copytree(small_run.path, old)
    data = json.loads((old / "search.json").read_text())
    data["schema_version"] = 1
    for s in data["scans"]:
        for k in ("edges", "counts", "expected", "every_bin_masses", "every_bin_z"):
            s.pop(k, None)
    (old / "search.json").write_text(json.dumps(data))
    run = Run.open(old)
    with pytest.raises(
        InputError, match=r"without the spectra the views draw; `anomalyscope search .*run` rewrites it"
    ):
        run.spectra("cut_tau21", (1.0, 0.1), "lhco")
    assert run.search_result().best_excesses()  # everything else it holds still reads
    # the demo brings its own Run up to date that way when it finds it older (no retraining)
    from anomalyscope.core.workflows.demo import _search_up_to_date

    _search_up_to_date(old, progress=False)
    assert [s.label for s in Run.open(old).spectra("cut_tau21", (1.0, 0.1), "lhco")] == ["no cut", "ε = 0.1"]


def _texts(root):
    from bokeh.models import GlyphRenderer, Text

    return [
        t for r in root.select({"type": GlyphRenderer}) if isinstance(r.glyph, Text) for t in r.data_source.data["text"]
    ]


def test_a_method_change_updates_the_spectrum_figures_in_place(small_run):
    from bokeh.models import Plot

    state = SessionState(run_path=str(small_run.path))
    state.param.method.objects = small_run.methods
    state.method = "cut_tau21"
    root = pn.panel(SpectraView(state=state)).get_root()
    figures = {f.id for f in root.select({"type": Plot})}
    ranges = [f.y_range.start for f in root.select({"type": Plot})]
    assert [t.strip() for t in _texts(root)] == ["cut_tau21"]  # the method, written inside the frame
    state.method = "supervised"
    assert [t.strip() for t in _texts(root)] == ["supervised"]
    assert {f.id for f in root.select({"type": Plot})} == figures  # same Bokeh figures, new data
    assert [f.y_range.start for f in root.select({"type": Plot})] == ranges  # the same axes for every method


def test_a_feature_view_change_updates_its_figure_in_place(small_run):
    from bokeh.models import Plot

    state = SessionState(run_path=str(small_run.path))
    state.param.method.objects = small_run.methods
    state.param.efficiency.objects = [1.0, 0.1, 0.01]
    state.param.update(method="cut_tau21", efficiency=0.1)
    view = FeatureView(state=state)
    root = pn.panel(view).get_root()
    (fig,) = root.select({"type": Plot})
    state.param.update(method="supervised", feature="tau21", mjj_lo=3000.0, mjj_hi=4000.0)
    assert [f.id for f in root.select({"type": Plot})] == [fig.id]
    assert "3000–4000 GeV" in fig.title.text and "τ" in fig.xaxis[0].axis_label
    assert "supervised" in view.caption and "3000–4000 GeV" in view.caption


def test_event_display_window_is_square():
    from anomalyscope.dashboard.events import square_window

    (x0, x1), (y0, y1) = square_window([0.3, -1.9], 0.8)
    assert x1 - x0 == pytest.approx(y1 - y0)  # equal η and φ spans on a square frame: circles stay round
    assert x0 <= -1.9 - 0.8 and x1 >= 0.3 + 0.8 and y0 <= -np.pi and y1 >= np.pi


def test_a_session_in_svg_format_draws_every_figure_as_svg():
    from bokeh.document import Document
    from bokeh.models import Plot
    from panel.io.state import set_curdoc

    from anomalyscope.dashboard import export

    for fmt, expected in (("svg", {"svg"}), ("png", {"webgl", "canvas"})):
        doc = Document()
        with set_curdoc(doc):
            export.register(SessionState(plot_format=fmt))
            root = pn.panel(hv.Curve([1, 2, 3]) * hv.VLine(1.5) + hv.Image(np.eye(3))).get_root(doc)
        backends = {p.output_backend for p in root.select({"type": Plot})}
        assert backends and backends <= expected, (fmt, backends)
