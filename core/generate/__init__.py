"""Event generation with Pythia 8 and FastJet: processes, detector model, chunked parallel jobs."""

from core.generate.detector import DetectorModel
from core.generate.processes import MODELS, get_model
from core.generate.runner import generate, measure_edge

__all__ = ["MODELS", "DetectorModel", "generate", "get_model", "measure_edge"]
