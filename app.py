"""anomalyscope dashboard entry point: `panel serve app.py`."""
import panel as pn

from dashboard.data import default_eventset_path
from dashboard.overview import Overview
from dashboard.state import SessionState

pn.extension(sizing_mode="stretch_width")


def build():
    state = SessionState(eventset_path=str(default_eventset_path()))
    return pn.template.FastListTemplate(
        title="anomalyscope",
        main=[Overview(state=state)],
        sidebar=[pn.pane.Markdown("Model-agnostic dijet anomaly search.\n\nViews for methods, bump hunt, "
                                  "Lund reweighting and trigger models arrive with those capabilities.")],
    )


build().servable()
