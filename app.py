"""anomalyscope dashboard entry point: `panel serve app.py`.

Opens the Run in ANOMALYSCOPE_RUN (default: the demo's Run) and its EventSet; every view reads one
SessionState per browser session, and the URL carries the view state.
"""

import panel as pn

from dashboard.app import build

pn.extension("tabulator", sizing_mode="stretch_width", notifications=True)

build().servable()
