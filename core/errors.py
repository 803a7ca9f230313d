"""One exception type for bad input, so the CLI can print a one-line message instead of a traceback."""


class InputError(ValueError):
    """Bad user input: a config, a file, a path. The message names the problem in one line."""


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
