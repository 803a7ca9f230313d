"""The public API: the names ``anomalyscope.core`` exports are pinned here (removing or renaming one is a
breaking change, to be made on purpose), each resolves, and the notebooks and docs import nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anomalyscope.core as core

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = [
    "AnalysisError", "AnomalyscopeError", "BranchMap", "CMS_DIJET_EDGES", "Cathode", "CathodeB", "CutTau21",
    "CutTau32", "CWoLa", "EventSet", "IAD", "Inclusive", "InputError", "LHCOFormat", "METHODS", "NanoAODFormat",
    "QUAK", "REGISTRY", "Run", "RunConfig", "SearchDefinition", "SignalModel", "Spectrum", "Supervised", "TagNTrain",
    "VAEQR", "bump_hunt", "execute", "export_root", "generate", "global_significance", "ingest", "inject",
    "load_config", "luminosity_fb", "performance", "poisson_interval", "read_summary", "select",
]  # fmt: skip


def test_the_public_names_are_pinned_and_each_resolves():
    assert sorted(core.__all__) == sorted(["__version__", *PUBLIC])
    for name in core.__all__:
        assert getattr(core, name) is not None, name
    assert set(dir(core)) >= set(core.__all__)


def _imports(text: str) -> list[tuple[str, str]]:
    """(module, names) of every `from anomalyscope... import ...` and `import anomalyscope...` in a text."""
    found = [(m, n) for m, n in re.findall(r"from (anomalyscope[\w.]*) import \(?([^)\n]+)", text)]
    found += [(m, "") for m in re.findall(r"^\s*import (anomalyscope[\w.]*)", text, flags=re.M)]
    return found


def test_notebooks_and_docs_import_only_public_names():
    texts = {}
    for nb in sorted((ROOT / "docs" / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        texts[nb.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        texts[md.name] = "\n".join(re.findall(r"```python\n(.*?)```", md.read_text(), flags=re.S))
    bad = []
    for where, text in texts.items():
        for module, names in _imports(text):
            names = {n.strip().split(" as ")[0] for n in names.split(",") if n.strip()}
            if module != "anomalyscope.core" or not names <= set(core.__all__):
                bad.append(f"{where}: from {module} import {', '.join(sorted(names))}")
    assert not bad, "imports of non-public names:\n" + "\n".join(bad)
    assert any("from anomalyscope.core import" in t for t in texts.values())


def test_internals_are_marked_private():
    """A module-level function of the package that no other module, test, bench, notebook or doc names, and that
    its module does not export, is an internal: its name starts with an underscore, so a reader of the code knows
    it can change without breaking anyone."""
    import ast

    sources = {p: p.read_text() for top in ("core", "dashboard") for p in (ROOT / top).rglob("*.py")}
    elsewhere = "\n".join(
        p.read_text(errors="ignore")
        for top in ("tests", "bench", "notebooks", "docs", "anomalyscope")
        for p in (ROOT / top).rglob("*")
        if p.suffix in (".py", ".ipynb", ".md") and p.is_file()
    ) + (ROOT / "app.py").read_text() + (ROOT / "README.md").read_text()
    exported = {n for s in sources.values() for block in re.findall(r"__all__\s*=\s*\[(.*?)\]", s, re.S)
                for n in re.findall(r'"(\w+)"', block)}  # fmt: skip
    public_internals = []
    for path, src in sources.items():
        for node in ast.parse(src).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_") or node.name in exported:
                continue
            named = re.compile(rf"\b{node.name}\b")
            if not named.search(elsewhere) and not any(named.search(s) for p, s in sources.items() if p != path):
                public_internals.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert not public_internals, public_internals
