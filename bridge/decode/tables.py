"""Per-table row decoders, built once per table and schema, then reused.

A row decoder is a closure over ``column -> converter`` (only the columns that need
one) that turns a Debezium row image into a dict of Python values. The per-value work
is a dict lookup and, where needed, one converter call; every choice that depends on
the column's type was made when the decoder was built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.decode.columns import ColumnKind, ColumnType, ReplicaIdentity, TableTypes
from bridge.decode.logical import (
    Converter,
    FieldSpec,
    binary_placeholders,
    converter_for,
    spec_for_column,
)
from bridge.decode.settings import POSTGRESQL, DecodeSettings
from bridge.events import UNAVAILABLE

log = logging.getLogger(__name__)

RowDecoder = Callable[[Mapping[str, Any]], dict[str, Any]]


class ColumnValueError(ValueError):
    """A column's value does not fit its type; carries the column's name."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"column {column!r}: {reason}")
        self.column = column


@dataclass(frozen=True, slots=True)
class TableDecoder:
    """How to decode the row images of one table (at one schema version).

    ``identity_columns`` is set when a delete's before-image holds only these
    columns (PostgreSQL ``REPLICA IDENTITY DEFAULT``/``INDEX``): the others are then
    unknown, not null.
    """

    row: RowDecoder
    identity_columns: frozenset[str] | None = None
    columns: frozenset[str] | None = None
    """The columns the decoder knows, when built from catalog hints alone."""


def decoder_from_schema(
    fields: list[Mapping[str, Any]],
    settings: DecodeSettings,
    table_types: TableTypes | None,
) -> TableDecoder:
    """Build from the ``fields`` of the envelope's ``after``/``before`` struct."""
    hints = table_types.columns if table_types else {}
    converters: dict[str, Converter] = {}
    for field_schema in fields:
        name = str(field_schema["field"])
        spec = FieldSpec.from_schema(field_schema)
        converter = _column_converter(name, spec, hints.get(name), settings)
        if converter is not None:
            converters[name] = converter
    return TableDecoder(_row_decoder(converters, settings), _identity(table_types))


def decoder_from_types(
    table_types: TableTypes | None, settings: DecodeSettings
) -> TableDecoder:
    """Build from catalog hints alone (schemas disabled).

    ``columns`` is set so that a row with a column the catalog did not list (added
    after the catalog was read) is noticed instead of passing through undecoded.
    """
    converters: dict[str, Converter] = {}
    columns = table_types.columns if table_types else {}
    for name, column in columns.items():
        spec = _spec(name, column, settings)
        converter = _column_converter(name, spec, column, settings)
        if converter is not None:
            converters[name] = converter
    known = frozenset(columns) if table_types is not None else None
    return TableDecoder(
        _row_decoder(converters, settings), _identity(table_types), known
    )


def _spec(name: str, column: ColumnType, settings: DecodeSettings) -> FieldSpec:
    try:
        return spec_for_column(column, settings)
    except ValueError as exc:
        raise ColumnValueError(name, str(exc)) from exc


def _column_converter(
    name: str, spec: FieldSpec, hint: ColumnType | None, settings: DecodeSettings
) -> Converter | None:
    try:
        converter = converter_for(spec, settings, hint)
    except ValueError as exc:
        raise ColumnValueError(name, str(exc)) from exc
    if converter is None or not _is_binary(spec, hint):
        return converter
    return _guard_binary(converter, binary_placeholders(settings))


def _is_binary(spec: FieldSpec, hint: ColumnType | None) -> bool:
    if hint is not None:
        return hint.kind is ColumnKind.BINARY
    return spec.name is None and spec.type == "bytes"


def _guard_binary(converter: Converter, placeholders: frozenset[str]) -> Converter:
    """Binary columns carry the TOAST placeholder encoded, not as text."""

    def decode(value: Any) -> Any:
        if value in placeholders:
            return UNAVAILABLE
        return converter(value)

    return decode


def _identity(table_types: TableTypes | None) -> frozenset[str] | None:
    if table_types is None:
        return None
    partial = (ReplicaIdentity.DEFAULT, ReplicaIdentity.INDEX)
    if table_types.replica_identity not in partial:
        return None
    return frozenset(table_types.identity_columns)


def _row_decoder(
    converters: dict[str, Converter], settings: DecodeSettings
) -> RowDecoder:
    """The row copy and the placeholder scan run in C (``dict``, ``in``); Python
    code runs only for the columns that have a converter."""
    placeholder = settings.placeholder_text
    placeholder_list = [placeholder]
    # TOAST exists only in PostgreSQL; MySQL rows never carry the placeholder.
    scan = settings.connector == POSTGRESQL
    steps = tuple(converters.items())

    def decode_row(image: Mapping[str, Any]) -> dict[str, Any]:
        row = dict(image)
        if scan:
            values = row.values()
            if placeholder in values or placeholder_list in values:
                _mark_placeholders(row, placeholder, placeholder_list)
        name = ""
        try:
            for name, convert in steps:
                value = row.get(name)
                if value is not None and value is not UNAVAILABLE:
                    row[name] = convert(value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ColumnValueError(name, str(exc) or type(exc).__name__) from exc
        return row

    return decode_row


def _mark_placeholders(
    row: dict[str, Any], placeholder: str, placeholder_list: list[str]
) -> None:
    for name, value in row.items():
        if value in (placeholder, placeholder_list):
            row[name] = UNAVAILABLE
