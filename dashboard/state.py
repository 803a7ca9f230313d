"""One Parameterized state object per browser session; views redraw from it, never from each other.

The URL carries method, cut, window and event (``pn.state.location.sync``), so a link reproduces
exactly what was on the screen.
"""

from __future__ import annotations

import math

import param

from anomalyscope.core.bumphunt.search import SearchDefinition

EFFICIENCIES = (1.0, *SearchDefinition.efficiencies)  # no cut, then the search's default cuts (a Run sets its own)


class SessionState(param.Parameterized):
    eventset_path = param.String(default="", doc="directory of the EventSet being inspected")
    run = param.Selector(
        default=None, objects=[], check_on_set=True, doc="Run chosen among those in the configured directories"
    )
    run_path = param.String(default="", doc="directory of the Run being inspected (never set from the URL)")
    method = param.Selector(
        default=None, objects=[], allow_None=True, check_on_set=True, doc="anomaly method whose score is cut on"
    )
    efficiency = param.Selector(
        default=0.01, objects=list(EFFICIENCIES), check_on_set=True, doc="flat efficiency of the cut"
    )
    mjj_lo = param.Number(
        default=None, allow_None=True, bounds=(0, 14000), doc="selected m_jj window, lower edge [GeV]"
    )
    mjj_hi = param.Number(
        default=None, allow_None=True, bounds=(0, 14000), doc="selected m_jj window, upper edge [GeV]"
    )
    feature = param.Selector(
        default="msoftdrop",
        objects=["msoftdrop", "tau21", "tau32", "tau43", "n_constituents", "lepton_fraction", "btag"],
    )
    event_row = param.Integer(
        default=None, allow_None=True, bounds=(0, None), doc="row of the event shown in the display"
    )
    large_fonts = param.Boolean(default=False, doc="projector mode: larger text in every plot and table")
    plot_format = param.Selector(
        default="png", objects=["png", "svg"], doc="what the plots' save button writes (svg: plots drawn as vectors)"
    )
    corr_sample = param.Selector(default="data", objects=["data", "background", "signal"])
    corr_kind = param.Selector(default="pearson", objects=["pearson", "spearman"])

    @property
    def mjj_window(self):
        if self.mjj_lo is None or self.mjj_hi is None:
            return None
        return (min(self.mjj_lo, self.mjj_hi), max(self.mjj_lo, self.mjj_hi))

    def url_parameters(self) -> list[str]:
        return ["run", "method", "efficiency", "mjj_lo", "mjj_hi", "event_row", "feature", "large_fonts", "plot_format"]

    @property
    def fontscale(self) -> float:
        return 1.6 if self.large_fonts else 1.0


def _number(text: str) -> float | None:
    if text in ("null", "None", ""):
        return None
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(text)
    return v


def clean_url_values(state: SessionState, query: dict[str, str], n_events: int | None) -> tuple[dict, list[str]]:
    """Which of a link's values the session can take, and a message for each it cannot.

    ``query``: the URL's parameters as text (``run`` is judged against the Runs offered, ``method`` against the
    methods of the Run chosen — apply ``run`` first, then call again for the rest). Returns the accepted values
    as they stand in the URL (the URL sync parses them) and one line per value dropped."""
    ok, problems = {}, []

    def check(name, accept):
        if name not in query:
            return
        text = str(query[name])
        try:
            good = accept(text)
        except (TypeError, ValueError, OverflowError):
            good = False
        if good:
            ok[name] = text
        else:
            problems.append(f"link parameter {name}={text[:40]!r} does not fit this Run; ignored")

    p = state.param
    check("run", lambda t: t in p.run.objects)
    check("method", lambda t: t in p.method.objects)
    check("efficiency", lambda t: any(abs(float(t) - e) < 1e-12 for e in p.efficiency.objects))
    for edge in ("mjj_lo", "mjj_hi"):
        lo, hi = p[edge].bounds  # the parameter's own bounds: what the URL sync would accept
        check(edge, lambda t, lo=lo, hi=hi: (v := _number(t)) is None or lo <= v <= hi)
    check("event_row", lambda t: t in ("null", "None") or (n_events is not None and 0 <= int(t) < n_events))
    check("feature", lambda t: t in p.feature.objects)
    check("large_fonts", lambda t: t in ("true", "false"))
    check("plot_format", lambda t: t in p.plot_format.objects)
    return ok, problems
