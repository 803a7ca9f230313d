"""The package installs under its own name: anomalyscope.core and anomalyscope.dashboard, never top-level
`core` or `dashboard` (which any user folder of that name would shadow); every module imports it so."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "anomalyscope": ROOT / "anomalyscope",
    "anomalyscope.core": ROOT / "core",
    "anomalyscope.dashboard": ROOT / "dashboard",
}


def python_files():
    for folder in ("anomalyscope", "core", "dashboard", "tests", "bench"):
        yield from (ROOT / folder).rglob("*.py")
    yield ROOT / "app.py"


def test_every_subpackage_is_listed_for_installation_under_its_mapped_name():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == {k: v.name for k, v in SOURCES.items()}
    found = set()
    for name, folder in SOURCES.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            found.add(".".join((name, *rel)))
    assert set(cfg["packages"]) == found


def test_no_module_imports_the_old_top_level_names():
    offenders = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in {"core", "dashboard"}
            ]
    assert not offenders, offenders


def test_the_wheel_holds_only_the_anomalyscope_namespace_and_its_console_script(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("anomalyscope-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"anomalyscope"}, tops
    for module in ("anomalyscope/__main__.py", "anomalyscope/core/cli.py", "anomalyscope/dashboard/app.py"):
        assert module in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "anomalyscope = anomalyscope.core.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_the_command_line_runs_from_any_directory_under_its_own_name(tmp_path):
    (tmp_path / "core").mkdir()  # a user's own folder named core must not shadow ours
    (tmp_path / "core" / "__init__.py").write_text("raise ImportError('the user folder was imported')\n")
    r = subprocess.run([sys.executable, "-m", "anomalyscope", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("usage: python -m anomalyscope"), r.stderr
    script = Path(sys.executable).parent / "anomalyscope"
    r = subprocess.run([str(script), "serve", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("usage: anomalyscope serve") and "--run" in r.stdout, r.stderr
    r = subprocess.run([str(script), "serve", "--run", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == f"error: --run {tmp_path}: not a Run directory (no manifest.json)"
