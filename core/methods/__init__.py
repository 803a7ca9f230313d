"""Anomaly-detection methods behind one interface (fit / score / save / load), scored out of fold."""

from anomalyscope.core.methods.cathode import Cathode, CathodeB
from anomalyscope.core.methods.cwola import CWoLa
from anomalyscope.core.methods.quak import QUAK
from anomalyscope.core.methods.references import IAD, CutTau21, CutTau32, Inclusive, Supervised
from anomalyscope.core.methods.tnt import TagNTrain
from anomalyscope.core.methods.vae_qr import VAEQR

REGISTRY = {
    cls.name: cls
    for cls in (Inclusive, CutTau21, CutTau32, Supervised, IAD, CWoLa, VAEQR, TagNTrain, Cathode, CathodeB, QUAK)
}


def best_data_driven(excesses: dict[str, dict]) -> tuple[str, dict] | None:
    """The data-driven method with the largest local excess among a search's per-method excesses
    (``core.bumphunt.search.best_excesses``), and that excess. References — inclusive, τ cuts, supervised,
    idealized AD — are left out: they are yardsticks, not the search."""
    import math

    found = [
        (m, b)
        for m, b in excesses.items()
        if m in REGISTRY and not REGISTRY[m].reference and math.isfinite(b.get("z_local", math.nan))
    ]
    return max(found, key=lambda mb: mb[1]["z_local"]) if found else None


__all__ = ["REGISTRY", "best_data_driven"]
