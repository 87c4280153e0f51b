"""``creditbridge check``: every problem of every mapping file, at once.

Offline, a file is checked on its own (syntax, keys, transforms, expressions, the way
back of a two-way file). With table shapes from the live databases it is also checked
against them: unknown source and target columns, NOT NULL target columns without a
default that nothing writes, values that cannot fit the target column, and value maps
that miss some of the source column's possible values. The parts of a file that
compiled are checked against the tables even when other parts did not, so one run
reports every problem.

Problems make a file unusable. Warnings are risks that cannot be ruled out from the
schemas alone, such as text of unbounded length copied into a bounded column: the
file loads, and a row whose value does not fit goes to the dead-letter table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.map.compiled import Column, Mapping
from bridge.map.document import Document, FieldPath, Problem, closest
from bridge.map.loader import draft_mapping
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

# Transforms whose text is the source text reshaped, with no length bound of their
# own: a long source value stays long through them (and `required` passes it on).
_KEEPS_TEXT_UNBOUNDED = frozenset(
    {"trim", "upper", "nfkc", "fold_decision_number", "mask_id", "required"}
)


@dataclass
class CheckReport:
    """The outcome of checking some files: problems, warnings, whether tables were
    seen. Only problems make the report fail."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    live: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def check_files(paths: Iterable[Path], schemas: SchemaSource | None) -> CheckReport:
    """Check every file in *paths*; with *schemas*, against the tables as well."""
    report = CheckReport(live=schemas is not None)
    for path in paths:
        doc, mapping = draft_mapping(path, schemas)
        if mapping is not None and schemas is not None:
            _SchemaCheck(doc, mapping, schemas).run()
        report.files.append(str(path))
        report.problems.extend(doc.problems)
        report.warnings.extend(doc.warnings)
    report.problems.sort()
    report.warnings.sort()
    log.info(
        "checked %s mapping files: %s problems, %s warnings",
        len(report.files),
        len(report.problems),
        len(report.warnings),
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
        if not name:
            return None  # not a valid table name: the file already has that problem
        shape = schemas.table(name)
        if shape is None:
            self.doc.problem(path, f"table {name} does not exist in the live schema")
        return shape

    def run(self) -> None:
        if self.source is not None:
            self._source_columns(self.source)
        if self.target is not None:
            self._target_columns(self.target)
            self._unwritten_columns(self.target)
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
                    f"no such column{_guess(name, source)}",
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
                    f"no such column{_guess(name, target)}",
                )

        for column in self.mapping.columns:
            known(column.target, ("columns", column.target))
        meta = self.mapping.metadata_columns
        for key in ("origin", "source_position", "source_commit_time", "applied_at"):
            known(getattr(meta, key), ("metadata", key))
        known(self.mapping.delete_policy.column, ("on_delete", "column"))

    def _unwritten_columns(self, target: TableShape) -> None:
        """NOT NULL target columns without a default that nothing writes.

        Every insert leaving such a column out is refused, so the mapping could never
        apply a row: a problem, not a warning.
        """
        written = self._written()
        where: FieldPath = ("columns",)
        if where not in self.doc.positions:
            where = ("target", "table")
        for shape in target.values():
            if shape.needs_value and shape.name not in written:
                self.doc.problem(
                    where,
                    f"target column {shape.name} is NOT NULL and has no default, but "
                    "no column of this mapping writes it, so the target database "
                    "would refuse every row; map it or give the column a default",
                )

    def _written(self) -> set[str]:
        """Target columns a row of this mapping sets, the apply stage's own included."""
        # Declared names count too: a column that failed to compile has its problem.
        declared = self.doc.data.get("columns")
        written = (
            {str(name) for name in declared} if isinstance(declared, dict) else set()
        )
        written.update(column.target for column in self.mapping.columns)
        written.update(self.mapping.metadata_columns.names())
        if self.mapping.delete_policy.column is not None:
            written.add(self.mapping.delete_policy.column)
        return written

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
        if all(step.name in _KEEPS_TEXT_UNBOUNDED for step in column.steps):
            self._length_fits(column, source, target, (*base, "from"))
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

    def _length_fits(
        self, column: Column, source: ColumnShape, target: ColumnShape, path: FieldPath
    ) -> None:
        if not target.length or source.kind != "str" or target.kind != "str":
            return
        reshaped = [step.name for step in column.steps if step.name != "required"]
        after = f" even after {', '.join(reshaped)}" if reshaped else ""
        if source.length:
            if source.length > target.length:
                self.doc.problem(
                    path,
                    f"source column {source.name} is {source.type_text}, longer than "
                    f"{column.target} {target.type_text}{after}; longer values would "
                    "be refused by the target database",
                )
            return
        listed = self.mapping.domains.get(source.name, source.values)
        if listed is not None:
            # Unbounded, but its possible values are known (enum, CHECK ... IN).
            values = [v for v in listed if isinstance(v, str)]
            self._values_fit(values, target, path, f"{source.name} value")
            return
        # Nothing proves the values fit, yet free text copied into a wide enough
        # column (an entity name into VARCHAR(200)) is normal: a warning, not a
        # problem.
        self.doc.warning(
            path,
            f"source column {source.name} is {source.type_text}, with no length "
            f"limit{after}, but {column.target} is {target.type_text}; a value "
            f"longer than {target.length} characters would be refused by the target "
            "database and its row sent to the dead-letter table",
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


def _guess(name: str, columns: Iterable[str]) -> str:
    guess = closest(name, columns)
    return f" (did you mean {guess}?)" if guess else ""
