"""One Debezium record (JSON converter) -> one :class:`bridge.events.ChangeEvent`.

:func:`decode_record` takes the record's key and value as the converter wrote them,
with schemas embedded (``{"schema": ..., "payload": ...}``) or not, and returns the
decoded change, or ``None`` for a tombstone (a delete's follow-up with a null value).

* ``op`` ``r``/``c``/``u``/``d`` become :class:`bridge.events.Operation`; anything
  else (``t`` truncate, ``m`` message) is not a row change and is refused.
* ``before``/``after``/``key`` are decoded column by column (:mod:`.logical`); the
  TOAST placeholder becomes :data:`bridge.events.UNAVAILABLE`; on a PostgreSQL delete
  from a table with ``REPLICA IDENTITY DEFAULT``/``INDEX`` (known from the catalog
  hints), the non-identity columns Debezium filled with nulls become ``UNAVAILABLE``.
* ``committed_at`` is the source's ``ts_us`` (else ``ts_ms``) as an aware UTC time;
  ``transaction_id`` is PostgreSQL's ``txId`` or MySQL's GTID, else the ``id`` of the
  ``transaction`` block (``provide.transaction.metadata=true``), whose
  ``total_order`` becomes ``transaction_order``. Transaction boundary records are
  not row changes: :mod:`.markers` decodes them.
* the position comes from the ``source`` block (:mod:`.position`); give a
  :class:`~bridge.decode.position.PositionSequencer` to number events that share one.

With schemas embedded, the schema text is the cache key of the table decoder: it is
cut from the record text and only the payload is parsed, so a known schema costs a
string hash instead of a parse. A record that does not fit that layout is parsed whole.

Any record that cannot be decoded exactly raises :class:`RecordDecodeError` (a
:class:`bridge.errors.DecodeError`) naming the table, the column and the source
position when they are known; the pipeline writes such a row to the dead-letter table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.decode.columns import ColumnTypes, TableTypes, qualified
from bridge.decode.position import PositionSequencer, mysql_position, postgres_position
from bridge.decode.settings import MYSQL, DecodeSettings
from bridge.decode.tables import (
    ColumnValueError,
    TableDecoder,
    decoder_from_schema,
    decoder_from_types,
)
from bridge.errors import DecodeError
from bridge.events import UNAVAILABLE, ChangeEvent, Operation, SourcePosition

log = logging.getLogger(__name__)

_SCHEMA_PREFIX = '{"schema":'
_PAYLOAD_SEPARATOR = ',"payload":'
_CACHE_LIMIT = 512
_RECENT_LIMIT = 8
_SCANNER = json.JSONDecoder()
# The scanner is set in JSONDecoder.__init__ but missing from typeshed.
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = _SCANNER.scan_once  # type: ignore[attr-defined]
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_OPERATIONS = {op.value: op for op in Operation}
_NEXT = "The record goes to the dead-letter table."

Record = bytes | str | None


class RecordDecodeError(DecodeError):
    """A record that cannot be decoded exactly, with what is known of its place."""

    def __init__(
        self,
        reason: str,
        *,
        table: str | None = None,
        position: SourcePosition | None = None,
        topic: str | None = None,
    ) -> None:
        self.reason = reason
        self.table = table
        self.position = position
        self.topic = topic
        super().__init__(self._message())

    def _message(self) -> str:
        where = self.table or "a record"
        topic = f" (topic {self.topic})" if self.topic else ""
        position = f"at {self.position}" if self.position else "at an unknown position"
        return f"cannot decode {where}{topic} {position}: {self.reason}. {_NEXT}"


@dataclass(slots=True)
class _Parsed:
    payload: Any
    schema_key: str | None
    schema: Mapping[str, Any] | None


class RecordDecoder:
    """Decodes the records of one connector; keeps its table decoders between calls."""

    def __init__(
        self,
        settings: DecodeSettings,
        types: ColumnTypes | None = None,
        *,
        reload: Callable[[str], TableTypes | None] | None = None,
    ):
        """``reload(table)`` re-reads one table's column types from the catalog; it
        is called when rows show a column the hint does not list (DDL after start)."""
        self._settings = settings
        self._reload = reload
        self._types = types or ColumnTypes()
        self._by_schema: dict[str, TableDecoder] = {}
        self._by_table: dict[str, TableDecoder] = {}
        self._recent: list[str] = []
        self._position: Callable[[Mapping[str, Any]], SourcePosition] = (
            mysql_position if settings.connector == MYSQL else postgres_position
        )
        self._mysql = settings.connector == MYSQL
        self._last_commit: tuple[int | None, datetime | None] = (None, None)

    @property
    def settings(self) -> DecodeSettings:
        return self._settings

    def decode(
        self,
        key: Record,
        value: Record,
        *,
        sequencer: PositionSequencer | None = None,
        topic: str | None = None,
    ) -> ChangeEvent | None:
        text = _as_text(value, "value", topic)
        if not text:
            return None
        parsed = self._parse(text, topic)
        if parsed.payload is None:
            return None

        envelope = _mapping(parsed.payload, "value payload", topic)
        source = _mapping(envelope.get("source"), "source block", topic)
        schema, table = self._table_of(source, topic)
        position = self._locate(source, table, topic)
        if sequencer is not None:
            position = sequencer.sequence(position)

        try:
            return self._event(
                envelope=envelope,
                source=source,
                schema=schema,
                table=table,
                position=position,
                parsed=parsed,
                key=key,
                text=text,
            )
        except ColumnValueError as exc:
            raise RecordDecodeError(
                str(exc), table=table, position=position, topic=topic
            ) from exc
        except (KeyError, ValueError, TypeError) as exc:
            raise RecordDecodeError(
                f"malformed envelope ({exc!r})",
                table=table,
                position=position,
                topic=topic,
            ) from exc

    def _event(
        self,
        *,
        envelope: Mapping[str, Any],
        source: Mapping[str, Any],
        schema: str | None,
        table: str,
        position: SourcePosition,
        parsed: _Parsed,
        key: Record,
        text: str,
    ) -> ChangeEvent:
        op = _OPERATIONS.get(envelope.get("op"))  # type: ignore[arg-type]
        if op is None:
            raise ValueError(f"op {envelope.get('op')!r} is not a row change")
        decoder = self._table_decoder(table, parsed)
        image = envelope.get("after") or envelope.get("before")
        if decoder.columns is not None and image and image.keys() != decoder.columns:
            decoder = self._reconcile(table, image, decoder)

        before = _image(envelope.get("before"), decoder)
        after = _image(envelope.get("after"), decoder)
        decoded = after if after is not None else before
        if op is Operation.DELETE and before is not None:
            before = _mark_unsent(before, decoder.identity_columns)
        block = envelope.get("transaction")
        # Positional: keyword arguments cost a frozen dataclass a third more per event.
        return ChangeEvent(
            op,
            str(source.get("name") or position.source),
            schema,
            str(source["table"]),
            self._key(key, decoder, image, decoded),
            before,
            after,
            position,
            self._commit_time(source),
            self._transaction_id(source, block),
            text,
            _total_order(block),
        )

    # --- parsing --------------------------------------------------------------------

    def _parse(self, text: str, topic: str | None) -> _Parsed:
        if text.startswith(_SCHEMA_PREFIX):
            fast = self._parse_known_schema(text)
            if fast is not None:
                return fast
        try:
            document = parse_json(text)
        except ValueError as exc:
            raise RecordDecodeError(f"value is not JSON ({exc})", topic=topic) from exc
        if _is_schema_envelope(document):
            return _Parsed(
                document["payload"], _schema_key(text, document), document["schema"]
            )
        return _Parsed(document, None, None)

    def _parse_known_schema(self, text: str) -> _Parsed | None:
        start = len(_SCHEMA_PREFIX)
        schema_text = self._recent_schema(text, start)
        if schema_text is None:
            cut = text.find(_PAYLOAD_SEPARATOR)
            schema_text = text[start:cut]
            if cut < 0 or schema_text not in self._by_schema:
                return None
            self._recent.insert(0, schema_text)
            del self._recent[_RECENT_LIMIT:]

        # Parsed in place: no copy of the payload text.
        offset = start + len(schema_text) + len(_PAYLOAD_SEPARATOR)
        try:
            payload, end = _SCANNER.raw_decode(text, offset)
        except ValueError:
            return None
        if text[end:].strip() != "}":
            return None
        return _Parsed(payload, schema_text, None)

    def _recent_schema(self, text: str, start: int) -> str | None:
        """A recently seen schema the text starts with, found by prefix comparison
        (a memcmp) instead of slicing and hashing kilobytes of schema per record."""
        for schema_text in self._recent:
            if text.startswith(schema_text, start) and text.startswith(
                _PAYLOAD_SEPARATOR, start + len(schema_text)
            ):
                return schema_text
        return None

    def _table_of(
        self, source: Mapping[str, Any], topic: str | None
    ) -> tuple[str | None, str]:
        schema = source.get("db") if self._mysql else source.get("schema")
        table = source.get("table")
        if not table:
            raise RecordDecodeError("the source block names no table", topic=topic)
        return schema, qualified(schema, str(table))

    def _locate(
        self, source: Mapping[str, Any], table: str, topic: str | None
    ) -> SourcePosition:
        try:
            return self._position(source)
        except ValueError as exc:
            raise RecordDecodeError(
                f"source position unreadable ({exc})", table=table, topic=topic
            ) from exc

    # --- table decoders ---------------------------------------------------------------

    def _table_decoder(self, table: str, parsed: _Parsed) -> TableDecoder:
        if parsed.schema_key is None:
            return self._by_table.get(table) or self._build_from_types(table)
        cached = self._by_schema.get(parsed.schema_key)
        if cached is not None:
            return cached
        return self._build_from_schema(table, parsed)

    def _build_from_types(self, table: str) -> TableDecoder:
        table_types = self._types.table(table)
        if table_types is None:
            log.warning(
                "connector %s: no column types for %s and no schema in its records: "
                "numbers and strings pass through undecoded",
                self._settings.name,
                table,
            )
        decoder = decoder_from_types(table_types, self._settings)
        self._by_table[table] = decoder
        return decoder

    def _build_from_schema(self, table: str, parsed: _Parsed) -> TableDecoder:
        fields = _row_fields(parsed.schema or {})
        decoder = decoder_from_schema(fields, self._settings, self._types.table(table))
        if len(self._by_schema) >= _CACHE_LIMIT:
            self._by_schema.clear()
            self._recent.clear()
        assert parsed.schema_key is not None
        self._by_schema[parsed.schema_key] = decoder
        log.debug("connector %s: decoder built for %s", self._settings.name, table)
        return decoder

    def _reconcile(
        self, table: str, image: Mapping[str, Any], decoder: TableDecoder
    ) -> TableDecoder:
        """Rows and catalog disagree on the columns: re-read the catalog once, else
        say which columns pass through undecoded."""
        known = decoder.columns or frozenset()
        unknown = sorted(image.keys() - known)
        if unknown and self._reload is not None:
            table_types = self._reload(table)
            if table_types is not None:
                self._types = self._types.merged(ColumnTypes({table: table_types}))
                decoder = decoder_from_types(table_types, self._settings)
                known = decoder.columns or frozenset()
                unknown = sorted(image.keys() - known)
        if unknown:
            log.warning(
                "connector %s: %s has columns %s that the catalog did not list: "
                "their values pass through undecoded",
                self._settings.name,
                table,
                ", ".join(unknown),
            )
        # Remember the row's columns so that the next rows compare equal.
        settled = TableDecoder(
            decoder.row, decoder.identity_columns, known | frozenset(image.keys())
        )
        self._by_table[table] = settled
        return settled

    # --- parts of the event -----------------------------------------------------------

    def _key(
        self,
        key: Record,
        decoder: TableDecoder,
        image: Mapping[str, Any] | None,
        decoded: Mapping[str, Any] | None,
    ) -> Mapping[str, Any]:
        text = _as_text(key, "key", None)
        if not text:
            return {}
        try:
            document = parse_json(text)
        except ValueError as exc:
            raise ValueError(f"key is not JSON ({exc})") from exc
        if _is_schema_envelope(document):
            document = document["payload"]
        if document is None:
            return {}
        if not isinstance(document, Mapping):
            raise ValueError(f"key {text[:80]!r} is not a JSON object")

        # The key repeats columns of the row image: reuse their decoded values when
        # the raw values agree, which they do unless the key was built differently.
        if image is not None and decoded is not None:
            reused = _reused_key(document, image, decoded)
            if reused is not None:
                return reused
        return decoder.row(document)

    def _commit_time(self, source: Mapping[str, Any]) -> datetime | None:
        """Every event of a source transaction repeats its commit time: the last
        one is kept instead of building the same datetime again."""
        micros = _commit_micros(source)
        if micros is None:
            return None
        if micros != self._last_commit[0]:
            instant = _EPOCH_UTC + timedelta(microseconds=micros)
            self._last_commit = (micros, instant)
        return self._last_commit[1]

    def _transaction_id(self, source: Mapping[str, Any], block: Any) -> str | None:
        native = source.get("gtid") if self._mysql else source.get("txId")
        if native is not None:
            return str(native)
        if isinstance(block, Mapping) and block.get("id") is not None:
            return str(block["id"])
        return None


def parse_json(text: str) -> Any:
    """``json.loads`` without its Python-level wrappers on the common path: the C
    scanner parses from the first character; anything unusual (leading blanks,
    trailing text, an error) goes through ``json.loads`` for its exact behaviour."""
    try:
        document, end = _SCAN_ONCE(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return document


def _reused_key(
    document: Mapping[str, Any],
    image: Mapping[str, Any],
    decoded: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The key's decoded values taken from the row, or ``None`` when a key column
    is missing from the row or its raw value differs."""
    reused: dict[str, Any] = {}
    for name, value in document.items():
        if name not in decoded or image[name] != value:
            return None
        reused[name] = decoded[name]
    return reused


def _as_text(record: Record, part: str, topic: str | None) -> str | None:
    if record is None or isinstance(record, str):
        return record
    try:
        return record.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordDecodeError(f"{part} is not UTF-8 ({exc})", topic=topic) from exc


def _mapping(value: Any, what: str, topic: str | None) -> Mapping[str, Any]:
    if value.__class__ is not dict and not isinstance(value, Mapping):
        raise RecordDecodeError(f"{what} is not a JSON object", topic=topic)
    return value


def _is_schema_envelope(document: Any) -> bool:
    return (
        document.__class__ is dict
        and len(document) == 2
        and "payload" in document
        and "schema" in document
    )


def _schema_key(text: str, document: Mapping[str, Any]) -> str:
    """The schema's own text when the record has the converter's layout, so that
    later records are recognised by :meth:`RecordDecoder._parse_known_schema`."""
    cut = text.find(_PAYLOAD_SEPARATOR)
    if text.startswith(_SCHEMA_PREFIX) and cut > 0:
        candidate = text[len(_SCHEMA_PREFIX) : cut]
        try:
            if json.loads(candidate) == document["schema"]:
                return candidate
        except ValueError:
            pass
    # A default or doc text held the separator: key by the canonical form instead,
    # which the fast path never matches, so such records are always parsed whole.
    return "\0" + json.dumps(document["schema"], sort_keys=True)


def _row_fields(envelope_schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for field_schema in envelope_schema.get("fields", ()):
        if field_schema.get("field") in ("after", "before") and field_schema.get(
            "fields"
        ):
            return list(field_schema["fields"])
    return []


def _image(image: Any, decoder: TableDecoder) -> dict[str, Any] | None:
    if image is None:
        return None
    if image.__class__ is not dict and not isinstance(image, Mapping):
        raise ValueError(f"row image {image!r} is not a JSON object")
    return decoder.row(image)


def _mark_unsent(
    before: dict[str, Any], identity: frozenset[str] | None
) -> dict[str, Any]:
    """Nulls outside the replica identity were never sent: say so."""
    if not identity:
        return before
    return {
        name: UNAVAILABLE if value is None and name not in identity else value
        for name, value in before.items()
    }


def _total_order(block: Any) -> int | None:
    """The event's place in its transaction; the JSON converter writes a number."""
    if not isinstance(block, Mapping):
        return None
    order = block.get("total_order")
    if isinstance(order, str) and order.isdigit():
        return int(order)
    return order if order.__class__ is int else None


def _commit_micros(source: Mapping[str, Any]) -> int | None:
    micros = source.get("ts_us")
    if micros.__class__ is not int:
        millis = source.get("ts_ms")
        if millis.__class__ is not int:
            return None
        micros = millis * 1000
    return int(micros)


_DecoderSlot = tuple[ColumnTypes | None, RecordDecoder]
_DECODERS: dict[tuple[DecodeSettings, int], _DecoderSlot] = {}


def decode_record(
    key: Record,
    value: Record,
    settings: DecodeSettings,
    types: ColumnTypes | None = None,
    *,
    sequencer: PositionSequencer | None = None,
    topic: str | None = None,
) -> ChangeEvent | None:
    """Decode one record; ``None`` for a tombstone.

    Keeps one :class:`RecordDecoder` per ``(settings, types)`` so table decoders are
    built once; long-running callers may hold a :class:`RecordDecoder` themselves.
    """
    slot = (settings, id(types))
    entry = _DECODERS.get(slot)
    if entry is None or entry[0] is not types:
        entry = (types, RecordDecoder(settings, types))
        _DECODERS[slot] = entry
    return entry[1].decode(key, value, sequencer=sequencer, topic=topic)
