"""Anomaly-detection methods behind one interface (fit / score / save / load), scored out of fold."""

from core.methods.cathode import Cathode, CathodeB
from core.methods.cwola import CWoLa
from core.methods.quak import QUAK
from core.methods.references import IAD, CutTau21, CutTau32, Inclusive, Supervised
from core.methods.tnt import TagNTrain
from core.methods.vae_qr import VAEQR

REGISTRY = {
    cls.name: cls
    for cls in (Inclusive, CutTau21, CutTau32, Supervised, IAD, CWoLa, VAEQR, TagNTrain, Cathode, CathodeB, QUAK)
}

__all__ = ["REGISTRY"]
