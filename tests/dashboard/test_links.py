"""Any link builds a session: values a Run cannot take are dropped with a notice, never raised while the
page is built (a `?method=` the Run lacks used to leave a blank page)."""

from __future__ import annotations

import random
from urllib.parse import urlencode

import panel as pn
import pytest
from panel.io.location import Location

from anomalyscope.dashboard.app import session
from anomalyscope.dashboard.data import load_run
from anomalyscope.dashboard.events import EventsView
from anomalyscope.dashboard.features import FeatureView
from anomalyscope.dashboard.spectra import SpectraView

NASTY = ["", "NOPE", "nan", "inf", "-1", "1e308", "0", "3500", "null", "true", "../../etc", "'; drop", "0.1", "7" * 40]


@pytest.fixture()
def served(small_run, monkeypatch):
    monkeypatch.setenv("ANOMALYSCOPE_RUN", str(small_run.path))
    monkeypatch.delenv("ANOMALYSCOPE_RUN_DIRS", raising=False)

    def open_link(query: dict):
        loc = Location(search=f"?{urlencode(query)}" if query else "")
        monkeypatch.setattr(pn.state, "_location", loc)
        messages = []
        monkeypatch.setattr(pn.state, "onload", lambda cb: messages.append(cb))
        state, _ = session()
        return state, loc, messages

    return open_link


def _views_draw(state):
    SpectraView(state=state)._plots()
    FeatureView(state=state)._plot()
    events = EventsView(state=state)
    events._table()
    events._display()


def test_a_method_the_run_lacks_is_dropped_with_a_notice_and_the_rest_of_the_link_kept(served, small_run):
    rd = load_run(str(small_run.path))
    state, loc, notices = served({"method": "vae_qr", "efficiency": "0.1", "feature": "tau21"})
    assert "vae_qr" not in rd.methods and state.method in rd.methods
    assert state.efficiency == 0.1 and state.feature == "tau21"  # the good values of the link still apply
    assert (
        "method=vae_qr" not in loc.search and f"method={state.method}" in loc.search and "efficiency=0.1" in loc.search
    )
    assert len(notices) == 1
    _views_draw(state)
    # the browser reports the URL it was opened with once loaded, and the sync applies it again
    loc.search = "?method=vae_qr&efficiency=0.1&feature=tau21"
    assert state.method in rd.methods and state.efficiency == 0.1
    _views_draw(state)


def test_random_links_always_build_a_session(served, small_run):
    rd = load_run(str(small_run.path))
    n_events = len(rd.scores["event_id"])
    rng = random.Random(7)
    names = ["run", "method", "efficiency", "mjj_lo", "mjj_hi", "event_row", "feature", "large_fonts", "plot_format"]
    good = {"method": rd.methods, "efficiency": ["0.1", "0.01"], "event_row": ["0", str(n_events - 1)]}
    for _ in range(15):
        query = {}
        for name in rng.sample(names, rng.randint(1, len(names))):
            query[name] = rng.choice(NASTY + good.get(name, []))
        state, loc, notices = served(query)
        assert state.method in rd.methods and state.efficiency in rd.efficiencies, query
        assert state.event_row is None or 0 <= state.event_row < n_events, query
        # once loaded the browser reports its URL and the sync applies it again: nothing that does not fit lands
        loc.search = f"?{urlencode(query)}"
        assert state.method in rd.methods and state.efficiency in rd.efficiencies, query
        for edge in (state.mjj_lo, state.mjj_hi):
            assert edge is None or 0 <= edge <= 14000, query
        _views_draw(state)


def test_a_link_to_another_run_keeps_its_event_and_cut(small_run, tmp_path, monkeypatch):
    """A shared link names a Run that is not the server's default, and an event of it: both must land."""
    import shutil

    root = tmp_path / "runs"
    shutil.copytree(small_run.path, root / "a")
    shutil.copytree(small_run.path, root / "b")
    monkeypatch.setenv("ANOMALYSCOPE_RUN_DIRS", str(root))
    monkeypatch.setenv("ANOMALYSCOPE_RUN", str(root / "a"))
    query = {"run": "runs/b", "method": "cut_tau21", "efficiency": "0.1", "event_row": "7", "feature": "tau21"}
    loc = Location(search=f"?{urlencode(query)}")
    monkeypatch.setattr(pn.state, "_location", loc)
    notices = []
    monkeypatch.setattr(pn.state, "onload", lambda cb: notices.append(cb))
    state, _ = session()
    landed = (state.run, state.run_path, state.method, state.efficiency, state.event_row, state.feature)
    assert landed == ("runs/b", str((root / "b").resolve()), "cut_tau21", 0.1, 7, "tau21") and not notices
    loc.search = f"?{urlencode(query)}"  # the browser reports the URL it was opened with; the sync applies it again
    assert (state.run, state.event_row, state.method) == ("runs/b", 7, "cut_tau21")
    _views_draw(state)
