"""What a method may use besides its data fold: the m_jj windows, auxiliary samples, seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass

from anomalyscope.core.bumphunt.search import SearchDefinition
from anomalyscope.core.bumphunt.windows import Window
from anomalyscope.core.methods.events import Events


@dataclass
class Context:
    """What a method may use besides the data fold: windows, auxiliary samples, seeds."""

    windows: list[Window]
    signal: Events | None = None  # pure signal sample (supervised reference only)
    background_extra: Events | None = None  # extra background (idealised anomaly detector only)
    seed: int = 0
    n_inner: int = 4
    deta_max: float = SearchDefinition.deta_max  # the analysis region, set by the Run's search
    progress: bool = False
    # the m_jj range the Run's search fits (GeV): where CATHODE's "spectrum" sidebands may come from
    fit_range: tuple[float, float] = (0.0, math.inf)
