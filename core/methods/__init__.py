"""Anomaly-detection methods behind one interface (fit / score / save / load), scored out of fold.

The methods' networks need the ``[ml]`` extra (torch, zuko); the rest of this package — the event features
(``events``), performance (``evaluate``), score correlations (``complementarity``) — does not, so the classes
are imported when first asked for: ``REGISTRY`` or a class name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from anomalyscope.core.extras import require

# method name → (module, class). Names and reference flags are known without importing torch, so the dashboard
# and the command line can read a Run made elsewhere; tests/test_extras.py checks both against the classes.
METHODS = {
    "inclusive": ("references", "Inclusive"),
    "cut_tau21": ("references", "CutTau21"),
    "cut_tau32": ("references", "CutTau32"),
    "supervised": ("references", "Supervised"),
    "iad": ("references", "IAD"),
    "cwola": ("cwola", "CWoLa"),
    "vae_qr": ("vae_qr", "VAEQR"),
    "tnt": ("tnt", "TagNTrain"),
    "cathode": ("cathode", "Cathode"),
    "cathode_b": ("cathode", "CathodeB"),
    "quak": ("quak", "QUAK"),
    "ranode": ("ranode", "RAnode"),
}
# the yardsticks (no cut, a τ cut, or trained with truth/simulation), not data-driven searches
REFERENCES = frozenset({"inclusive", "cut_tau21", "cut_tau32", "supervised", "iad"})
_CLASS_MODULE = {cls: module for module, cls in METHODS.values()}


def _load(module: str, cls: str):
    require("torch", "The anomaly-detection methods")
    return getattr(importlib.import_module(f"anomalyscope.core.methods.{module}"), cls)


def __getattr__(name: str):
    if name == "REGISTRY":
        globals()["REGISTRY"] = registry = {m: _load(module, cls) for m, (module, cls) in METHODS.items()}
        return registry
    if name in _CLASS_MODULE:
        return _load(_CLASS_MODULE[name], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from anomalyscope.core.bumphunt.result import Excess


def best_data_driven(excesses: dict[str, Excess]) -> tuple[str, Excess] | None:
    """The data-driven method with the largest local excess among a search's per-method excesses
    (``SearchSummary.best_excesses``), and that excess. References — inclusive, τ cuts, supervised,
    idealized AD — are left out: they are yardsticks, not the search."""
    import math

    found = [(m, b) for m, b in excesses.items() if m in METHODS and m not in REFERENCES and math.isfinite(b.z_local)]
    return max(found, key=lambda mb: mb[1].z_local) if found else None


__all__ = ["METHODS", "REFERENCES", "REGISTRY", "best_data_driven"]
