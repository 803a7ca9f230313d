"""anomalyscope dashboard entry point in a checkout: `panel serve app.py` (installed: `anomalyscope serve`).

Opens the Run in ANOMALYSCOPE_RUN (default: the demo's Run) and its EventSet; every view reads one
SessionState per browser session, and the URL carries the view state.
"""

import panel as pn

from anomalyscope.dashboard.app import EXTENSIONS, build

pn.extension(*EXTENSIONS, sizing_mode="stretch_width", notifications=True)

build().servable()
