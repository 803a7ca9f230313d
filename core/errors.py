"""One exception type for bad input, so the CLI can print a one-line message instead of a traceback."""


class InputError(ValueError):
    """Bad user input: a config, a file, a path. The message names the problem in one line."""
