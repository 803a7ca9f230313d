"""What every view of a Run shares: the session's state, the one way to say "cannot show this", colours.

Each view is a Viewer over the one SessionState; plots come from the pure functions in ``dashboard.data``
so they are tested without a browser. Plotting conventions: data as points with Garwood (exact Poisson)
error bars, the background fit as a line, pulls below, log-y spectra, axis labels with units.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from anomalyscope.dashboard import export
from anomalyscope.dashboard.data import (
    load_run,
    shown_paths,
)
from anomalyscope.dashboard.state import SessionState

hv.extension("bokeh", logo=False)
export.install()  # after the extension: it sets bokeh-backend defaults

PALETTE = ["black", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b"]
HIGHLIGHT = "#e6007e"  # the selected event, in every view
SR_COLOR = "#1f77b4"  # the signal region of the search window shown


def cannot_show(msg: str, alert_type: str = "warning") -> pn.pane.Alert:
    """The one way a view says it cannot show something (server paths left out of the text)."""
    return pn.pane.Alert(shown_paths(msg), alert_type=alert_type)


class RunView(pn.viewable.Viewer):
    state = param.ClassSelector(class_=SessionState)

    def _run(self):
        return load_run(self.state.run_path)

    def _event(self, rd) -> int | None:
        """The selected event's row, if it is one of this Run's events."""
        row = self.state.event_row
        return row if row is not None and 0 <= row < len(rd.scores["mjj"]) else None


def segments(lines: list[tuple], x: str, y: str) -> hv.Segments:
    """Several polylines (x, y, cut label) as one Segments element coloured by cut: one glyph to update
    (a multi-line Path costs ~0.1 s per update in HoloViews)."""
    cols = [[], [], [], [], []]
    for xs, ys, label in lines:
        for c, v in zip(cols, (xs[:-1], ys[:-1], xs[1:], ys[1:], np.full(max(len(xs) - 1, 0), label, dtype=object))):
            c.append(np.asarray(v))
    data = [np.concatenate(c) if c else np.zeros(0) for c in cols]
    return hv.Segments(dict(zip([x, y, "x1", "y1", "cut"], data)), [x, y, "x1", "y1"], ["cut"])
