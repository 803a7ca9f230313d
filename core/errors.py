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


class AnalysisError(AnomalyscopeError, RuntimeError):
    """Valid input on which an analysis step gives no result: a fit that does not converge or has too
    few events, a selection that nothing passes. Not the user's mistake; the data say so."""


class NothingSelected(AnalysisError):
    """A selection (a cut, a window, a range) that keeps too few events to show or fit."""


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
