"""The exception types, one per kind of failure, so callers tell them apart by type, never by message text.

Every error anomalyscope raises on purpose is an ``AnomalyscopeError`` whose message names the problem in
one line; the command line prints it as ``error: …`` instead of a traceback, and the dashboard shows it in
place of the view it stops.
"""


class AnomalyscopeError(Exception):
    """An expected failure, explained in one line."""


class InputError(AnomalyscopeError, ValueError):
    """Bad user input: a config, a file, a path, a value out of range. The message names the place,
    the field and the value."""


class FieldError(InputError):
    """One value of a configuration or a file refused. Beside the one-line message it carries ``path`` (the
    file or configuration section), ``field`` (the dotted name: ``search.fit_min``, ``branches.pt``; None
    for the whole) and ``value`` (as given; ``FieldError.MISSING`` when the field is absent), so a view or a
    caller shows or tests them without reading the text (as uproot's ``KeyInFileError`` carries its keys)."""

    MISSING = "<missing>"

    def __init__(self, message: str, path=None, field: str | None = None, value=MISSING):
        self.path, self.field, self.value = path, field, value
        super().__init__(message)

    def __reduce__(self):  # rebuilt from its fields when it comes back from a Dask worker
        return type(self), (str(self), self.path, self.field, self.value)


class AnalysisError(AnomalyscopeError, RuntimeError):
    """Valid input on which an analysis step gives no result: a fit that does not converge or has too
    few events, a selection that nothing passes. Not the user's mistake; the data say so."""


class FitError(AnalysisError):
    """A fit that cannot be done on these data or did not converge; the message says why."""


class NothingSelected(AnalysisError):
    """A selection (a cut, a window, a range) that keeps too few events to show or fit."""


class OutputBusy(AnomalyscopeError, RuntimeError):
    """Another process is writing the same output (a Run, an EventSet): this one stops before doing any work."""

    def __init__(self, path, holder: str):
        self.path, self.holder = path, holder
        super().__init__(f"{path}: {holder} is writing it now; wait for it to finish, or write elsewhere")

    def __reduce__(self):
        return type(self), (self.path, self.holder)


class DiskFull(AnomalyscopeError, RuntimeError):
    """No space left on the device an output is written to (``where``: what was being written)."""

    def __init__(self, path, where: str = ""):
        self.path, self.where = path, where
        super().__init__(f"{where + ': ' if where else ''}no space left on device: {path}")

    def __reduce__(self):  # rebuilt from its fields when it comes back from a Dask worker
        return type(self), (self.path, self.where)


class ChunkFailures(AnomalyscopeError, RuntimeError):
    """Chunks of a job that failed, each named; the finished ones are kept in the job directory for a re-run.
    ``disk_full``: at least one failed for want of disk space."""

    def __init__(self, failures: list[str], job_dir, disk_full: bool = False):
        self.failures, self.job_dir, self.disk_full = failures, job_dir, disk_full
        first = "free some space, then " if disk_full else ""
        super().__init__(
            f"{len(failures)} chunk(s) failed; finished chunks are kept in {job_dir}, {first}re-run the same command "
            "to retry only the failed ones:\n  " + "\n  ".join(failures)
        )

    def __reduce__(self):
        return type(self), (self.failures, self.job_dir, self.disk_full)


def is_disk_full(exc: BaseException) -> bool:
    """Whether exc, or an exception it was raised from or during, is a full disk (pyarrow, for one, reports it
    as an error of the writer's close, raised while handling the OSError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DiskFull) or "No space left on device" in str(exc):
            return True
        if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class InputWarning(UserWarning):
    """Input that is read, but not all of it: events dropped, empty files, nothing passing a selection."""


def short_message(exc: BaseException) -> str:
    """The first line of an exception's message, at most 200 characters (for one-line errors)."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def row_list(rows, limit: int = 5) -> str:
    """'3, 17, 40' or '3, 17, 40, 41, 52, ... (9 in all)': entries named in an error or warning."""
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (f", ... ({len(rows)} in all)" if len(rows) > limit else "")


class MissingExtra(AnomalyscopeError, ImportError):
    """A step needs a library of an optional extra that is not installed (``pip install 'anomalyscope[ml]'``).
    Not bad input and not an analysis result: the installation lacks a part."""
