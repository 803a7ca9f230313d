"""The look every page shares: the template, its design (Fast, with a text scale for projectors), the Panel
extensions loaded. Panel alone: ``page`` sends it before anything heavy is imported."""

from __future__ import annotations

import panel as pn
from panel.theme import Fast as PanelFast
from panel.viewable import Viewable

EXTENSIONS = ("tabulator",)
PROJECTOR_STYLES = {"--anomalyscope-text-scale": "1.4"}
TITLE = "anomalyscope"


class Fast(PanelFast):
    """Panel's Fast design with text sizes that follow ``--anomalyscope-text-scale`` (projector mode). Every
    component re-declares the design's ``--font-size`` on its own host, so a size set on a container does not
    reach its children; a custom property that nothing re-declares does, through every shadow root.
    (Named Fast: Panel finds a design's bundled files by its class name.)"""

    modifiers = {
        Viewable: {
            "stylesheets": [
                ":host { --font-size: calc(14px * var(--anomalyscope-text-scale, 1)); "
                "--bokeh-font-size: calc(12px * var(--anomalyscope-text-scale, 1)); }"
            ]
        }
    }


def template(sidebar: list, main: list) -> pn.template.FastListTemplate:
    """The one template of every page."""
    return pn.template.FastListTemplate(title=TITLE, sidebar=sidebar, main=main, sidebar_width=300, design=Fast)
