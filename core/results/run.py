"""The Run: the unit the dashboard opens. A directory written atomically (staging dir, then rename):

config.yaml          the resolved configuration
manifest.json        versions, seeds, timings, inputs, methods, windows
scores.parquet       event_id, mjj, deta, window, one out-of-fold score column per method and, for
                     windowed methods, one per window ("<method>|<window>": that window's models'
                     score of every event)
thresholds.json      the global methods' threshold curves per window and ε (quantile-regression
                     coefficients, core.bumphunt.selection); windowed methods' thresholds are quantiles
                     of their sidebands, computed when needed
search.json          the search over every selection: local scans and the global significance
signal_scores.parquet  scores of the evaluation signal sample (when one was given)
evaluation.json      ROC / SIC / AUC per method where truth exists
models/<method>/fold-<k>.json, .npz   the fitted models: parameters and state, weights

The manifest records the SHA-256 of the scores, thresholds and evaluation (``core.data.integrity``);
``Run.open`` refuses a Run whose files changed after they were written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

import anomalyscope.core.results.attachments as attachments
from anomalyscope.core.bumphunt.result import SPECTRA_SINCE, ScanSummary, SearchSummary
from anomalyscope.core.columns import Columns
from anomalyscope.core.data.atomic import publish_dir, staging_dir, write_json_atomic, write_text_atomic
from anomalyscope.core.data.integrity import digests, verify
from anomalyscope.core.data.versioned import read_optional_json, read_versioned_json
from anomalyscope.core.errors import InputError, NothingSelected
from anomalyscope.core.records import check
from anomalyscope.core.results.records.evaluation import Evaluation
from anomalyscope.core.results.records.manifest import RunManifest

RUN_VERSION = 1
REQUIRED = ("manifest.json", "scores.parquet", "config.yaml")
# thresholds.json: global method → window → {ε (as text) → threshold-curve coefficients, None where none was fitted}
ThresholdCurves = dict[str, dict[str, dict[str, list[float] | None]]]
CHECKSUMMED = ("scores.parquet", "signal_scores.parquet", "thresholds.json", "evaluation.json")


def write_run(
    out: Path,
    config: dict,
    manifest: dict,
    scores: dict,
    curves: dict,
    signal_scores: dict | None,
    evaluation: dict | None,
    models: dict,
    overwrite: bool = False,
    search: SearchSummary | None = None,
) -> "Run":
    """scores/signal_scores: column name → numpy array; curves: global method → window → {ε → coefficients};
    models: method → list of fitted models."""
    out = Path(out)
    with staging_dir(out) as tmp:
        write_text_atomic(tmp / "config.yaml", yaml.safe_dump(config, sort_keys=False))
        pq.write_table(pa.table(scores), tmp / "scores.parquet", compression="zstd")
        write_json_atomic(
            tmp / "thresholds.json",
            {m: {w: {f"{e:g}": c for e, c in by_e.items()} for w, by_e in by_w.items()} for m, by_w in curves.items()},
        )
        if signal_scores:
            pq.write_table(pa.table(signal_scores), tmp / "signal_scores.parquet", compression="zstd")
        if evaluation is not None:
            attachments.write(tmp / "evaluation.json", "evaluation", evaluation)
        if search is not None:
            attachments.write(tmp / "search.json", "search", search)
        for method, fold_models in models.items():
            d = tmp / "models" / method
            d.mkdir(parents=True)
            for k, m in enumerate(fold_models):
                m.save(d / f"fold-{k}")
        # the files a result is computed from, checked on every open (search.json is rewritten by `search`)
        checked = [f for f in CHECKSUMMED if (tmp / f).exists()]
        manifest = {"run_version": RUN_VERSION, **manifest, "checksums": digests(tmp, checked)}
        write_json_atomic(tmp / "manifest.json", RunManifest.from_writer(manifest, "Run manifest").to_dict())
        publish_dir(tmp, out, overwrite=overwrite)
    return Run.open(out)


class Run:
    def __init__(self, path: Path, manifest: RunManifest):
        self.path = Path(path)
        self.manifest = manifest

    @classmethod
    def open(cls, path: str | Path) -> "Run":
        path = Path(path)
        raw = read_versioned_json(path, "manifest.json", "Run", "run_version", RUN_VERSION, REQUIRED)
        manifest = RunManifest.from_dict(raw, str(path / "manifest.json"))
        if not manifest.methods:
            raise InputError(f"{path / 'manifest.json'}: 'methods' must list the Run's methods, got []")
        effs = manifest.efficiencies
        if not (effs and all(0 < e <= 1 for e in effs)):
            raise InputError(
                f"{path / 'manifest.json'}: 'efficiencies' must list cut efficiencies in (0, 1], got {effs!r}"
            )
        verify(path, manifest.checksums, str(path / "manifest.json"))
        return cls(path, manifest)

    def input_path(self, key: str = "eventset") -> Path | None:
        """Where one of the Run's inputs ("eventset", "signal", "background_extra") lies: the recorded path if it
        exists, else the same place relative to the Run (a tree moved together), else the recorded path (so an
        error names it). Older Runs recorded the path as given, relative to where ``run`` was started."""
        rec = self.manifest.eventset.path if key == "eventset" else getattr(self.manifest, key)
        if rec is None:
            return None
        recorded = Path(rec)
        if recorded.exists():
            return recorded
        rel = (self.manifest.paths_from_run or {}).get(key)
        if rel is not None and (self.path / rel).exists():
            return (self.path / rel).resolve()
        return recorded

    @property
    def methods(self) -> list[str]:
        return list(self.manifest.methods)

    @property
    def efficiencies(self) -> list[float]:
        return list(self.manifest.efficiencies)

    @property
    def config(self) -> dict:
        return yaml.safe_load((self.path / "config.yaml").read_text())

    def scores(self) -> Columns:
        """scores.parquet as a mapping of columns, each read when first asked for (a view needs few of them)."""
        return Columns(self.path / "scores.parquet")

    def selection_curves(self) -> ThresholdCurves | None:
        """thresholds.json: global method → window → {ε → threshold-curve coefficients or None}, every value
        checked (an error names the file and the field: ``cwola.B4.0.1[2]``)."""
        path = self.path / "thresholds.json"
        data = read_optional_json(path, "Run thresholds")
        return None if data is None else check(ThresholdCurves, data, str(path))

    def signal_scores(self) -> Columns | None:
        path = self.path / "signal_scores.parquet"
        return Columns(path) if path.exists() else None

    def evaluation(self) -> Evaluation | None:
        return self.attachment("evaluation")

    @property
    def windowed_methods(self) -> list[str]:
        return list(self.manifest.windowed_methods or [])

    def search(self):
        """The search this Run was made with (definition, fit start and windows as resolved then)."""
        from anomalyscope.core.bumphunt.search import Search, SearchDefinition

        d = self.manifest.search
        if d is None:
            raise InputError(f"{self.path}: manifest.json has no 'search' (a Run made before the search definition)")
        try:
            return Search(
                SearchDefinition.from_dict(d.definition, f"{self.path}: search"),
                d.fit_min,
                d.fit_min_how,
                list(d.windows),
                list(d.warnings or []),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{self.path}: manifest.json field 'search' is malformed ({exc})") from None

    def table(self, scores: dict[str, np.ndarray] | None = None):
        """The per-event scores as the search reads them (``scores``: ``self.scores()`` already read)."""
        from anomalyscope.core.bumphunt.search import ScoreTable

        return ScoreTable.from_run(self, scores)

    def search_result(self) -> SearchSummary | None:
        """search.json: every selection's scan and the global significance (None if absent)."""
        return self.attachment("search")

    def spectra(
        self, method: str, efficiencies, window: str | None, result: SearchSummary | None = None
    ) -> list[ScanSummary]:
        """The stored selections a spectrum view or plot draws (``SearchSummary.spectra``): nothing is refitted,
        so every view shows what the search found. A search.json from before the spectra were stored is refused
        with the command that rewrites it. ``result``: the search.json already read (a server keeps it)."""
        res = result if result is not None else self.search_result()
        path = self.attachment_path("search")
        rewrite = f"`anomalyscope search {self.path}` rewrites it (refits and rescans; no retraining)"
        if res is None:
            raise InputError(f"{path}: no search result; {rewrite}")
        if res.schema_version < SPECTRA_SINCE:
            raise InputError(f"{path}: written by an older anomalyscope, without the spectra the views draw; {rewrite}")
        out = res.spectra(method, efficiencies, window)
        if not out:
            raise NothingSelected(f"{method}: no stored selection{f' in window {window}' if window else ''}")
        return out

    # ------------------------------------------------------------------ what later commands add
    def attachment_path(self, name: str) -> Path:
        """Where attachment ``name`` (``attachments.ATTACHMENTS``: lund, trigger, pileup, ...) is or goes."""
        return attachments.locate(self.path, name)

    def attachment(self, name: str) -> dict | None:
        """Attachment ``name``, its version and fields checked; None if the Run has none."""
        return attachments.read(self.attachment_path(name), name)

    def attachments(self) -> dict[str, Path]:
        """The attachments this Run holds, by name."""
        return {n: p for n in attachments.ATTACHMENTS if (p := self.attachment_path(n)).exists()}

    def describe(self) -> str:
        """What ``info`` prints: inputs, methods, the search's outcome and every attachment (each checked)."""
        m = self.manifest
        lines = [
            f"Run {self.path.name} at {self.path}",
            f"  eventset: {self.input_path('eventset')} ({m.eventset.n_events or '?'} events)",
            f"  methods: {', '.join(self.methods)}; cuts ε = {', '.join(f'{e:g}' for e in self.efficiencies)}",
            f"  created {m.created or '?'} by anomalyscope {m.anomalyscope or '?'}",
        ]
        for name, path in self.attachments().items():
            a = attachments.ATTACHMENTS[name]
            try:
                self.attachment(name)
                state = "ok"
            except InputError as exc:
                state = f"unreadable: {exc}"
            lines.append(f"  {name}: {path.relative_to(self.path.parent)} — {a.what} ({state})")
        missing = [n for n in attachments.ATTACHMENTS if n not in self.attachments()]
        if missing:
            lines.append(
                "  not added: " + ", ".join(f"{n} (`{attachments.ATTACHMENTS[n].written_by}`)" for n in missing)
            )
        return "\n".join(lines)

    def redo_search(self, toys: int | None = None, progress: bool = False) -> SearchSummary:
        """Rerun the search on the stored scores (selections, fits, scans, look-elsewhere toys; no retraining) and
        store it: how an older search.json is brought up to date."""
        res = self.search().run(self.table(), toys=toys, progress=progress)
        self.write_search_result(res)
        return self.search_result()

    def write_search_result(self, result: SearchSummary) -> Path:
        """Replace search.json (``search`` reruns a Run's search, e.g. with more toys)."""
        path = self.attachment_path("search")
        attachments.write(path, "search", result)
        return path
