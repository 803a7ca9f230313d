"""What the command groups share: --param parsing and what an interrupted command leaves behind."""

from __future__ import annotations

from anomalyscope.core.errors import InputError

# what an interrupted command leaves (each command's parser records its own as ``interrupted``): commands built on
# the chunk-job engine resume; the others write their outputs whole (staging directory, then rename) or not at all
CHUNKS_KEPT = "finished chunks are kept; re-run the same command to resume"
DEMO_KEPT = "finished generation chunks are kept; re-run the same command to resume (training starts over)"
BENCHMARK_KEPT = "finished samples and chunks are kept; re-run the same command to resume (training starts over)"
SCAN_KEPT = "finished injection points are kept; re-run the same command to resume from the next one"
NULL_KEPT = "finished pseudo-datasets are kept (RUN/null/points.json); re-run the same command to resume"
NOTHING_WRITTEN = "nothing was written (outputs are written whole or not at all); re-running starts over"


def model_params(items: list[str]) -> dict:
    """--param NAME=VALUE options as a dict of numbers."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--param takes NAME=VALUE, got '{item}'")
        try:
            out[key] = float(value)
        except ValueError:
            raise InputError(f"--param {key}: '{value}' is not a number") from None
    return out
