"""Load a mapping file: validate every field, then compile it into a :class:`Mapping`.

Validation never stops at the first problem: every field is checked and all problems
are raised together in one :class:`~bridge.map.document.MappingFileError`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, Final

from bridge.events import UNAVAILABLE
from bridge.map import expressions, transforms
from bridge.map.compiled import (
    SKIP,
    Column,
    ConflictPolicy,
    DeletePolicy,
    Filter,
    Mapping,
    MetadataColumns,
    ReverseColumn,
    Row,
)
from bridge.map.document import (
    Document,
    FieldPath,
    MappingFileError,
    closest,
    read_document,
)
from bridge.map.results import MappingRef
from bridge.map.schemas import SchemaSource, TableShape
from bridge.map.timeconv import zone as lookup_zone
from bridge.map.transforms import (
    CompileContext,
    Convert,
    RowRejected,
    Step,
    TransformParamError,
)

log = logging.getLogger(__name__)

LANGUAGE_VERSION: Final = 1
DEFAULT_ZONE: Final = "Asia/Shanghai"
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOP_KEYS: Final = (
    "version", "name", "description", "direction", "zone", "source", "target",
    "filters", "columns", "reverse", "on_delete", "conflict", "metadata",
)  # fmt: skip
_COLUMN_KEYS: Final = ("from", "const", "expr", "default", "transforms", "note")
_DELETE_POLICIES: Final = ("delete", "soft_delete", "ignore")
_CONFLICT_POLICIES: Final = ("newer_wins", "source_wins", "target_wins", "park")
_METADATA_KEYS: Final = (
    "origin", "origin_value", "source_position", "source_commit_time", "applied_at",
)  # fmt: skip


def load_mapping(path: str | Path) -> Mapping:
    """Load and compile one mapping file; ``MappingFileError`` lists every problem."""
    doc, mapping = parse_mapping(Path(path))
    if doc.problems or mapping is None:
        raise MappingFileError(doc.problems)
    log.info(
        "loaded mapping %s (%s) version %s", mapping.ref.name, path, mapping.ref.version
    )
    return mapping


def parse_mapping(path: Path) -> tuple[Document, Mapping | None]:
    """Parse and compile *path*, collecting problems instead of raising (``check``)."""
    doc, draft = draft_mapping(path)
    return doc, (draft if not doc.problems else None)


def draft_mapping(
    path: Path, schemas: SchemaSource | None = None
) -> tuple[Document, Mapping | None]:
    """Parse and compile *path*, keeping whatever compiled even if it has problems.

    ``check`` compares such a draft with the live tables so that one run reports
    every problem; a draft with problems is never applied to rows. With *schemas*, a
    name the live source table does not have gets no advice on its way back: the
    schema check reports it as an unknown source column instead.
    """
    doc = read_document(path)
    if doc.problems:
        return doc, None
    if not isinstance(doc.data, dict):
        doc.problem(
            (), "a mapping file is a YAML mapping of keys such as source, columns"
        )
        return doc, None
    return doc, _Compiler(doc, path, schemas).compile()


def is_plain_name(name: object) -> bool:
    return isinstance(name, str) and _NAME.match(name) is not None


class _Compiler:
    """Walks the document once; every ``_`` method reports problems on ``doc``."""

    def __init__(
        self, doc: Document, path: Path, schemas: SchemaSource | None = None
    ) -> None:
        self.doc = doc
        self.path = path
        self.data: dict[str, Any] = doc.data
        self.zone = DEFAULT_ZONE
        self.schemas = schemas
        # Source columns of ``from`` columns that failed to compile: whether they
        # have a way back is unknown, so nothing else is reported about them.
        self.unsettled: set[str] = set()

    def compile(self) -> Mapping:
        """The compiled mapping; with problems on ``doc``, only a draft (``check``)."""
        self._unknown_keys(self.data, (), _TOP_KEYS)
        self._version()
        two_way = self._direction()
        self.zone = self._zone()
        source_table, domains = self._source()
        target_table, target_key = self._target()
        filters = self._filters()
        columns = self._columns(target_key)
        # Declared names, so a column that failed to compile causes no echo problems.
        names = self._declared("columns")
        if two_way:
            reverse = self._reverse(columns, names, self._live_table(source_table))
        else:
            reverse = ()
        if not two_way and "reverse" in self.data:
            self.doc.problem(("reverse",), "reverse rules need 'direction: two_way'")
        delete_policy = self._delete_policy(names)
        conflict = self._conflict(names)
        if delete_policy.policy == "delete" and conflict.policy == "newer_wins":
            self.doc.warning(
                ("on_delete", "policy"),
                "a deleted row leaves nothing for newer_wins to compare with: a "
                "dead letter of the same key replayed after the delete writes the "
                "row again; soft_delete keeps the row and its conflict column, so "
                "newer_wins can refuse the older write",
            )
        metadata = self._metadata(names)
        self._key_columns(target_key, names)
        return Mapping(
            ref=self._ref(),
            source_table=source_table,
            target_table=target_table,
            target_key=target_key,
            two_way=two_way,
            zone=self.zone,
            columns=columns,
            filters=filters,
            reverse_columns=reverse,
            delete_policy=delete_policy,
            conflict=conflict,
            metadata_columns=metadata,
            domains=domains,
        )

    # --- small helpers ------------------------------------------------------------

    def _unknown_keys(
        self, node: Any, path: FieldPath, allowed: tuple[str, ...]
    ) -> None:
        if not isinstance(node, dict):
            return
        for key in node:
            if key not in allowed:
                self.doc.problem(
                    (*path, str(key)),
                    f"unknown key {key!r}; expected one of {', '.join(allowed)}",
                )

    def _section(self, key: str, required: bool = True) -> dict[str, Any]:
        node = self.data.get(key)
        if node is None:
            if required:
                self.doc.problem((), f"missing required section {key!r}")
            return {}
        if not isinstance(node, dict):
            self.doc.problem((key,), f"{key} must be a mapping of keys to values")
            return {}
        return node

    def _identifier(self, value: Any, path: FieldPath, what: str) -> str | None:
        if not is_plain_name(value):
            self.doc.problem(
                path,
                f"{what} {value!r} is not a plain name (letters, digits, underscore; "
                "not starting with a digit)",
            )
            return None
        return str(value)

    def _table(self, value: Any, path: FieldPath) -> str:
        parts = value.split(".") if isinstance(value, str) else [value]
        if len(parts) != 2 or not all(is_plain_name(p) for p in parts):
            self.doc.problem(
                path, f"table {value!r} must be written schema.table with plain names"
            )
            return ""
        return str(value)

    def _declared(self, section: str) -> set[str]:
        node = self.data.get(section)
        return {str(k) for k in node} if isinstance(node, dict) else set()

    def _live_table(self, name: str) -> TableShape | None:
        return self.schemas.table(name) if self.schemas and name else None

    def _ref(self) -> MappingRef:
        version = hashlib.sha256(self.doc.text).hexdigest()[:16]
        name = self.data.get("name")
        return MappingRef(str(name or self.path.stem), str(self.path), version)

    # --- top-level fields ---------------------------------------------------------

    def _version(self) -> None:
        version = self.data.get("version")
        if version is None:
            self.doc.problem(
                (), "missing required key 'version' (the language version, 1)"
            )
        elif version != LANGUAGE_VERSION:
            self.doc.problem(
                ("version",),
                f"version {version!r} is not supported; this bridge reads 1",
            )
        name = self.data.get("name")
        if name is not None and not is_plain_name(name):
            self.doc.problem(("name",), f"name {name!r} is not a plain name")

    def _direction(self) -> bool:
        direction = self.data.get("direction", "one_way")
        if direction not in ("one_way", "two_way"):
            self.doc.problem(
                ("direction",), f"direction {direction!r} must be one_way or two_way"
            )
        return bool(direction == "two_way")

    def _zone(self) -> str:
        name = self.data.get("zone", DEFAULT_ZONE)
        try:
            lookup_zone(str(name))
        except Exception as exc:
            self.doc.problem(("zone",), str(exc))
            return DEFAULT_ZONE
        return str(name)

    def _source(self) -> tuple[str, dict[str, tuple[Any, ...]]]:
        node = self._section("source")
        self._unknown_keys(node, ("source",), ("table", "domains"))
        if "table" not in node and node:
            self.doc.problem(("source",), "missing required key 'table'")
        table = self._table(node.get("table"), ("source", "table")) if node else ""
        domains: dict[str, tuple[Any, ...]] = {}
        raw = node.get("domains") or {}
        if not isinstance(raw, dict):
            self.doc.problem(
                ("source", "domains"), "domains maps a column to its values"
            )
            return table, domains
        for column, values in raw.items():
            path: FieldPath = ("source", "domains", str(column))
            if self._identifier(column, path, "column") is None:
                continue
            if not isinstance(values, list) or not values:
                self.doc.problem(path, "a domain is a non-empty list of values")
                continue
            domains[str(column)] = tuple(values)
        return table, domains

    def _target(self) -> tuple[str, tuple[str, ...]]:
        node = self._section("target")
        self._unknown_keys(node, ("target",), ("table", "key"))
        for required in ("table", "key"):
            if node and required not in node:
                self.doc.problem(("target",), f"missing required key {required!r}")
        table = self._table(node.get("table"), ("target", "table")) if node else ""
        key: Any = node.get("key")
        if isinstance(key, str):
            key = [key]
        if key is None:
            return table, ()
        if not isinstance(key, list) or not key:
            self.doc.problem(
                ("target", "key"), "key is a column name or a list of them"
            )
            return table, ()
        names = [
            self._identifier(k, ("target", "key", i), "key column")
            for i, k in enumerate(key)
        ]
        return table, tuple(n for n in names if n is not None)

    def _key_columns(self, target_key: tuple[str, ...], names: set[str]) -> None:
        for index, name in enumerate(target_key):
            if name not in names:
                self.doc.problem(
                    ("target", "key", index),
                    f"key column {name} is not one of the mapped columns",
                )

    # --- expressions --------------------------------------------------------------

    def _expression(
        self, text: Any, path: FieldPath
    ) -> tuple[Callable[[Row], Any], frozenset[str]] | None:
        if not isinstance(text, str) or not text.strip():
            self.doc.problem(path, "an expression is non-empty text")
            return None
        try:
            return expressions.compile_expression(text)
        except expressions.ExpressionError as exc:
            self.doc.problem(path, str(exc))
            return None

    def _context(self) -> CompileContext:
        return CompileContext(
            zone=self.zone, compile_expr=expressions.compile_expression
        )

    # --- filters ------------------------------------------------------------------

    def _filters(self) -> tuple[Filter, ...]:
        node = self.data.get("filters")
        if node is None:
            return ()
        if not isinstance(node, list):
            self.doc.problem(("filters",), "filters is a list of {name, where, reason}")
            return ()
        result = []
        for index, item in enumerate(node):
            rule = self._filter(item, ("filters", index))
            if rule is not None:
                result.append(rule)
        return tuple(result)

    def _filter(self, item: Any, path: FieldPath) -> Filter | None:
        if not isinstance(item, dict):
            self.doc.problem(path, "a filter is a mapping with name, where and reason")
            return None
        self._unknown_keys(item, path, ("name", "where", "reason"))
        missing = [k for k in ("name", "where", "reason") if k not in item]
        if missing:
            self.doc.problem(path, f"missing required key {missing[0]!r}")
            return None
        name = self._identifier(item["name"], (*path, "name"), "filter name")
        compiled = self._expression(item["where"], (*path, "where"))
        if name is None or compiled is None:
            return None
        keep, reads = compiled
        return Filter(name, str(item["where"]), str(item["reason"]), reads, keep)

    # --- columns ------------------------------------------------------------------

    def _columns(self, target_key: tuple[str, ...]) -> tuple[Column, ...]:
        node = self._section("columns")
        if not node and "columns" in self.data and isinstance(node, dict):
            self.doc.problem(
                ("columns",), "columns must map at least one target column"
            )
        result = []
        for target, spec in node.items():
            path: FieldPath = ("columns", str(target))
            name = self._identifier(target, path, "target column")
            column = self._column(spec, path, name, required=target in target_key)
            if name is not None and column is not None:
                result.append(column)
            elif isinstance(spec, dict | str):
                source = spec if isinstance(spec, str) else spec.get("from")
                if is_plain_name(source):
                    self.unsettled.add(str(source))
        return tuple(result)

    def _column(
        self, spec: Any, path: FieldPath, target: str | None, *, required: bool
    ) -> Column | None:
        if isinstance(spec, str):
            spec = {"from": spec}
        if not isinstance(spec, dict):
            self.doc.problem(
                path, "a column is {from|const|expr: ..., transforms: [...]}"
            )
            return None
        self._unknown_keys(spec, path, _COLUMN_KEYS)
        kinds = [k for k in ("from", "const", "expr") if k in spec]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            self.doc.problem(
                path, f"give exactly one of from, const, expr (found {found})"
            )
            return None
        kind = kinds[0]
        if "default" in spec and kind != "from":
            self.doc.problem(
                (*path, "default"), "default applies only to a 'from' column"
            )
        steps = self._steps(spec.get("transforms"), (*path, "transforms"))
        source, reads, getter = self._value_source(spec, kind, path)
        if getter is None or steps is None or target is None:
            return None
        for step in steps:
            reads = reads | step.row_names
        required = required or any(s.name == "required" for s in steps)
        label = f"{target} (from {source})" if source else target
        fast, careful = _column_converter(
            label, getter, reads, steps, required=required
        )
        return Column(
            target=target,
            kind=kind,
            source=source,
            reads=reads,
            steps=steps,
            convert=careful,
            fast=fast,
            const=spec.get("const"),
            invertible=kind == "from" and all(s.inverse is not None for s in steps),
        )

    def _value_source(
        self, spec: dict[str, Any], kind: str, path: FieldPath
    ) -> tuple[str | None, frozenset[str], Callable[[Row], Any] | None]:
        if kind == "const":
            value = spec["const"]
            return None, frozenset(), lambda row: value
        if kind == "expr":
            compiled = self._expression(spec["expr"], (*path, "expr"))
            if compiled is None:
                return None, frozenset(), None
            return None, compiled[1], compiled[0]
        source = self._identifier(spec["from"], (*path, "from"), "source column")
        if source is None:
            return None, frozenset(), None
        label = f"{path[-1]} (from {source})"
        return source, frozenset({source}), _reader(source, spec, label)

    def _steps(self, node: Any, path: FieldPath) -> tuple[Step, ...] | None:
        if node is None:
            return ()
        if not isinstance(node, list):
            self.doc.problem(path, "transforms is a list of transform names")
            return None
        steps: list[Step] = []
        ok = True
        for index, item in enumerate(node):
            step = self._step(item, (*path, index))
            ok = ok and step is not None
            if step is not None:
                steps.append(step)
        return tuple(steps) if ok else None

    def _step(self, item: Any, path: FieldPath) -> Step | None:
        if isinstance(item, str):
            name, params = item, None
        elif isinstance(item, dict) and len(item) == 1:
            name, params = next(iter(item.items()))
        else:
            self.doc.problem(path, "a transform is a name or {name: parameters}")
            return None
        if name not in transforms.names():
            guess = closest(str(name), transforms.names())
            said = f"did you mean {guess!r}? " if guess else ""
            self.doc.problem(
                path,
                f"unknown transform {name!r}; {said}known: "
                f"{', '.join(transforms.names())}",
            )
            return None
        try:
            return transforms.build(name, params, self._context())
        except TransformParamError as exc:
            place = path if isinstance(item, str) else (*path, name, *exc.path)
            self.doc.problem(place, exc.message)
            return None

    # --- reverse ------------------------------------------------------------------

    def _reverse(
        self, columns: tuple[Column, ...], targets: set[str], source: TableShape | None
    ) -> tuple[ReverseColumn, ...]:
        explicit = self._explicit_reverse(targets)
        derived = {}
        for column in columns:
            if column.invertible and column.source not in derived:
                assert column.source is not None
                derived[column.source] = _derived_reverse(column)
        # A stated rule that failed to compile has its own problem; no echo here.
        known = explicit.keys() | derived.keys() | self._declared("reverse")
        self._undefined_reverses(columns, known, source)
        merged = {**derived, **explicit}
        return tuple(merged.values())

    def _explicit_reverse(self, targets: set[str]) -> dict[str, ReverseColumn]:
        node = self._section("reverse", required=False)
        result = {}
        for source, spec in node.items():
            path: FieldPath = ("reverse", str(source))
            name = self._identifier(source, path, "source column")
            column = self._column(spec, path, name, required=False)
            if name is None or column is None:
                continue
            for unknown in sorted(column.reads - targets):
                self.doc.problem(
                    path,
                    f"reads {unknown}, which is not a mapped target column; a reverse "
                    "rule computes a source column from the target row",
                )
            result[name] = ReverseColumn(
                name, False, column.reads, column.convert, column
            )
        return result

    def _undefined_reverses(
        self,
        columns: tuple[Column, ...],
        known: set[str],
        source: TableShape | None,
    ) -> None:
        for column in columns:
            missing = sorted(column.reads - known - self.unsettled)
            if source is not None:
                # A name the live table lacks is a misspelling, not a missing way
                # back: the schema check reports it as an unknown source column.
                missing = [name for name in missing if name in source]
            if not missing:
                continue
            lossy = [s.name for s in column.steps if s.inverse is None]
            why = (
                f"its transforms ({', '.join(lossy)}) cannot be undone"
                if lossy and column.kind == "from"
                else "an expression cannot be undone"
            )
            self.doc.problem(
                ("columns", column.target),
                f"two-way mapping without a way back: {why}; state how to compute "
                f"{', '.join(missing)} under reverse:{_misspellings(missing, known)}",
            )

    # --- policies -----------------------------------------------------------------

    def _delete_policy(self, names: set[str]) -> DeletePolicy:
        node = self._section("on_delete", required=False)
        self._unknown_keys(node, ("on_delete",), ("policy", "column"))
        policy = node.get("policy", "ignore")
        if policy not in _DELETE_POLICIES:
            self.doc.problem(
                ("on_delete", "policy"),
                f"policy {policy!r} must be one of {', '.join(_DELETE_POLICIES)}",
            )
            return DeletePolicy("ignore")
        column = node.get("column")
        if policy == "soft_delete" and column is None:
            self.doc.problem(("on_delete",), "soft_delete needs 'column' to set")
        if policy != "soft_delete" and column is not None:
            self.doc.problem(("on_delete", "column"), f"column is unused with {policy}")
        if column is not None:
            column = self._identifier(column, ("on_delete", "column"), "column")
            self._not_mapped(column, names, ("on_delete", "column"))
        return DeletePolicy(str(policy), column)

    def _conflict(self, names: set[str]) -> ConflictPolicy:
        node = self._section("conflict", required=False)
        self._unknown_keys(node, ("conflict",), ("policy", "column"))
        policy = node.get("policy", "newer_wins")
        if policy not in _CONFLICT_POLICIES:
            self.doc.problem(
                ("conflict", "policy"),
                f"policy {policy!r} must be one of {', '.join(_CONFLICT_POLICIES)}",
            )
            return ConflictPolicy("newer_wins")
        column = node.get("column")
        if policy == "newer_wins" and column is None:
            self.doc.problem(
                ("conflict",) if node else (),
                "newer_wins (the default conflict policy) needs 'conflict.column', the "
                "target column that orders decisions",
            )
        if column is not None:
            column = self._identifier(column, ("conflict", "column"), "column")
            if column is not None and column not in names:
                self.doc.problem(
                    ("conflict", "column"), f"{column} is not one of the mapped columns"
                )
        return ConflictPolicy(str(policy), column)

    def _metadata(self, names: set[str]) -> MetadataColumns:
        node = self._section("metadata", required=False)
        self._unknown_keys(node, ("metadata",), _METADATA_KEYS)
        values: dict[str, str | None] = {}
        for key in _METADATA_KEYS:
            value = node.get(key)
            if value is None or key == "origin_value":
                values[key] = None if value is None else str(value)
                continue
            column = self._identifier(value, ("metadata", key), "column")
            self._not_mapped(column, names, ("metadata", key))
            values[key] = column
        return MetadataColumns(**values)

    def _not_mapped(self, column: str | None, names: set[str], path: FieldPath) -> None:
        if column is not None and column in names:
            self.doc.problem(
                path, f"{column} is also a mapped column; the bridge fills it itself"
            )


def _misspellings(names: list[str], known: Collection[str]) -> str:
    """`` (did you mean x?)`` for names close to one that has a way back."""
    guesses = []
    for name in names:
        guess = closest(name, known)
        if guess:
            guesses.append(f"{guess} for {name}" if len(names) > 1 else guess)
    return f" (did you mean {', '.join(guesses)}?)" if guesses else ""


def _reader(source: str, spec: dict[str, Any], label: str) -> Callable[[Row], Any]:
    """Read *source* from a row; ``default`` only when the field is absent (C10)."""
    if "default" not in spec:

        def read(row: Row) -> Any:
            try:
                return row[source]
            except KeyError:
                raise RowRejected(
                    f"{label}: source column {source} is absent from the event"
                ) from None

        return read
    default = spec["default"]

    def read_or_default(row: Row) -> Any:
        return row.get(source, default)

    return read_or_default


def _column_converter(
    label: str,
    getter: Callable[[Row], Any],
    reads: frozenset[str],
    steps: tuple[Step, ...],
    *,
    required: bool,
) -> tuple[Callable[[Row], Any], Callable[[Row], Any]]:
    """Two closures: the fast one for complete rows, the careful one for rows that
    hold UNAVAILABLE somewhere (TOAST), which leaves such columns out or rejects."""
    fast = _chain(label, getter, tuple(step.forward for step in steps))
    watched = tuple(reads)

    def careful(row: Row) -> Any:
        for name in watched:
            if row.get(name) is UNAVAILABLE:
                if required:
                    raise RowRejected(
                        f"{label}: source column {name} is unavailable (Debezium "
                        "did not send its value), and this column cannot be written "
                        "without it"
                    )
                return SKIP
        return fast(row)

    return fast, careful


def _chain(
    label: str, getter: Callable[[Row], Any], forwards: tuple[Convert, ...]
) -> Callable[[Row], Any]:
    """The getter then the transforms; a transform's rejection names the column.

    Unrolled for the common lengths: this runs once per column per row.
    """
    if not forwards:
        return getter
    if len(forwards) == 1:
        (first,) = forwards

        def one(row: Row) -> Any:
            value = getter(row)
            try:
                return first(value, row)
            except RowRejected as exc:
                raise RowRejected(f"{label}: {exc.reason}") from None

        return one

    def chain(row: Row) -> Any:
        value = getter(row)
        try:
            for forward in forwards:
                value = forward(value, row)
        except RowRejected as exc:
            raise RowRejected(f"{label}: {exc.reason}") from None
        return value

    return chain


def _derived_reverse(column: Column) -> ReverseColumn:
    inverses = tuple(s.inverse for s in reversed(column.steps) if s.inverse is not None)
    target = column.target
    assert column.source is not None

    def convert(row: Row) -> Any:
        try:
            value = row[target]
        except KeyError:
            raise RowRejected(f"the target row has no column {target}") from None
        try:
            for inverse in inverses:
                value = inverse(value, row)
        except RowRejected as exc:
            raise RowRejected(f"from {target}: {exc.reason}") from None
        return value

    return ReverseColumn(column.source, True, frozenset({target}), convert)
