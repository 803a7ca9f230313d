"""Level-1 anomaly-detection triggers: L1-like inputs, quantisation-aware models (HGQ2), firmware figures
(da4ml, hls4ml, yosys), rates and efficiencies. Keras runs on the torch backend (set here, before any
import of keras)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
