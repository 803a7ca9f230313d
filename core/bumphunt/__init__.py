"""The bump hunt: m_jj spectra, dijet-function fits, the search (selections, scans, look-elsewhere),
sensitivity and limits."""

from anomalyscope.core.bumphunt.fit import BackgroundFit, FitError, f_test, fit_background
from anomalyscope.core.bumphunt.histogram import (
    CMS_DIJET_EDGES,
    Spectrum,
    efficiency_interval,
    mjj_spectrum,
    poisson_interval,
)
from anomalyscope.core.bumphunt.limits import cls_limit
from anomalyscope.core.bumphunt.result import SearchSummary
from anomalyscope.core.bumphunt.search import ScoreTable, Search, SearchDefinition
from anomalyscope.core.bumphunt.signal import SignalModel, fit_signal_shape
from anomalyscope.core.bumphunt.significance import discovery_sensitivity, global_significance, local_significance
from anomalyscope.core.bumphunt.single import BumpHunt, bump_hunt, search_of_eventset, signal_model_from_eventsets

__all__ = [
    "BackgroundFit",
    "BumpHunt",
    "CMS_DIJET_EDGES",
    "FitError",
    "ScoreTable",
    "Search",
    "SearchDefinition",
    "SearchSummary",
    "SignalModel",
    "Spectrum",
    "bump_hunt",
    "cls_limit",
    "discovery_sensitivity",
    "f_test",
    "fit_background",
    "fit_signal_shape",
    "global_significance",
    "local_significance",
    "mjj_spectrum",
    "poisson_interval",
    "efficiency_interval",
    "search_of_eventset",
    "signal_model_from_eventsets",
]
