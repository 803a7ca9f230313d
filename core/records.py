"""Typed results: a JSON file a Run holds, as a frozen dataclass whose annotations are its schema.

A record's fields are the file's keys (``field(metadata={"key": "global"})`` for a key that is no Python
name). Their annotations say what each holds: ``int``, ``float``, ``str``, ``bool``, ``list[X]``,
``tuple[X, Y]`` (fixed length), ``dict[str, X]`` (keys that are data, such as model or signal names), a nested
record, ``X | None`` for a field that files written before it existed lack (given a default), ``A | B`` for a
value that is one or the other (the first that fits; a method's performance or the reason there is none), or
a bare ``dict`` for a part whose content is not ours to define (a vendor tool's parsed report).

``from_dict`` converts a parsed file and checks every value on the way, naming the first wrong one by its path
in the file (``models.axol1tl.physics.threshold.threshold``); keys it does not know are ignored. ``to_dict``
gives the JSON back. What anomalyscope itself computed goes through ``from_writer`` instead, where a key the
record does not declare is an error too, so a writer and the readers cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from functools import cache
from typing import Any, TypeVar

import numpy as np

from anomalyscope.core.errors import InputError

R = TypeVar("R", bound="Record")


class Record:
    """Base of the typed results (subclasses are ``@dataclass(frozen=True)``)."""

    @classmethod
    def from_dict(cls: type[R], data: Any, where: str) -> R:
        """``data`` (parsed JSON) as this record, every value checked; ``where`` (the file) starts each error."""
        return _convert(cls, data, _Context(where, strict=False), "")

    @classmethod
    def from_writer(cls: type[R], content: Any, what: str) -> R:
        """What anomalyscope computed (``what``: a trigger report ...) as this record, checked strictly: a key
        the record does not declare is refused too. A mismatch is a bug of the writer, not bad input, so it is a
        RuntimeError."""
        try:
            return _convert(cls, content, _Context(f"{what} being written", strict=True), "")
        except InputError as exc:
            raise RuntimeError(f"anomalyscope wrote a {what} that its reader rejects: {exc}") from None

    def to_dict(self) -> dict:
        """The JSON content; optional fields left unset are left out, as files from before them had them."""
        return _plain(self)


def check(tp: Any, data: Any, where: str) -> Any:
    """``data`` (parsed JSON) checked and converted as the annotation ``tp`` says, for a file whose top level is
    data-keyed rather than a record (``dict[str, dict[str, list[float] | None]]``); errors as ``from_dict``'s."""
    return _convert(tp, data, _Context(where, strict=False), "")


@dataclasses.dataclass(frozen=True)
class _Context:
    where: str
    strict: bool

    def fail(self, path: str, problem: str) -> typing.NoReturn:
        field = f"field '{path}'" if path else "the file"
        raise InputError(f"{self.where}: {field} {problem}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(tp: Any, value: Any, ctx: _Context, path: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        choices = [a for a in args if a is not type(None)]
        for inner in choices[:-1]:  # the first alternative the value fits (a result, else its failure record)
            try:
                return _convert(inner, value, ctx, path)
            except InputError:
                continue
        return _convert(choices[-1], value, ctx, path)
    if isinstance(tp, type) and issubclass(tp, Record):
        return _record(tp, value, ctx, path)
    if origin is list:
        if not isinstance(value, list | tuple):
            ctx.fail(path, f"is {_describe(value)}, expected a list")
        return [_convert(args[0], v, ctx, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:  # fixed length: (χ², ndf)
        if not isinstance(value, list | tuple) or len(value) != len(args):
            ctx.fail(path, f"is {_describe(value)}, expected a list of {len(args)}")
        return tuple(_convert(a, v, ctx, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            ctx.fail(path, f"is {_describe(value)}, expected an object")
        if tp is dict:
            return value
        return {str(k): _convert(args[1], v, ctx, _join(path, str(k))) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool | np.bool_):
            ctx.fail(path, f"is {_describe(value)}, expected true or false")
        return bool(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            ctx.fail(path, f"is {_describe(value)}, expected an integer")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            ctx.fail(path, f"is {_describe(value)}, expected a number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            ctx.fail(path, f"is {_describe(value)}, expected a string")
        return value
    raise TypeError(f"records.py cannot check a field of type {tp!r} ({path})")  # a record declared wrongly


def _record(cls: type[R], value: Any, ctx: _Context, path: str) -> R:
    if isinstance(value, cls):  # a writer composing records: typed already
        return value
    if not isinstance(value, dict):
        ctx.fail(path, f"is {_describe(value)}, expected an object")
    hints = _hints(cls)
    kwargs = {}
    declared = set()
    for f in dataclasses.fields(cls):
        key = _key(f)
        declared.add(key)
        if key not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                ctx.fail(_join(path, key), "is missing")
            continue
        kwargs[f.name] = _convert(hints[f.name], value[key], ctx, _join(path, key))
    if ctx.strict:
        unknown = sorted(set(value) - declared)
        if unknown:
            ctx.fail(_join(path, unknown[0]), f"is not a field of {cls.__name__}")
    return cls(**kwargs)


def _key(f: dataclasses.Field) -> str:
    """The JSON key of a field: its name, or ``metadata["key"]`` for a key that is no Python name (``global``)."""
    return f.metadata.get("key", f.name)


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None and f.default is None:
                continue
            out[_key(f)] = _plain(v)
        return out
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


__all__ = ["Record", "check"]
