"""Typed records: every value checked on read with the field's path named; what is written reads back equal."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import numpy as np
import pytest

from anomalyscope.core.errors import InputError
from anomalyscope.core.records import Record


@dataclass(frozen=True)
class Point(Record):
    x: float
    n: int
    flags: list[bool]
    note: str | None = None


@dataclass(frozen=True)
class Curve(Record):
    name: str
    points: list[Point]
    by_signal: dict[str, Point]
    raw: dict  # content not ours to define: kept as it is
    child: Curve | None = None


GOOD = {
    "name": "c",
    "points": [{"x": 1, "n": 2, "flags": [True]}],
    "by_signal": {"w'": {"x": 0.5, "n": 0, "flags": [], "note": "ok"}},
    "raw": {"LUT": "5678"},
    "child": {"name": "d", "points": [], "by_signal": {}, "raw": {}},
}


def test_a_record_reads_nested_values_and_writes_them_back():
    c = Curve.from_dict(GOOD, "f.json")
    assert c.points[0].x == 1.0 and isinstance(c.points[0].x, float) and c.by_signal["w'"].note == "ok"
    assert c.child.child is None and c.raw == {"LUT": "5678"}
    assert c.to_dict() == GOOD  # unset optional fields stay absent, as in the file
    with pytest.raises(FrozenInstanceError):
        c.name = "other"
    # numpy scalars a writer computed become plain JSON values
    p = Point.from_writer({"x": np.float32(0.25), "n": np.int64(3), "flags": [np.bool_(True)]}, "point")
    assert p.to_dict() == {"x": 0.25, "n": 3, "flags": [True]} and type(p.n) is int


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("name"), "field 'name' is missing"),
        (lambda d: d["points"][0].update(n=2.5), r"field 'points\[0\]\.n' is 2\.5, expected an integer"),
        (lambda d: d["points"][0].update(n=True), r"field 'points\[0\]\.n' is True, expected an integer"),
        (lambda d: d["points"][0].update(flags=[1]), r"field 'points\[0\]\.flags\[0\]' is 1, expected true or false"),
        (lambda d: d["by_signal"]["w'"].update(x="1"), "field 'by_signal.w'.x' is '1', expected a number"),
        (lambda d: d.update(points={}), "field 'points' is {}, expected a list"),
        (lambda d: d["child"].update(raw=[1]), r"field 'child\.raw' is \[1\], expected an object"),
    ],
)
def test_a_wrong_value_is_named_by_its_path(change, message):
    import copy

    bad = copy.deepcopy(GOOD)
    change(bad)
    with pytest.raises(InputError, match=f"^f.json: {message}$"):
        Curve.from_dict(bad, "f.json")


def test_unknown_keys_are_ignored_on_read_and_refused_on_write():
    extra = {**GOOD, "added_later": 1}
    assert Curve.from_dict(extra, "f.json").to_dict() == GOOD
    with pytest.raises(
        RuntimeError,
        match="^anomalyscope wrote a w that its reader rejects: w being written: field 'added_later' is not a field of Curve$",
    ):
        Curve.from_writer(extra, "w")
    with pytest.raises(InputError, match=r"^f.json: the file is \[1, 2\], expected an object$"):
        Curve.from_dict([1, 2], "f.json")


@dataclass(frozen=True)
class Failed(Record):
    error: str


@dataclass(frozen=True)
class Outcome(Record):
    by_method: dict[str, Point | Failed]
    label: int | str


def test_a_union_takes_the_first_alternative_the_value_fits():
    o = Outcome.from_dict(
        {"by_method": {"a": {"x": 1, "n": 1, "flags": []}, "b": {"error": "no signal"}}, "label": "q"}, "f"
    )
    assert isinstance(o.by_method["a"], Point) and o.by_method["b"] == Failed("no signal") and o.label == "q"
    assert Outcome.from_dict({"by_method": {}, "label": 3}, "f").label == 3
    with pytest.raises(InputError, match="^f: field 'by_method.c.error' is missing$"):  # fits neither: the last named
        Outcome.from_dict({"by_method": {"c": {"x": 1}}, "label": 3}, "f")
