"""anomalyscope dashboard entry point in a checkout: `panel serve app.py` (installed: `anomalyscope serve`).

Opens the Run in ANOMALYSCOPE_RUN (default: the demo's Run) and its EventSet; every view reads one
SessionState per browser session, and the URL carries the view state. The page goes out at once and the
views fill it when the browser has connected (anomalyscope.dashboard.page).
"""

import panel as pn

from anomalyscope.dashboard.design import EXTENSIONS
from anomalyscope.dashboard.page import page

pn.extension(*EXTENSIONS, sizing_mode="stretch_width", notifications=True)

page().servable()
