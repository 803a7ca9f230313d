"""What a Run holds besides its scores: the results later commands add to it, known by name.

Each attachment is a JSON file at a fixed place in (or, for an injection scan, beside) the Run directory,
written atomically by one command. Every writer stamps it with ``schema_version``; a reader refuses a
version newer than it knows (written by a newer anomalyscope) and a file that lacks a field every version
has, naming the file and the field. Files from before versions were stamped read as version 0.

Each is read as its typed record (``records``), every field checked, and its writer's content is checked
against the record before it is stored. The Run's own ``manifest.json`` is a record too
(``records.manifest.RunManifest``).

The Run opens them (``Run.attachment(name)``), so the dashboard and the command line read every result
through the Run rather than by path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anomalyscope.core.bumphunt.result import SEARCH_VERSION, SearchSummary
from anomalyscope.core.data.atomic import write_json_atomic
from anomalyscope.core.data.versioned import read_optional_json
from anomalyscope.core.errors import InputError
from anomalyscope.core.records import Record
from anomalyscope.core.results.records.evaluation import Evaluation
from anomalyscope.core.results.records.injection_scan import InjectionScan
from anomalyscope.core.results.records.lund import LundClosure, LundReport
from anomalyscope.core.results.records.null import NullCalibration
from anomalyscope.core.results.records.trigger import PileupStudy, TriggerReport

SCHEMA_KEY = "schema_version"


@dataclass(frozen=True)
class Attachment:
    name: str
    path: str  # relative to the Run directory
    what: str
    written_by: str  # the command that adds it
    record: type[Record]  # the typed record it is read as
    version: int = 1  # the version this anomalyscope writes and the newest it reads
    beside_run: bool = False  # also looked for in the Run's parent directory (an injection scan's Runs)


ATTACHMENTS = {
    a.name: a
    for a in (
        Attachment(
            "search", "search.json", "search result", "run, search", record=SearchSummary, version=SEARCH_VERSION
        ),
        Attachment("evaluation", "evaluation.json", "evaluation (ROC, SIC, correlations)", "run", record=Evaluation),
        Attachment("lund", "lund/report.json", "Lund reweighting report", "lund", record=LundReport),
        Attachment("lund_closure", "lund/closure.json", "Lund closure study", "lund", record=LundClosure),
        Attachment("trigger", "trigger/report.json", "trigger report", "trigger", record=TriggerReport),
        Attachment("pileup", "trigger/pileup.json", "pile-up study", "trigger-pileup", record=PileupStudy),
        Attachment("null_calibration", "null_calibration.json", "retrained null", "null", record=NullCalibration),
        Attachment(
            "injection_scan",
            "injection_scan.json",
            "injection scan",
            "injection-scan",
            beside_run=True,
            record=InjectionScan,
        ),
    )
}


def write(path: Path, name: str, content: dict | Record) -> Record:
    """Store attachment ``name`` at ``path`` atomically, stamped with its schema version; the content (its record,
    or what is still written as a mapping) is checked against the attachment's record first
    (``Record.from_writer``: nothing is written if it does not fit). Returns the record, as a reader would get it."""
    a = ATTACHMENTS[name]
    if isinstance(content, Record):
        if not isinstance(content, a.record):
            raise TypeError(f"attachment {name} is a {a.record.__name__}, got a {type(content).__name__}")
        content = content.to_dict()
    record = a.record.from_writer({**content, SCHEMA_KEY: a.version}, a.what)
    write_json_atomic(path, record.to_dict())
    return record


def locate(run_dir: Path, name: str) -> Path:
    """Where attachment ``name`` of the Run in ``run_dir`` is (or would be written)."""
    a = known(name)
    here = Path(run_dir) / a.path
    if a.beside_run and not here.exists() and (Path(run_dir).parent / a.path).exists():
        return Path(run_dir).parent / a.path
    return here


def known(name: str) -> Attachment:
    if name not in ATTACHMENTS:
        raise InputError(f"no Run attachment '{name}'; known: {', '.join(ATTACHMENTS)}")
    return ATTACHMENTS[name]


def read(path: Path, name: str) -> Record | None:
    """The attachment at ``path`` as its typed record, checked (None when absent)."""
    a = known(name)
    data = read_optional_json(path, a.what)
    if data is None:
        return None
    version = data.get(SCHEMA_KEY, 0)
    if not isinstance(version, int) or version > a.version:
        raise InputError(f"{path}: {SCHEMA_KEY} {version!r}; this anomalyscope reads {a.name} files up to {a.version}")
    return a.record.from_dict(data, str(path))
