"""Bit-rot is an error, not a different result: a byte flipped in an EventSet partition's m_jj data or in a
Run's scores or thresholds is refused on open, naming the file; the restored file opens again."""

from __future__ import annotations

import hashlib
import shutil

import pyarrow.parquet as pq
import pytest

from anomalyscope.core.cli import main
from anomalyscope.core.data import EventSet, integrity
from anomalyscope.core.errors import InputError
from anomalyscope.core.results import Run


def _flip_in_column(path, column: str) -> int:
    """Flip one byte in the middle of ``column``'s data in the parquet file's first row group."""
    meta = pq.read_metadata(path).row_group(0)
    chunk = next(meta.column(i) for i in range(meta.num_columns) if meta.column(i).path_in_schema == column)
    at = chunk.data_page_offset + chunk.total_compressed_size // 2
    data = bytearray(path.read_bytes())
    data[at] ^= 0x5A
    path.write_bytes(bytes(data))
    return at


def test_a_flipped_byte_in_an_eventsets_mjj_data_is_refused_by_name(qcd_es, tmp_path, capsys):
    es_dir = tmp_path / "qcd"
    shutil.copytree(qcd_es.path, es_dir)
    es = EventSet.open(es_dir)
    part = es.files[0]
    recorded = es.schema["checksums"][part.name]
    assert recorded == hashlib.sha256(part.read_bytes()).hexdigest()  # what sha256sum prints
    original = part.read_bytes()
    _flip_in_column(part, "mjj")
    with pytest.raises(InputError) as exc:
        EventSet.open(es_dir)
    assert str(exc.value).startswith(f"{part}: checksum mismatch")
    # the command line: one error line, for `info` as for every command that opens it
    assert main(["info", str(es_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {part}: checksum mismatch"), err
    part.write_bytes(original)
    assert len(EventSet.open(es_dir)) == len(qcd_es)


def test_a_flipped_byte_in_a_runs_scores_or_thresholds_is_refused(small_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(small_run.path, run_dir)
    assert set(Run.open(run_dir).manifest.checksums) >= {"scores.parquet", "thresholds.json"}
    scores = run_dir / "scores.parquet"
    original = scores.read_bytes()
    _flip_in_column(scores, "mjj")
    with pytest.raises(InputError, match=f"^{scores}: checksum mismatch"):
        Run.open(run_dir)
    scores.write_bytes(original)
    thresholds = run_dir / "thresholds.json"
    thresholds.write_text(thresholds.read_text().replace("0", "1", 1))
    with pytest.raises(InputError, match=f"^{thresholds}: checksum mismatch"):
        Run.open(run_dir)


def test_an_unchanged_file_is_hashed_once_per_process(qcd_es, tmp_path, monkeypatch):
    es_dir = tmp_path / "qcd"
    shutil.copytree(qcd_es.path, es_dir)
    calls = []
    real = integrity.file_digest
    monkeypatch.setattr(integrity, "file_digest", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        EventSet.open(es_dir)
    assert len(calls) == len(EventSet.open(es_dir).files)  # the first open only
    part = EventSet.open(es_dir).files[0]
    part.write_bytes(part.read_bytes())  # rewritten (same bytes, new mtime): checked again, and passes
    EventSet.open(es_dir)
    assert len(calls) == len(EventSet.open(es_dir).files) + 1


def test_a_store_without_checksums_opens_as_before(qcd_es, tmp_path):
    import json

    es_dir = tmp_path / "old"
    shutil.copytree(qcd_es.path, es_dir)
    schema = json.loads((es_dir / "schema.json").read_text())
    del schema["checksums"]
    (es_dir / "schema.json").write_text(json.dumps(schema))
    assert len(EventSet.open(es_dir)) == len(qcd_es)
    schema["checksums"] = ["part-00000.parquet"]
    (es_dir / "schema.json").write_text(json.dumps(schema))
    with pytest.raises(
        InputError, match=r"schema.json: field 'checksums' is \['part-00000.parquet'\], expected an object"
    ):
        EventSet.open(es_dir)


def test_a_file_verified_by_an_earlier_process_is_not_hashed_again_until_it_changes(qcd_es, tmp_path, monkeypatch):
    """The store notes each verified file (inode, size, mtime, digest), so a new process (a dashboard server, the
    next command) opens a large EventSet without reading it all; a copy or an edit is hashed again."""
    es_dir = tmp_path / "qcd"
    shutil.copytree(qcd_es.path, es_dir)  # new inodes: the copied notes do not vouch for these files
    calls = []
    real = integrity.file_digest
    monkeypatch.setattr(integrity, "file_digest", lambda p: calls.append(p) or real(p))
    n = len(EventSet.open(es_dir).files)
    assert len(calls) == n and (es_dir / integrity.STAMPS).exists()
    monkeypatch.setattr(integrity, "_VERIFIED", {})  # a new process
    EventSet.open(es_dir)
    assert len(calls) == n  # the notes vouch for the unchanged files
    part = EventSet.open(es_dir).files[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, same inode, a new modification time
    part.write_bytes(bytes(data))
    monkeypatch.setattr(integrity, "_VERIFIED", {})
    with pytest.raises(InputError, match="checksum mismatch"):
        EventSet.open(es_dir)
    assert len(calls) == n + 1
    # a store this user cannot write is verified as before, every time
    part.write_bytes(real_bytes := (qcd_es.path / part.name).read_bytes())
    assert len(real_bytes) == len(data)
    (es_dir / integrity.STAMPS).unlink()
    monkeypatch.setattr(integrity, "_write_stamps", lambda folder, stamps: None)
    monkeypatch.setattr(integrity, "_VERIFIED", {})
    EventSet.open(es_dir)
    assert len(calls) == 2 * n + 1 and not (es_dir / integrity.STAMPS).exists()
