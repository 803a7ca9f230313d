"""The Panel dashboard: views over one shared session state, reading EventSets and Runs."""

import holoviews as hv

hv.extension("bokeh", logo=False)

from anomalyscope.dashboard.export import install  # noqa: E402  (after the extension: it sets bokeh-backend defaults)

install()
