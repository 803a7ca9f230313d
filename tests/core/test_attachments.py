"""The Run knows what later commands add to it: each attachment versioned, checked on read, listed by `info`."""

from __future__ import annotations

import json
import shutil

import pytest

from anomalyscope.core.cli import main
from anomalyscope.core.errors import InputError
from anomalyscope.core.results import Run
from anomalyscope.core.results.attachments import ATTACHMENTS, SCHEMA_KEY
from tests.conftest import injection_scan_content


def test_a_run_lists_and_checks_its_attachments(small_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(small_run.path, run_dir)
    run = Run.open(run_dir)
    assert set(run.attachments()) == {"search", "evaluation"}
    assert json.loads((run_dir / "search.json").read_text())[SCHEMA_KEY] == ATTACHMENTS["search"].version
    assert run.search_result().global_significance.n_toys == 50
    assert main(["info", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "methods: inclusive, cut_tau21, cut_tau32, supervised" in out
    assert "search: run/search.json — search result (ok)" in out
    assert "not added: lund (`lund`), lund_closure (`lund`), trigger (`trigger`), pileup (`trigger-pileup`)" in out

    # a trigger report from a newer anomalyscope, an incomplete one
    trigger = run.attachment_path("trigger")
    trigger.parent.mkdir()
    trigger.write_text(json.dumps({SCHEMA_KEY: 99, "models": {}}))
    with pytest.raises(
        InputError, match=f"^{trigger}: schema_version 99; this anomalyscope reads trigger files up to 1"
    ):
        run.attachment("trigger")
    trigger.write_text(json.dumps({SCHEMA_KEY: 1, "samples": {}}))
    with pytest.raises(InputError, match=f"^{trigger}: field 'background' is missing$"):
        run.attachment("trigger")
    assert main(["info", str(run_dir)]) == 0
    assert "trigger: run/trigger/report.json — trigger report (unreadable:" in capsys.readouterr().out


def test_an_injection_scans_runs_find_the_scan_beside_them(small_run, tmp_path):
    from anomalyscope.dashboard.data import run_attachment

    scan_dir = tmp_path / "scan"
    shutil.copytree(small_run.path, scan_dir / "run-40-0")
    run = Run.open(scan_dir / "run-40-0")
    assert "injection_scan" not in run.attachments() and run_attachment(str(run.path), "injection_scan") is None
    (scan_dir / "injection_scan.json").write_text(json.dumps(injection_scan_content(injections=[0, 40, 80])))
    assert run.attachments()["injection_scan"] == scan_dir / "injection_scan.json"
    assert run_attachment(str(run.path), "injection_scan").injections == [0, 40, 80]
    with pytest.raises(InputError, match="no Run attachment 'plots'; known: search, evaluation"):
        run.attachment("plots")
