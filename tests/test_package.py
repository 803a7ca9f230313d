"""The package installs under its own name: anomalyscope.core and anomalyscope.dashboard, never top-level
`core` or `dashboard` (which any user folder of that name would shadow); every module imports it so."""

from __future__ import annotations

import ast
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
            elif isinstance(node, (ast.List, ast.Tuple)):  # a command line such as [python, "-m", "core", ...]
                vals = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
                names = [b for a, b in zip(vals, vals[1:]) if a == "-m" and isinstance(b, str)]
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
    assert any(n.endswith("licenses/LICENSE") for n in names), names[-10:]
    for module in ("anomalyscope/__main__.py", "anomalyscope/core/cli/__init__.py", "anomalyscope/dashboard/app.py"):
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


# the core's layers, bottom up, as anomalyscope/core/__init__.py states them
LAYERS = {
    "__init__": 0,
    "errors": 0,
    "extras": 0,
    "params": 0,
    "records": 0,
    "provenance": 0,
    "columns": 0,
    "features": 1,
    "bumphunt": 1,
    "data": 2,
    "generate": 3,
    "results": 3,
    "methods": 4,
    "lund": 5,
    "trigger": 5,
    "workflows": 6,
    "plots": 6,
    "cli": 7,
}


def runtime_nodes(tree):
    """Every node, less those under ``if TYPE_CHECKING:`` (imports for annotations only, never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def module_imports():
    """{module: the anomalyscope modules it imports, deferred imports inside functions included}."""
    graph = {}
    for name, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            mod = ".".join((name, *(parts[:-1] if parts[-1] == "__init__" else parts)))
            deps = set()
            for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    deps.add(node.module)
                    deps.update(f"{node.module}.{a.name}" for a in node.names)
                elif isinstance(node, ast.Import):
                    deps.update(a.name for a in node.names)
            graph[mod] = deps
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def test_the_core_imports_only_downwards_and_never_the_dashboard():
    up = []
    for mod, deps in module_imports().items():
        if not mod.startswith("anomalyscope.core"):
            continue
        here = mod.split(".")[2] if mod.count(".") >= 2 else "__init__"
        for d in deps:
            if d.startswith("anomalyscope.dashboard"):
                if here != "cli":  # `anomalyscope serve` starts the dashboard
                    up.append(f"{mod} → {d}")
            elif d.startswith("anomalyscope.core.") and LAYERS[d.split(".")[2]] > LAYERS[here]:
                up.append(f"{mod} (layer {LAYERS[here]}) → {d} (layer {LAYERS[d.split('.')[2]]})")
    assert not up, up
    assert set(LAYERS) >= {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "core").iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    }


def test_no_two_modules_import_each_other_even_through_others():
    graph = module_imports()
    # a package's __init__ re-exporting its modules is not a cycle of logic: leave package → own module edges out
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = "open"
        for d in edges[m]:
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d) :] + [d] if d in stack else [m, d])
            elif d not in state:
                visit(d, [*stack, d])
        state[m] = "done"

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles
