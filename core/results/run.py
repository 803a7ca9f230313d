"""The Run: the unit the dashboard opens. A directory written atomically (staging dir, then rename):

config.yaml          the resolved configuration
manifest.json        versions, seeds, timings, inputs, methods, windows
scores.parquet       event_id, mjj, deta, window, one out-of-fold score column per method
thresholds.parquet   event_id and, per method and efficiency ε, the out-of-fold flat-efficiency
                     threshold (column "<method>@<ε>"); an event is selected if its score is above
signal_scores.parquet  scores of the evaluation signal sample (when one was given)
evaluation.json      ROC / SIC / AUC per method where truth exists
models/<method>/fold-<k>.pkl   the fitted models
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from core.data.atomic import publish_dir, staging_dir, write_json_atomic, write_text_atomic
from core.data.versioned import read_optional_json, read_versioned_json
from core.errors import InputError

RUN_VERSION = 1
REQUIRED = ("manifest.json", "scores.parquet", "thresholds.parquet", "config.yaml")


def threshold_column(method: str, eff: float) -> str:
    return f"{method}@{eff:g}"


def write_run(
    out: Path,
    config: dict,
    manifest: dict,
    scores: dict,
    thresholds: dict,
    signal_scores: dict | None,
    evaluation: dict | None,
    models: dict,
    overwrite: bool = False,
) -> "Run":
    """scores/thresholds/signal_scores: column name → numpy array; models: method → list of fitted models."""
    out = Path(out)
    with staging_dir(out) as tmp:
        write_text_atomic(tmp / "config.yaml", yaml.safe_dump(config, sort_keys=False))
        pq.write_table(pa.table(scores), tmp / "scores.parquet", compression="zstd")
        pq.write_table(pa.table(thresholds), tmp / "thresholds.parquet", compression="zstd")
        if signal_scores:
            pq.write_table(pa.table(signal_scores), tmp / "signal_scores.parquet", compression="zstd")
        if evaluation is not None:
            write_json_atomic(tmp / "evaluation.json", evaluation)
        for method, fold_models in models.items():
            d = tmp / "models" / method
            d.mkdir(parents=True)
            for k, m in enumerate(fold_models):
                m.save(d / f"fold-{k}.pkl")
        write_json_atomic(tmp / "manifest.json", {"run_version": RUN_VERSION, **manifest})
        publish_dir(tmp, out, overwrite=overwrite)
    return Run.open(out)


class Run:
    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest

    @classmethod
    def open(cls, path: str | Path) -> "Run":
        path = Path(path)
        manifest = read_versioned_json(path, "manifest.json", "Run", "run_version", RUN_VERSION, REQUIRED)
        return cls(path, manifest)

    @property
    def methods(self) -> list[str]:
        return list(self.manifest["methods"])

    @property
    def efficiencies(self) -> list[float]:
        return list(self.manifest["efficiencies"])

    @property
    def config(self) -> dict:
        return yaml.safe_load((self.path / "config.yaml").read_text())

    def _table(self, name: str) -> dict[str, np.ndarray]:
        t = pq.read_table(self.path / name)
        return {c: t.column(c).to_numpy() for c in t.column_names}

    def scores(self) -> dict[str, np.ndarray]:
        return self._table("scores.parquet")

    def thresholds(self) -> dict[str, np.ndarray]:
        return self._table("thresholds.parquet")

    def signal_scores(self) -> dict[str, np.ndarray] | None:
        return self._table("signal_scores.parquet") if (self.path / "signal_scores.parquet").exists() else None

    def evaluation(self) -> dict | None:
        return read_optional_json(self.path / "evaluation.json", "Run evaluation")

    def selection(self, method: str, eff: float) -> np.ndarray:
        """Events passing the flat-efficiency cut at ε for a method (bool per event, Run order)."""
        if method not in self.methods:
            raise InputError(f"{self.path}: no method '{method}' in this Run (have {self.methods})")
        col = threshold_column(method, eff)
        t = pq.read_table(self.path / "thresholds.parquet", columns=[col]).column(col).to_numpy()
        s = pq.read_table(self.path / "scores.parquet", columns=[method]).column(method).to_numpy()
        from core.methods.flat_cut import select

        return select(s, t[:, None])[:, 0]
