"""Event generation with Pythia 8 and FastJet: processes, detector model, chunked parallel jobs."""

from anomalyscope.core.generate.detector import DetectorModel
from anomalyscope.core.generate.processes import MODELS, get_model
from anomalyscope.core.generate.runner import generate, measure_edge

__all__ = ["MODELS", "DetectorModel", "generate", "get_model", "measure_edge"]
