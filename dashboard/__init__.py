"""The Panel dashboard: views over one shared session state, reading EventSets and Runs."""

import holoviews as hv

hv.extension("bokeh", logo=False)
