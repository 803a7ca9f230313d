"""The Lund-plane ratio as a correctionlib JSON, the format CMS frameworks read corrections in.

One correction, ``lund_plane_ratio``: the factor ρ_data/ρ_sim for one primary Lund splitting, given the
systematic ("nominal", and "model" where an alternative simulation was measured), the subjet pT [GeV],
ln(R/ΔR) and ln(kt/GeV). Values outside the grid take the edge bins ("clamp"), as ``LundBinning`` counts
them. A jet's weight is the product of the factors of all splittings of all its subjets; like ours, it
is then normalised to mean 1 over the sample (the correction changes shapes and efficiencies, not the
yield). Evaluated this way the file gives our weights to 1e-6 (``tests/core/test_lund_correction.py``).

Not in the file: the statistical toys (their spread is an uncertainty of an efficiency, not a weight), the
pT-extrapolation variation (a fit per Lund bin above the control sample's reach) and the unmatched/shared
subjet variations (they need the generator quarks).
"""

from __future__ import annotations

import json
from pathlib import Path

from anomalyscope.core.data.atomic import write_text_atomic
from anomalyscope.core.extras import require
from anomalyscope.core.lund.ratio import LundRatio

NAME = "lund_plane_ratio"
INPUTS = ("subjet_pt", "ln_r_delta", "ln_kt")


def correction_set(ratio: LundRatio, description: str = "") -> dict:
    """The correctionlib (schema v2) CorrectionSet of a measured ratio, validated by correctionlib."""
    require("correctionlib", "Exporting to correctionlib")
    from correctionlib import schemav2

    b = ratio.binning

    def grid(values) -> dict:
        return {
            "nodetype": "multibinning",
            "inputs": list(INPUTS),
            "edges": [list(map(float, b.subjet_pt)), list(map(float, b.ln_r_delta)), list(map(float, b.ln_kt))],
            "content": [float(v) for v in values.reshape(-1)],  # row-major, as correctionlib reads it
            "flow": "clamp",
        }

    systematics = [{"key": "nominal", "value": grid(ratio.ratio)}]
    if ratio.ratio_alt is not None:
        systematics.append({"key": "model", "value": grid(ratio.ratio_alt)})
    correction = {
        "name": NAME,
        "version": 1,
        "description": "Lund-plane data/simulation ratio per primary splitting (anomalyscope, arXiv:2507.07775); "
        "a jet's weight is the product over its subjets' splittings, normalised to mean 1 over the sample. "
        + description,
        "inputs": [
            {"name": "systematic", "type": "string", "description": "nominal or model (alternative simulation)"},
            {"name": "subjet_pt", "type": "real", "description": "subjet pT [GeV]"},
            {"name": "ln_r_delta", "type": "real", "description": "ln(R/ΔR) of the splitting"},
            {"name": "ln_kt", "type": "real", "description": "ln(kt/GeV) of the splitting"},
        ],
        "output": {"name": "factor", "type": "real", "description": "ρ_data/ρ_sim of the splitting's bin"},
        "data": {"nodetype": "category", "input": "systematic", "content": systematics},
    }
    cset = schemav2.CorrectionSet(schema_version=2, description="anomalyscope Lund-plane reweighting",
                                  corrections=[schemav2.Correction.model_validate(correction)])  # fmt: skip
    return json.loads(cset.model_dump_json(exclude_unset=True))


def write_correction(ratio: LundRatio, path: Path, description: str = "") -> Path:
    """Write the CorrectionSet to ``path`` (atomically)."""
    path = Path(path)
    write_text_atomic(path, json.dumps(correction_set(ratio, description), indent=1) + "\n")
    return path
