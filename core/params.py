"""Declared parameters: a frozen dataclass per configurable thing (a method, a search, a Run), checked as
a whole before any work starts.

A field's annotation is its type, ``param(default, low=…, high=…)`` its range; a field without a default is
required. ``build(cls, raw, where)`` turns what a user wrote (a YAML mapping, a command's options) into an
instance or raises one ``FieldError`` line naming the place, the field and the value (also its ``path``,
``field`` and ``value`` attributes): missing required fields, unknown names (with the closest known name),
wrong types (``folds: five``, ``efficiencies: 0.1``), values out of range, and a class's own checks (its
``__post_init__`` raising ``FieldError`` for one field). Numbers YAML reads as text (``lr: 1e-3`` is a string
to YAML 1.1) are read as numbers; booleans are never numbers. Every configuration — a Run, its search and
methods, an injection scan, the CMS benchmark's options, a NanoAOD branch map — is built here.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from anomalyscope.core.errors import FieldError, InputError

REQUIRED = dataclasses.MISSING  # ``param(REQUIRED, low=…)``: a field the user must give, with a range


def param(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
):
    """A field with a default and an allowed range (``low``/``high`` inclusive unless ``*_open``); for a
    tuple the range applies to each item."""
    return dataclasses.field(
        default=default, metadata={"low": low, "high": high, "low_open": low_open, "high_open": high_open}
    )


class _Mismatch(Exception):
    """A value that is not of the expected type; ``build`` turns it into a one-line FieldError."""


def _describe(tp) -> str:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else ""
        )
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is tuple or tp is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        return f"a list of {len(args)} ({', '.join(_describe(a) for a in args)})" if args else "a list"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a mapping"}.get(
        tp, str(tp)
    )


def _plural(tp) -> str:
    return {int: "integers", float: "numbers", str: "strings"}.get(tp, _describe(tp))


def _coerce(value, tp):
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a)
            except _Mismatch:
                pass
        raise _Mismatch
    if origin is Literal:
        if value in args:
            return value
        raise _Mismatch
    if origin is tuple or tp is tuple:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        if not args:
            return tuple(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) != len(args):
            raise _Mismatch
        return tuple(_coerce(v, a) for v, a in zip(value, args))
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is int:
        if isinstance(value, bool):
            raise _Mismatch
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _Mismatch
    if tp is float:
        if isinstance(value, bool):
            raise _Mismatch
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 as text
            try:
                value = float(value)
            except ValueError:
                raise _Mismatch from None
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
        raise _Mismatch
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if tp is dict:
        if isinstance(value, Mapping):
            return dict(value)
        raise _Mismatch
    return value  # an annotation this checker does not know: left to the class


def _check_range(value, meta: Mapping, name: str, where: str) -> None:
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return
    for v in value if isinstance(value, tuple) else (value,):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        bad_low = low is not None and (v <= low if meta.get("low_open") else v < low)
        bad_high = high is not None and (v >= high if meta.get("high_open") else v > high)
        if bad_low or bad_high:
            raise FieldError(f"{where}: {name} must be {_range_text(meta)}, got {_show(value)}", where, name, value)


def _range_text(meta: Mapping) -> str:
    low, high = meta.get("low"), meta.get("high")
    if high is None:
        return f"{'>' if meta.get('low_open') else '≥'} {low:g}"
    if low is None:
        return f"{'<' if meta.get('high_open') else '≤'} {high:g}"
    return f"in {'(' if meta.get('low_open') else '['}{low:g}, {high:g}{')' if meta.get('high_open') else ']'}"


def _show(value) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_names(given, known, where: str, what: str = "parameter") -> None:
    """Raise one FieldError line for names not in ``known``, suggesting the closest known name."""
    unknown = sorted(set(given) - set(known), key=str)
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(map(str, known)))}"
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    value = given[name] if isinstance(given, Mapping) else FieldError.MISSING
    raise FieldError(f"{where}: unknown {what} '{name}'{more}{hint}", where, str(name), value)


def check_value(value, tp, name: str, where: str, meta: Mapping | None = None):
    """One value against a type annotation and a range: the coerced value or a one-line FieldError."""
    try:
        out = _coerce(value, tp)
    except _Mismatch:
        raise FieldError(f"{where}: {name} must be {_describe(tp)}, got {_show(value)}", where, name, value) from None
    _check_range(out, meta or {}, name, where)
    return out


def build(cls, raw: Mapping | None, where: str, what: str = "parameter"):
    """An instance of the dataclass ``cls`` from a user's mapping, every name and value checked."""
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise FieldError(f"{where}: must be a mapping of {what}: value, got {_show(raw)}", where, None, raw)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown_names(raw, fields, where, what)
    for name, f in fields.items():
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if no_default and name not in raw:
            raise FieldError(f"{where}: field '{name}' is required", where, name)
    hints = get_type_hints(cls)
    values = {k: check_value(v, hints[k], k, where, fields[k].metadata) for k, v in raw.items()}
    try:
        return cls(**values)
    except FieldError as exc:  # a class's own check of one field
        raise FieldError(f"{where}: {exc}", where, exc.field, exc.value) from None
    except (InputError, TypeError, ValueError) as exc:  # a class's own cross-field check
        raise FieldError(f"{where}: {exc}", where) from None


def describe(cls) -> list[tuple[str, str, str]]:
    """(name, type and range, default) of each field, for a listing of what a thing takes."""
    hints = get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        kind = _describe(hints[f.name])
        if f.metadata.get("low") is not None or f.metadata.get("high") is not None:
            kind += ", " + _range_text(f.metadata)
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        rows.append((f.name, kind, json.dumps(default)))
    return rows


def as_dict(obj) -> dict:
    """A parameters instance as plain YAML/JSON values (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(obj).items()}


def prefixed(cls, prefix: str, name: str):
    """A dataclass with the fields of ``cls`` renamed ``prefix + field`` (same types, defaults and
    ranges), so one method can take another component's parameters flat (``flow_epochs``)."""
    hints = get_type_hints(cls)
    specs = [
        (prefix + f.name, hints[f.name], dataclasses.field(default=f.default, metadata=f.metadata))
        for f in dataclasses.fields(cls)
    ]
    return dataclasses.make_dataclass(name, specs, frozen=True)


def unprefixed(obj, cls, prefix: str):
    """The ``cls`` instance held flat in ``obj`` under ``prefix`` (the inverse of ``prefixed``)."""
    return cls(**{f.name: getattr(obj, prefix + f.name) for f in dataclasses.fields(cls)})


__all__ = ["as_dict", "build", "check_value", "describe", "param", "prefixed", "unknown_names", "unprefixed"]
