"""`python -m anomalyscope ...` / `anomalyscope ...`: the command line. Each command group is a module here
(``events``, ``search``, ``lund``, ``trigger``, ``outputs``) holding its commands' parsers beside their handlers.

Bad input ends with a one-line ``error: ...`` on stderr and exit status 2, never a traceback; so does a command
whose optional stack (``[generate]``, ``[ml]``, ...) is not installed, naming the extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anomalyscope.core.cli import events, lund, outputs, search, trigger
from anomalyscope.core.cli.common import NOTHING_WRITTEN
from anomalyscope.core.errors import AnalysisError, ChunkFailures, DiskFull, InputError, MissingExtra, OutputBusy


def parser() -> argparse.ArgumentParser:
    prog = "anomalyscope" if Path(sys.argv[0]).name == "anomalyscope" else "python -m anomalyscope"
    p = argparse.ArgumentParser(
        prog=prog, description="anomalyscope: model-agnostic dijet anomaly searches and their dashboard"
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="log what is done (-vv: and the details)")
    p.add_argument("-q", "--quiet-log", action="store_true", help="log errors only (no warnings)")
    p.add_argument("--log-file", type=Path, default=None, help="also write the full log (with times) to this file")
    sub = p.add_subparsers(dest="command", required=True)
    for group in (events, search, lund, trigger, outputs):
        group.add_commands(sub)
    return p


def _configure_logging(verbose: int = 0, quiet: bool = False, log_file: Path | None = None) -> None:
    """The ``anomalyscope`` loggers to stderr (warnings; -v info, -vv debug; -q errors only) and, with a log
    file, everything to it with times."""
    import logging

    log = logging.getLogger("anomalyscope")
    for h in list(log.handlers):
        log.removeHandler(h)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)])
    console.setFormatter(logging.Formatter("%(levelname).1s %(name)s: %(message)s"))
    log.addHandler(console)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file)
        except OSError as exc:
            raise InputError(f"--log-file {log_file}: cannot write it ({exc.strerror})") from None
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(fh)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        _configure_logging(args.verbose, args.quiet_log, args.log_file)
        return args.func(args)
    except (InputError, MissingExtra) as exc:  # MissingExtra: a command whose optional stack is not installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AnalysisError as exc:  # valid input on which the analysis gives no result (a fit that fails)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ChunkFailures, DiskFull, OutputBusy) as exc:  # work that stopped or did not start; nothing half-written
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: {getattr(args, 'interrupted', NOTHING_WRITTEN)}", file=sys.stderr)
        return 130
    finally:  # a command's log handlers end with it (main is also called in-process: tests, notebooks)
        import logging

        log = logging.getLogger("anomalyscope")
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
        log.propagate = True
