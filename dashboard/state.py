"""One Parameterized state object per browser session; views redraw from it, never from each other."""
from __future__ import annotations

import param


class SessionState(param.Parameterized):
    eventset_path = param.String(default="", doc="directory of the EventSet being inspected")
    mjj_window = param.Range(default=None, doc="selected m_jj range [GeV], None for all")
