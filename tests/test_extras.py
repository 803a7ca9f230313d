"""Installs that fit the user: the analysis (EventSets, bump hunt, Runs, exports) runs with none of the optional
stacks, plots with [plots] alone, the dashboard with [dashboard] alone, and a command whose stack is missing says
which extra to install. The subprocesses run this environment's Python with the other extras' libraries made
unimportable (tests/installed_only.py), as a ``pip install anomalyscope[...]`` without them would leave them."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from anomalyscope.core.cli import main
from anomalyscope.core.data import EventSet
from anomalyscope.core.extras import EXTRAS
from anomalyscope.core.methods import METHODS, REFERENCES, REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = {"hgq": "hgq2"}  # import name → distribution name, where they differ


def installed_only(extras: list[str], commands: list[list[str]], env: dict | None = None) -> list[dict]:
    import os

    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "installed_only.py"), ",".join(extras), json.dumps(commands)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"rc"')]
    assert len(results) == len(commands), proc.stdout[-3000:]
    return results


def test_pyproject_extras_are_the_ones_the_code_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def names(requirements):
        return {r.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip() for r in requirements}

    base = names(project["dependencies"])
    for extra, modules in EXTRAS.items():
        wanted = {DISTRIBUTION.get(m, m) for m in modules}
        assert wanted <= names(extras[extra]), (extra, wanted - names(extras[extra]))
        assert not wanted & base, f"{extra}'s {wanted & base} are in the base dependencies"
    assert extras["all"] == [f"anomalyscope[{','.join(EXTRAS)}]"]
    assert "anomalyscope[all]" in extras["test"]
    # the README's quick start installs everything; its test command is the one CI runs
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[all]" && python -m anomalyscope demo' in readme
    assert (
        'pip install -e ".[test]" && pytest' in readme
        and 'pip install -e ".[test]" && pytest' in (ROOT / ".ci" / "run").read_text()
    )


def test_method_names_and_reference_flags_known_without_torch_match_the_classes():
    assert {name: cls.name for name, cls in REGISTRY.items()} == {name: name for name in METHODS}
    assert {name for name, cls in REGISTRY.items() if cls.reference} == REFERENCES


def full_install_outputs(small_run, d: Path) -> dict:
    """What the full install prints and writes for the commands the core-only install is asked for."""
    import contextlib
    import io

    run = str(small_run.path)
    data, signal = str(small_run.input_path("eventset")), str(small_run.input_path("signal"))
    out = {}
    for name, argv in {
        "info": ["info", run],
        "bumphunt": ["bumphunt", data, "--signal", signal, "--json", str(d / "bh.json")],
    }.items():
        with contextlib.redirect_stdout(io.StringIO()) as text:
            assert main(argv) == 0
        out[name] = text.getvalue()
    out["bumphunt.json"] = json.loads((d / "bh.json").read_text())
    return out


def test_the_analysis_runs_with_the_core_alone(small_run, tmp_path):
    (tmp_path / "full").mkdir()
    full_install = full_install_outputs(small_run, tmp_path / "full")
    run = str(small_run.path)
    data, signal = str(small_run.input_path("eventset")), str(small_run.input_path("signal"))
    api = (
        "from anomalyscope.core.data import EventSet, inject\n"
        "from anomalyscope.core.bumphunt import SearchDefinition, bump_hunt\n"
        "from anomalyscope.core.results import Run\n"
        "from anomalyscope.core.methods import best_data_driven\n"
        f"run = Run.open({run!r})\n"
        "best = best_data_driven(run.search_result().best_excesses())\n"
        "print(len(EventSet.open(run.input_path()).column('mjj')), sorted(run.methods), best)\n"
    )
    ok = installed_only(
        [],
        [
            ["--help"],
            ["info", run],
            ["bumphunt", data, "--signal", signal, "--json", str(tmp_path / "bh.json")],
            ["export-model", run, "--method", "inclusive", "--out", str(tmp_path / "model")],
            ["python", api],
        ],
    )
    assert all(r["rc"] == 0 for r in ok), [r["err"][-500:] for r in ok]
    assert ok[0]["out"].startswith("usage: ") and "bumphunt" in ok[0]["out"]
    # the same Run described, the same fit and scan to the last digit, as with every extra installed
    assert ok[1]["out"] == full_install["info"]
    assert ok[2]["out"] == full_install["bumphunt"]
    assert json.loads((tmp_path / "bh.json").read_text()) == full_install["bumphunt.json"]
    written = {p.suffix for p in (tmp_path / "model").rglob("*") if p.is_file()}
    assert {".root", ".txt", ".json"} <= written, written
    n_events = len(EventSet.open(small_run.input_path()).column("mjj"))
    # every method of this Run is a reference: there is no data-driven answer to name
    assert (
        ok[4]["out"].split()[0] == str(n_events)
        and "inclusive" in ok[4]["out"]
        and ok[4]["out"].strip().endswith("None")
    )


def test_a_command_whose_stack_is_missing_names_the_extra(small_run, tmp_path):
    run = str(small_run.path)
    (tmp_path / "run.yaml").write_text(f"eventset: {small_run.input_path()}\nout: {tmp_path / 'r'}\nmethods: [cwola]\n")
    cases = {
        "generate": ["generate", "--process", "qcd", "--events", "10", "--out", str(tmp_path / "g")],
        "ml": ["run", "--config", str(tmp_path / "run.yaml")],
        "dashboard": ["serve"],
        "plots": ["plot", run, "--out", str(tmp_path / "plots")],
    }
    demo = ["demo", "--out", str(tmp_path / "demo")]
    results = installed_only(
        [], [*cases.values(), ["methods"], ["python", "from anomalyscope.core.methods import CWoLa"], demo]
    )
    for (extra, argv), r in zip(cases.items(), results):
        assert r["rc"] == 2 and r["out"] == "", (argv, r)
        line = r["err"].strip()
        assert line.startswith("error: ") and line.endswith(f"pip install 'anomalyscope[{extra}]'"), (argv, line)
        assert "\n" not in line and "Traceback" not in line
    assert results[4]["rc"] == 2 and "anomalyscope[ml]" in results[4]["err"]
    assert results[5]["rc"] == "raised" and results[5]["err"].startswith(
        "MissingExtra: The anomaly-detection methods: needs torch"
    )
    # the demo needs three stacks: it names every missing library before it starts
    assert results[6]["rc"] == 2 and "pythia8mc, fastjet missing" in results[6]["err"], results[6]
    assert "torch, zuko missing" in results[6]["err"] and "hls4ml" in results[6]["err"]
    assert not (tmp_path / "demo").exists()
    assert not (tmp_path / "g").exists() and not (tmp_path / "r").exists() and not (tmp_path / "plots").exists()


def test_plots_need_only_the_plots_extra_and_the_dashboard_only_its_own(small_run, tmp_path):
    view_check = (
        "import panel as pn\n"
        "from bokeh.document import Document\n"
        "from anomalyscope.dashboard.app import session\n"
        "state, page = session()\n"
        "tabs = page.main[0][0]\n"
        "for name, view in zip(tabs._names, tabs.objects):\n"
        "    pn.panel(view).get_root(Document())\n"
        "    print(name, '|', [a.object[:80] for a in pn.panel(view).select(pn.pane.Alert)])\n"
    )
    (plots,) = installed_only(["plots"], [["plot", str(small_run.path), "--out", str(tmp_path / "plots")]])
    assert plots["rc"] == 0, plots["err"][-500:]
    pdfs = list((tmp_path / "plots").glob("*.pdf"))
    assert pdfs and all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)
    (dash,) = installed_only(["dashboard"], [["python", view_check]], env={"ANOMALYSCOPE_RUN": str(small_run.path)})
    assert dash["rc"] == 0, dash["err"][-1000:]
    shown = dict(line.split(" | ") for line in dash["out"].splitlines())
    # the Run's own views draw (the optional attachments it lacks are announced as such, not as failures)
    for tab in ("Overview", "Spectra", "Correlations", "What is anomalous?", "Events", "Performance"):
        assert shown[tab] == "[]", (tab, shown[tab])
