"""``creditbridge check``: every problem of every mapping file, at once.

Offline, a file is checked on its own (syntax, keys, transforms, expressions, the way
back of a two-way file). With table shapes from the live databases it is also checked
against them: unknown source and target columns, values that cannot fit the target
column, and value maps that miss some of the source column's possible values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.map.compiled import Column, Mapping
from bridge.map.document import Document, FieldPath, Problem
from bridge.map.loader import parse_mapping
from bridge.map.schemas import ColumnShape, SchemaSource, TableShape

log = logging.getLogger(__name__)

# Which Python kinds of a mapped value each column kind accepts.
_ACCEPTS = {
    "str": {"str"},
    "int": {"int", "bool"},
    "decimal": {"decimal", "int"},
    "date": {"date"},
    "datetime": {"datetime"},
    "bool": {"bool"},
}


@dataclass
class CheckReport:
    """The outcome of checking some files: problems, and whether tables were seen."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    live: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def check_files(paths: Iterable[Path], schemas: SchemaSource | None) -> CheckReport:
    """Check every file in *paths*; with *schemas*, against the tables as well."""
    report = CheckReport(live=schemas is not None)
    for path in paths:
        doc, mapping = parse_mapping(path)
        if mapping is not None and schemas is not None:
            _SchemaCheck(doc, mapping, schemas).run()
        report.files.append(str(path))
        report.problems.extend(doc.problems)
    report.problems.sort()
    log.info(
        "checked %s mapping files: %s problems", len(report.files), len(report.problems)
    )
    return report


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _places(value: Any) -> int:
    if not isinstance(value, Decimal):
        return 0
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


_KIND_WORDS = {
    "str": "text",
    "int": "an integer",
    "bool": "a boolean",
    "decimal": "a decimal",
    "date": "a date",
    "datetime": "a date-time",
}


class _SchemaCheck:
    def __init__(self, doc: Document, mapping: Mapping, schemas: SchemaSource) -> None:
        self.doc = doc
        self.mapping = mapping
        self.source = self._table(schemas, mapping.source_table, ("source", "table"))
        self.target = self._table(schemas, mapping.target_table, ("target", "table"))

    def _table(
        self, schemas: SchemaSource, name: str, path: FieldPath
    ) -> TableShape | None:
        shape = schemas.table(name)
        if shape is None:
            self.doc.problem(path, f"table {name} does not exist in the live schema")
        return shape

    def run(self) -> None:
        if self.source is not None:
            self._source_columns(self.source)
        if self.target is not None:
            self._target_columns(self.target)
        if self.source is not None and self.target is not None:
            for column in self.mapping.columns:
                self._column_types(column, self.source, self.target)
        if self.source is not None:
            self._reverse_values(self.source)

    # --- names --------------------------------------------------------------------

    def _source_columns(self, source: TableShape) -> None:
        def known(name: str, path: FieldPath) -> None:
            if name not in source:
                self.doc.problem(
                    path,
                    f"unknown source column {name}; {self.mapping.source_table} has "
                    "no such column",
                )

        for column in self.mapping.columns:
            base: FieldPath = ("columns", column.target)
            where = (*base, "from") if column.kind == "from" else (*base, column.kind)
            for name in sorted(column.reads):
                known(name, where if name == column.source else base)
        for index, rule in enumerate(self.mapping.filters):
            for name in sorted(rule.reads):
                known(name, ("filters", index, "where"))
        for name in self.mapping.domains:
            known(name, ("source", "domains", name))
        for reverse in self.mapping.reverse_columns:
            if not reverse.derived:
                known(reverse.source, ("reverse", reverse.source))

    def _target_columns(self, target: TableShape) -> None:
        def known(name: str | None, path: FieldPath) -> None:
            if name is not None and name not in target:
                self.doc.problem(
                    path,
                    f"unknown target column {name}; {self.mapping.target_table} has "
                    "no such column",
                )

        for column in self.mapping.columns:
            known(column.target, ("columns", column.target))
        meta = self.mapping.metadata_columns
        for key in ("origin", "source_position", "source_commit_time", "applied_at"):
            known(getattr(meta, key), ("metadata", key))
        known(self.mapping.delete_policy.column, ("on_delete", "column"))

    # --- types --------------------------------------------------------------------

    def _column_types(
        self, column: Column, source: TableShape, target: TableShape
    ) -> None:
        shape = target.get(column.target)
        if shape is None:
            return
        base: FieldPath = ("columns", column.target)
        if column.kind == "const":
            self._values_fit([column.const], shape, (*base, "const"), "const")
        elif column.source is not None and column.source in source:
            self._from_column(column, source[column.source], shape, base)
        for index, step in enumerate(column.steps):
            where = (*base, "transforms", index)
            if step.outputs is not None:
                self._values_fit(list(step.outputs), shape, where, "map value")
            if (
                step.scale is not None
                and shape.scale is not None
                and step.scale > shape.scale
            ):
                self.doc.problem(
                    where,
                    f"scale produces {step.scale} decimal places, but "
                    f"{column.target} is {shape.type_text} ({shape.scale} places)",
                )
        last = column.steps[-1] if column.steps else None
        if last is not None and last.produces is not None:
            self._kind_fits(last.produces, shape, (*base, "transforms"), last.name)

    def _reverse_values(self, source: TableShape) -> None:
        """Constants and map values of stated reverse rules fit the source columns."""
        for reverse in self.mapping.reverse_columns:
            shape = source.get(reverse.source)
            if reverse.rule is None or shape is None:
                continue
            base: FieldPath = ("reverse", reverse.source)
            if reverse.rule.kind == "const":
                self._values_fit([reverse.rule.const], shape, (*base, "const"), "const")
            for index, step in enumerate(reverse.rule.steps):
                if step.outputs is not None:
                    where = (*base, "transforms", index)
                    self._values_fit(list(step.outputs), shape, where, "map value")

    def _from_column(
        self, column: Column, source: ColumnShape, target: ColumnShape, base: FieldPath
    ) -> None:
        if not column.steps:
            self._kind_fits(source.kind, target, (*base, "from"), None, source)
            if source.length and target.length and source.length > target.length:
                self.doc.problem(
                    (*base, "from"),
                    f"source column {source.name} is {source.type_text}, longer than "
                    f"{column.target} {target.type_text}; longer values would be "
                    "refused by the target database",
                )
        first = column.steps[0] if column.steps else None
        if first is None or first.name != "map" or first.inputs is None:
            return
        domain = self.mapping.domains.get(source.name, source.values)
        if domain is None:
            return
        covered = {(_kind_of(v), v) for v in first.inputs}
        missing = [v for v in domain if (_kind_of(v), v) not in covered]
        if missing and not first.catch_all:
            listed = ", ".join(repr(v) for v in missing)
            self.doc.problem(
                (*base, "transforms", 0),
                f"the value map does not cover {listed} of {source.name}'s possible "
                "values; map them or give a default",
            )

    def _values_fit(
        self, values: list[Any], shape: ColumnShape, path: FieldPath, what: str
    ) -> None:
        for value in values:
            if value is None:
                continue
            kind = _kind_of(value)
            if shape.kind in _ACCEPTS and kind not in _ACCEPTS[shape.kind]:
                self.doc.problem(
                    path,
                    f"{what} {value!r} is {_KIND_WORDS.get(kind, kind)}, but "
                    f"{shape.name} is {shape.type_text}",
                )
            elif _places(value) > (shape.scale if shape.scale is not None else 99):
                self.doc.problem(
                    path,
                    f"{what} {value} has {_places(value)} decimal places, but "
                    f"{shape.name} is {shape.type_text} ({shape.scale} places)",
                )
            elif isinstance(value, str) and shape.length and len(value) > shape.length:
                self.doc.problem(
                    path,
                    f"{what} {value!r} has {len(value)} characters, but {shape.name} "
                    f"is {shape.type_text}",
                )

    def _kind_fits(
        self,
        kind: str,
        shape: ColumnShape,
        path: FieldPath,
        step: str | None,
        source: ColumnShape | None = None,
    ) -> None:
        if shape.kind not in _ACCEPTS or kind not in _KIND_WORDS:
            return
        if kind in _ACCEPTS[shape.kind]:
            return
        what = (
            f"{step} produces" if step else f"source column {source and source.name} is"
        )
        self.doc.problem(
            path,
            f"{what} {_KIND_WORDS[kind]}, but {shape.name} is {shape.type_text}",
        )
