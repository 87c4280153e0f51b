"""MySQL batch statements with their values written in: PyMySQL's literals, cheaper.

PyMySQL's ``executemany`` renders every value through ``Connection.escape``, which runs
``str.translate`` over every string (slow on CJK text) and a format call per datetime,
and SQLAlchemy builds a parameter dictionary per row before that. A batch upsert here
renders the common value types directly, character for character what
``Connection.escape`` writes, hands every other value to that ``escape`` itself, and
packs the rows into as few statements as PyMySQL's ``executemany`` bound allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from typing import Any

Escape = Callable[[Any], str]
"""A PyMySQL connection's ``escape``: one value to its SQL literal text."""

Render = Callable[[Any], str]


def literal_renderer(escape: Escape, bind_value: Callable[[Any], Any]) -> Render:
    """``value -> escape(bind_value(value))``, without the call for common types.

    Strings without any of the characters PyMySQL escapes (NUL, LF, CR, SUB, both
    quotes, backslash) are only quoted: PyMySQL leaves them as they are, with or
    without the server's ``NO_BACKSLASH_ESCAPES``. The formats are PyMySQL's own:
    ``str(int)``, ``format(Decimal, "f")``, ISO dates with microseconds only when not
    zero. Aware datetimes and times, other types and subclasses go to *escape*, so the
    connection's current escaping mode decides for them.
    """

    def render(value: Any) -> str:
        kind = value.__class__
        if kind is str:
            if (
                "'" in value
                or "\\" in value
                or '"' in value
                or "\n" in value
                or "\r" in value
                or "\x00" in value
                or "\x1a" in value
            ):
                return escape(value)
            return f"'{value}'"
        if value is None:
            return "NULL"
        if kind is datetime and value.tzinfo is None:
            return f"'{value.isoformat(' ')}'"
        if kind is int:
            return str(value)
        if kind is Decimal and value.is_finite():
            return format(value, "f")
        if kind is date:
            return f"'{value.isoformat()}'"
        if kind is bool:
            return "1" if value else "0"
        if kind is time and value.tzinfo is None:
            return f"'{value.isoformat()}'"
        return escape(bind_value(value))

    return render


@dataclass(frozen=True, slots=True)
class BatchTemplate:
    """An ``INSERT .. VALUES`` statement around a place for rows, compiled once.

    ``columns`` are in the order of the statement's column list; ``processors`` hold
    the SQLAlchemy bind processor of each column (``None`` for most types), applied
    before the literal exactly as an executed statement applies them.
    """

    prefix: str
    suffix: str
    columns: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def row_texts(
        self,
        rows: Iterable[Mapping[str, Any]],
        render: Render,
        bind_value: Callable[[Any], Any],
    ) -> Iterator[str]:
        """``(v1,v2,..)`` per row, each value rendered by *render*."""
        values = _getter(self.columns)
        if not any(self.processors):
            for row in rows:
                yield "(" + ",".join(map(render, values(row))) + ")"
            return

        renderers = [
            render if process is None else _processed(render, bind_value, process)
            for process in self.processors
        ]
        for row in rows:
            texts = [each(v) for each, v in zip(renderers, values(row), strict=True)]
            yield "(" + ",".join(texts) + ")"

    def statements(
        self, row_texts: Iterable[str], limit: int, encoding: str
    ) -> Iterator[str]:
        """Whole statements of at most *limit* bytes, unless one row alone is larger.

        The same bound PyMySQL's ``executemany`` keeps: a statement larger than
        ``max_allowed_packet`` would be refused, and a huge one holds the server's
        parser and memory for no gain.
        """
        fixed = byte_length(self.prefix, encoding) + byte_length(self.suffix, encoding)
        parts: list[str] = []
        size = fixed
        for text in row_texts:
            # One more byte for the comma: the first row does not need it, so the
            # count errs by one byte on the safe side.
            length = byte_length(text, encoding) + 1
            if parts and size + length > limit:
                yield self.prefix + ",".join(parts) + self.suffix
                parts = []
                size = fixed
            parts.append(text)
            size += length
        if parts:
            yield self.prefix + ",".join(parts) + self.suffix


def byte_length(text: str, encoding: str) -> int:
    """Length of *text* as PyMySQL sends it (``surrogateescape``, as it encodes)."""
    if text.isascii():
        return len(text)
    return len(text.encode(encoding, "surrogateescape"))


def _getter(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    if len(columns) == 1:
        name = columns[0]
        return lambda row: (row[name],)
    return itemgetter(*columns)


def _processed(
    render: Render,
    bind_value: Callable[[Any], Any],
    process: Callable[[Any], Any],
) -> Render:
    # The order an executed statement follows: the dialect's bind_value (the writer's
    # bind_row), then the column type's processor (JSON, ENUM, SET, binary).
    return lambda value: render(process(bind_value(value)))
