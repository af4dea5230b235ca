"""The one definition of a run's `result.json`, checked when the runner writes it (docs/records.md).

Every task writes the same sections, so the results layer and the report read any task's records the same
way: numbers in `metrics` (each with what it rests on), what a reader should see of the outputs in
`previews` (drawn by kind, never by task), caveats in `notes`, sizes in `counts`, and anything else the task
wants on record in `details`, which the report never reads."""

import types
import typing
from typing import Any, Literal, NotRequired, TypedDict, Union

from arae.errors import SuiteError


class MetricRecord(TypedDict):
    value: float | None             # None exactly when missing_reason says why
    missing_reason: str | None
    details: dict[str, Any]         # the metric's own record (protocol, counts); the report does not read it
    rests_on: str                   # what a reader needs to weigh the number, e.g. "1,000 samples; OOV 2.1%"


class SideBySideItem(TypedDict):
    key: int                        # the same input in every row (a test sentence's index, a step)
    source: str
    output: str


class Preview(TypedDict):
    """Something to look at, drawn by its kind: `sentences` (items: lines), `side_by_side` (items: inputs with
    this row's output; the report puts the rows' outputs for the same key side by side), `image_grid` (file: an
    array (rows, columns, 28, 28) of pixels in the run folder), `curves` (x_label, series: panel -> [[x, y]];
    the report draws one line per seed). Previews with the same section share one heading."""
    kind: Literal["sentences", "side_by_side", "image_grid", "curves"]
    section: str
    title: str
    items: NotRequired[list[str] | list[SideBySideItem]]
    file: NotRequired[str]
    x_label: NotRequired[str]
    series: NotRequired[dict[str, list[list[float]]]]


PREVIEW_FIELDS = {"sentences": {"items"}, "side_by_side": {"items"}, "image_grid": {"file"}, "curves": {"x_label", "series"}}


class ResultRecord(TypedDict):
    benchmark: str
    version: int
    row: str
    seed_index: int
    seed: int
    preset: str
    data: dict[str, Any]            # the corpus description (files, sizes, filters, substitute)
    metrics: dict[str, MetricRecord]
    previews: list[Preview]
    notes: list[str]                # caveats the report shows beside the row, e.g. fewer samples than asked
    counts: dict[str, int]          # how much the task produced (samples, transfers, sentences)
    details: dict[str, Any]         # anything else the task keeps on record; not read by the report
    timing: dict[str, Any]          # `*_seconds` per phase, throughput, where training was reused from


class SchemaError(SuiteError):
    """A record that does not have the shape of docs/records.md: a bug in the task that produced it."""


def check_result(record: Any) -> None:
    """Raises SchemaError naming the first field of `record` that does not fit ResultRecord."""
    _check(record, ResultRecord, "result")
    for i, preview in enumerate(record["previews"]):
        if lacking := PREVIEW_FIELDS[preview["kind"]] - set(preview):
            raise SchemaError(f"result.previews[{i}] ({preview['kind']}) lacks {', '.join(sorted(lacking))}")
    for name, metric in record["metrics"].items():
        if (metric["value"] is None) == (metric["missing_reason"] is None):
            raise SchemaError(f"result.metrics[{name!r}] needs either a value or a missing_reason")


def _check(value: Any, kind: Any, where: str) -> None:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return
    if origin in (Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return _check(value, option, where)
            except SchemaError as err:
                errors.append(str(err))
        raise SchemaError(" or ".join(errors))
    if origin is Literal:
        if value not in args:
            raise SchemaError(f"{where} is {value!r}, expected one of {', '.join(map(repr, args))}")
        return
    if typing.is_typeddict(kind):
        if not isinstance(value, dict):
            raise SchemaError(f"{where} is {type(value).__name__}, expected an object")
        hints = typing.get_type_hints(kind)
        if missing := kind.__required_keys__ - set(value):
            raise SchemaError(f"{where} lacks {', '.join(sorted(missing))}")
        if unknown := set(value) - set(hints):
            raise SchemaError(f"{where} has unknown field(s) {', '.join(sorted(unknown))}")
        for key, item in value.items():
            _check(item, hints[key], f"{where}.{key}")
        return
    if origin is list:
        if not isinstance(value, list):
            raise SchemaError(f"{where} is {type(value).__name__}, expected a list")
        for i, item in enumerate(value):
            _check(item, args[0], f"{where}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise SchemaError(f"{where} is {type(value).__name__}, expected an object")
        for key, item in value.items():
            _check(key, args[0], f"{where} key {key!r}")
            _check(item, args[1], f"{where}[{key!r}]")
        return
    if kind is type(None):
        if value is not None:
            raise SchemaError(f"{where} is {value!r}, expected null")
        return
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise SchemaError(f"{where} is {type(value).__name__} {value!r:.60}, expected {kind.__name__}")
