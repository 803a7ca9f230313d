"""Benchmark: what a user types or a disk does, fed to the command line. For every reader and command, bad inputs
(damaged and foreign files, flipped bytes, bad options and configurations) must each be refused with one
`error:` line (exit 1 or 2, no traceback), and whatever was stored before must be intact (the same bytes).

    python bench/bench_bad_inputs.py

Makes a small QCD EventSet and a Run in a temporary directory (≈ 20 s), then runs every case in this process
through ``anomalyscope.core.cli.main``. Prints a table (cases per reader and command, refused cleanly, stored
data intact) and writes bench/results/bad_inputs.json.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from anomalyscope.core.cli import main
from anomalyscope.core.methods import REGISTRY


def tree_digest(*roots: Path) -> str:
    """One SHA-256 over every file below the roots (names and bytes): equal before and after = nothing lost."""
    h = hashlib.sha256()
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def run_cli(args: list[str]) -> tuple[int, list[str]]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main(args)
        except SystemExit as exc:  # argparse's own usage errors
            rc = exc.code if isinstance(exc.code, int) else 2
        except Exception as exc:  # a traceback: what must not happen
            return -1, [f"{type(exc).__name__}: {exc}"]
    lines = [line for line in err.getvalue().splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    # argparse's own errors read "PROG: error: ..." after the usage lines
    return rc, [line[line.index("error: ") :] if ": error: " in line else line for line in lines]


def flip(path: Path, at_fraction: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at_fraction)] ^= 0x5A
    path.write_bytes(bytes(data))


def cases(tmp: Path, es: Path, run: Path):
    """(group, what, make-the-input, argv) for every bad input; make() prepares files, argv is the command."""
    bad = tmp / "bad"

    def fresh(name: str) -> Path:
        p = bad / name
        if p.exists():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def copy_of(src: Path, name: str) -> Path:
        dst = fresh(name)
        shutil.copytree(src, dst)
        return dst

    out = tmp / "new"
    # ---------------------------------------------------------------- readers
    for fmt, suffix in (("lhco", ".h5"), ("nanoaod", ".root")):
        for what, make in [
            ("missing file", lambda p: None),
            ("empty file", lambda p: p.write_bytes(b"")),
            ("text", lambda p: p.write_text("not data\n")),
            ("random bytes", lambda p: p.write_bytes(bytes(range(256)) * 40)),
            ("a directory", lambda p: p.mkdir()),
            ("HDF5 signature, damaged", lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(3000))),
            ("ROOT magic, damaged", lambda p: p.write_bytes(b"root" + bytes(3000))),
        ]:
            path = bad / f"{fmt}-{what.replace(' ', '_').replace(',', '')}{suffix}"

            def prepare(path=path, make=make):
                fresh(path.name)
                make(path)

            yield (
                f"read {fmt}",
                what,
                prepare,
                ["read", fmt, str(path), "--out", str(out), "--scheduler", "none", "--quiet"],
            )
    q = ["--quiet"]
    yield "read", "unknown format", None, ["read", "csv", str(es), "--out", str(out), *q]
    yield "read", "--chunk-size 0", None, ["read", "lhco", str(es), "--out", str(out), "--chunk-size", "0", *q]
    yield "read", "--scheduler bogus", None, ["read", "lhco", str(es), "--out", str(out), "--scheduler", "bogus", *q]
    yield "read", "--workers 0", None, ["read", "lhco", str(es), "--out", str(out), "--workers", "0", *q]

    # ---------------------------------------------------------------- an EventSet on disk
    def damaged(name, change):
        def prepare():
            d = copy_of(es, name)
            change(d)

        return prepare

    def part(d):
        return sorted(d.glob("part-*.parquet"))[0]

    for what, change in [
        ("flipped byte in a partition", lambda d: flip(part(d))),
        ("truncated partition", lambda d: part(d).write_bytes(part(d).read_bytes()[:500])),
        ("missing partition", lambda d: part(d).unlink()),
        ("missing schema.json", lambda d: (d / "schema.json").unlink()),
        ("schema.json not JSON", lambda d: (d / "schema.json").write_text("{")),
        ("schema from the future", lambda d: _edit_json(d / "schema.json", schema_version=99)),
        ("n_events wrong", lambda d: _edit_json(d / "schema.json", n_events=3)),
        ("checksums malformed", lambda d: _edit_json(d / "schema.json", checksums=["x"])),
    ]:
        name = "es-" + what.replace(" ", "_")
        for cmd in (["info"], ["export", "--format", "root", "--out", str(out / "x.root")]):
            yield f"EventSet ({cmd[0]})", what, damaged(name, change), [cmd[0], str(bad / name), *cmd[1:]]
        yield "bumphunt", what, damaged(name, change), ["bumphunt", str(bad / name)]

    # ---------------------------------------------------------------- a Run on disk
    for what, change in [
        ("flipped byte in scores", lambda d: flip(d / "scores.parquet")),
        ("truncated scores", lambda d: (d / "scores.parquet").write_bytes(b"PAR1")),
        ("thresholds edited", lambda d: (d / "thresholds.json").write_text("{}")),
        ("manifest without methods", lambda d: _edit_json(d / "manifest.json", methods=None)),
        ("methods: []", lambda d: _edit_json(d / "manifest.json", methods=[])),
        ("efficiencies: [2]", lambda d: _edit_json(d / "manifest.json", efficiencies=[2])),
        ("search.json from the future", lambda d: _edit_json(d / "search.json", schema_version=99)),
        ("not a Run", lambda d: (d / "manifest.json").unlink()),
    ]:
        name = "run-" + what.replace(" ", "_").replace(":", "")
        if "search.json" not in what:  # `info` lists a damaged attachment as unreadable; `search` rewrites it
            yield "Run (info)", what, _run_damage(run, bad / name, change), ["info", str(bad / name)]
            yield (
                "Run (search)",
                what,
                _run_damage(run, bad / name, change),
                ["search", str(bad / name), "--toys", "10"],
            )
        yield "Run (export-model)", what, _run_damage(run, bad / name, change), [
            "export-model", str(bad / name), "--method", "inclusive", "--out", str(out / "m")]  # fmt: skip

    # ---------------------------------------------------------------- run configurations
    base = {"eventset": str(es), "out": str(out / "run"), "methods": ["inclusive"]}
    configs = [
        ("unknown method", {"methods": ["cwolla"]}),
        ("methods as a string", {"methods": "inclusive"}),
        ("folds: five", {"folds": "five"}),
        ("seed: x", {"seed": "x"}),
        ("efficiencies at top level", {"efficiencies": [0.1]}),
        ("search efficiencies: 0.1", {"search": {"efficiencies": 0.1}}),
        ("unknown field", {"colour": "red"}),
        ("search toys: 3", {"search": {"toys": 3}}),
        ("YAML that does not parse", None),
        ("no eventset", {"eventset": None}),
    ]
    configs += [(f"{m}: unknown parameter", {"methods": [{m: {"no_such_parameter": 1}}]}) for m in REGISTRY]
    configs += [(f"{m}: folds: 1", {"methods": [{m: {"folds": 1}}]}) for m in REGISTRY]
    for what, change in configs:
        path = bad / f"run-{what.replace(' ', '_').replace(':', '')}.yaml"

        def prepare(path=path, change=change):
            fresh(path.name)
            if change is None:
                path.write_text("methods: [inclusive\n  - a: b\n")
            else:
                path.write_text(yaml.safe_dump({k: v for k, v in {**base, **change}.items() if v is not None}))

        yield "run --config", what, prepare, ["run", "--config", str(path), "--quiet"]

    # ---------------------------------------------------------------- generate and export options
    gen = ["generate", "--process", "qcd", "--events", "5", "--out", str(out / "g"), "--scheduler", "none", "--quiet"]
    for what, extra in [
        ("unknown process", ["--process", "nope"]),
        ("--events 0", ["--events", "0"]),
        ("--param mB=nan", ["--process", "x_yyprime", "--param", "mB=nan"]),
        ("--param width_fraction=2", ["--process", "x_yyprime", "--param", "width_fraction=2"]),
        ("--workers 0", ["--workers", "0"]),
        ("--chunk-size 0", ["--chunk-size", "0"]),
        ("unknown Pythia setting", ["--pythia", "Foo:bar = 3"]),
        ("unreadable Pythia value", ["--pythia", "PhaseSpace:pTHatMin = abc"]),
        ("--jet-r 0", ["--jet-r", "0"]),
        ("--jet-r nan", ["--jet-r", "nan"]),
        ("--mjj-min -1", ["--mjj-min", "-1"]),
        ("unknown tune", ["--tune", "best"]),
        ("--scheduler bogus", ["--scheduler", "bogus"]),
    ]:
        yield "generate", what, None, gen + extra
    yield "export", "onto a directory", lambda: (bad / "a_dir").mkdir(parents=True, exist_ok=True), [
        "export", str(es), "--format", "root", "--out", str(bad / "a_dir")]  # fmt: skip
    yield "export", "under a file", lambda: (bad / "a_file").write_text(""), [
        "export", str(es), "--format", "lhco", "--out", str(bad / "a_file" / "x.h5")]  # fmt: skip
    yield "methods", "unknown method", None, ["methods", "cwla"]


def _edit_json(path: Path, **change) -> None:
    d = json.loads(path.read_text())
    for k, v in change.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    path.write_text(json.dumps(d))


def _run_damage(run: Path, dst: Path, change):
    def prepare():
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(run, dst)
        change(dst)

    return prepare


def main_bench() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
    t0 = time.perf_counter()
    es, run = tmp / "qcd", tmp / "run"
    assert run_cli(["generate", "--process", "qcd", "--events", "300", "--seed", "3", "--out", str(es),
                    "--scheduler", "none", "--quiet"])[0] == 0  # fmt: skip
    (tmp / "run.yaml").write_text(
        yaml.safe_dump(
            {
                "eventset": str(es),
                "out": str(run),
                "methods": ["inclusive", "cut_tau21"],
                "search": {"windows": "sliding", "min_window_events": 5, "toys": 10},
                "folds": 2,
            }  # fmt: skip
        )
    )
    assert run_cli(["run", "--config", str(tmp / "run.yaml"), "--quiet"])[0] == 0
    stored = tree_digest(es, run)
    rows, failures = [], []
    for group, what, prepare, argv in cases(tmp, es, run):
        if prepare is not None:
            prepare()
        rc, lines = run_cli(argv)
        clean = rc in (1, 2) and len(lines) >= 1 and lines[0].startswith("error: ") and len(lines) == 1
        rows.append({"group": group, "case": what, "rc": rc, "clean": clean, "message": lines[0] if lines else ""})
        if not clean:
            failures.append(rows[-1])
        partial = [p for p in tmp.glob(".new*") if p.exists()]
        if partial:  # a job directory kept for a re-run when nothing could be run
            failures.append({"group": group, "case": what, "message": f"left {partial[0].name} behind"})
            for p in partial:
                shutil.rmtree(p, ignore_errors=True)
        if (tmp / "new").exists():
            leftovers = [p for p in (tmp / "new").rglob("*") if p.is_file()]
            if leftovers:
                failures.append({"group": group, "case": what, "message": f"left files behind: {leftovers[:3]}"})
            shutil.rmtree(tmp / "new")
    intact = tree_digest(es, run) == stored
    by_group = Counter(r["group"] for r in rows)
    clean = Counter(r["group"] for r in rows if r["clean"])
    print(f"{'reader / command':24s} {'bad inputs':>10s} {'refused in one line':>20s}")
    for g in by_group:
        print(f"{g:24s} {by_group[g]:10d} {clean[g]:20d}")
    print(f"{'all':24s} {len(rows):10d} {sum(clean.values()):20d}")
    print(f"stored EventSet and Run unchanged: {intact}; {time.perf_counter() - t0:.0f} s")
    for f in failures:
        print(f"  NOT CLEAN: {f['group']} / {f['case']}: {f.get('rc')} {f['message'][:200]}")
    out = Path(__file__).parent / "results" / "bad_inputs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cases": rows, "stored_intact": intact, "failures": failures}, indent=1))
    shutil.rmtree(tmp)
    sys.exit(0 if not failures and intact else 1)


if __name__ == "__main__":
    main_bench()
