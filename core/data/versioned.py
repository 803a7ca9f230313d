"""Opening a directory described by a versioned JSON file (an EventSet's schema, a Run's manifest),
with one-line errors that name the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path

from anomalyscope.core.errors import InputError


def read_versioned_json(
    directory: Path, name: str, kind: str, version_key: str, version: int, required: tuple = ()
) -> dict:
    """The parsed ``directory/name`` after checking the directory, the listed files, the JSON and its version."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no {kind} here (not a directory)")
    for fname in (name, *required):
        if not (directory / fname).exists():
            raise InputError(f"{directory / fname}: missing; {directory} is not a complete {kind}")
    path = directory / name
    data = _json_object(path, "not valid JSON")
    if data.get(version_key) != version:
        raise InputError(f"{path}: {version_key} {data.get(version_key)!r}, this anomalyscope reads {version}")
    return data


def read_optional_json(path: Path, kind: str) -> dict | None:
    """The parsed JSON object at ``path`` (a report a Run may or may not hold), None when the file is absent."""
    path = Path(path)
    return _json_object(path, f"not a valid {kind}") if path.exists() else None


def _json_object(path: Path, problem: str) -> dict:
    """The JSON object in ``path``; an InputError "PATH: PROBLEM (why)" when it is not one."""
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: {problem} ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: {problem} (expected a JSON object)")
    return data


def read_yaml_mapping(path: Path) -> dict:
    """A YAML configuration file that must hold a mapping; an InputError naming the file otherwise."""
    import yaml

    path = Path(path)
    try:
        d = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(d, dict):
        raise InputError(f"{path}: expected a mapping of settings")
    return d
