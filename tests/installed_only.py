"""Run anomalyscope commands as if only some extras were installed (what a ``pip install anomalyscope[...]``
without the others gives): importing a library of any other extra fails as a missing package does.

    python tests/installed_only.py EXTRAS COMMANDS_JSON

EXTRAS: the installed extras, comma-separated ('' for the core alone). COMMANDS_JSON: a list of commands, each
a list of command-line arguments or ``["python", CODE]``. Prints one JSON object per command: rc, out, err.
"""

import contextlib
import io
import json
import sys

from anomalyscope.core.extras import EXTRAS

installed = {e for e in sys.argv[1].split(",") if e}
BLOCKED = {m for extra, modules in EXTRAS.items() if extra not in installed for m in modules}
assert not BLOCKED & set(sys.modules), "a blocked library was imported before the block"


class NotInstalled:
    """A meta-path finder that answers for the blocked libraries as if they were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)


sys.meta_path.insert(0, NotInstalled())

from anomalyscope.core.cli import main  # noqa: E402

for command in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if command[0] == "python":
                exec(command[1], {})
                rc = 0
            else:
                rc = main(command)
        except SystemExit as exc:  # argparse: --help, a usage error
            rc = exc.code
        except BaseException as exc:  # noqa: BLE001 — reported to the test, which says what was expected
            rc, err = "raised", io.StringIO(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"rc": rc, "out": out.getvalue(), "err": err.getvalue()}))
