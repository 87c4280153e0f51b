"""Reading a mapping file with positions, and the problems found in it.

``ruamel.yaml`` keeps the line and column of every key and item. The loader records
them by field path (``columns.UNISCID.transforms[0]``) so every problem, however deep,
is reported as ``file:line:column: field.path: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bridge.errors import ConfigError

FieldPath = tuple[str | int, ...]


def render_path(path: FieldPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(file)"


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with a mapping file; line and column are 1-based.

    A ``warning`` is a risk ``check`` cannot rule out (a value that may not fit); it
    is shown but does not stop the file from loading.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        marker = "warning: " if self.warning else ""
        return (
            f"{self.file}:{self.line}:{self.column}: {self.path}: {marker}"
            f"{self.message}"
        )


class MappingFileError(ConfigError):
    """A mapping file has problems; all of them are listed, nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{lines}\n{count} {noun} in mapping files; fix them and run "
            "'creditbridge check' again, nothing was loaded"
        )


@dataclass
class Document:
    """A parsed mapping file: plain data, positions by path, problems so far."""

    file: str
    data: Any
    text: bytes
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def position(self, path: FieldPath) -> tuple[int, int]:
        """The position of *path*, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def problem(self, path: FieldPath, message: str) -> None:
        line, column = self.position(path)
        self.problems.append(
            Problem(self.file, line, column, render_path(path), message)
        )

    def warning(self, path: FieldPath, message: str) -> None:
        line, column = self.position(path)
        self.warnings.append(
            Problem(self.file, line, column, render_path(path), message, warning=True)
        )


def read_document(path: Path) -> Document:
    """Parse *path*; a YAML syntax error becomes a problem with its position."""
    name = str(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        doc = Document(name, None, b"")
        doc.problem((), f"cannot read the file: {exc.strerror}")
        return doc
    doc = Document(name, None, text)
    try:
        raw = YAML(typ="rt").load(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        doc.problem((), f"the file is not UTF-8: {exc.reason} at byte {exc.start}")
        return doc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        doc.problems.append(Problem(name, line, column, "(file)", f"YAML: {reason}"))
        return doc
    doc.data = _plain(raw, (), doc.positions)
    return doc


def _plain(
    node: Any, path: FieldPath, positions: dict[FieldPath, tuple[int, int]]
) -> Any:
    """Turn ruamel nodes into dicts and lists, recording each key's position."""
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key in node:
            line, column = node.lc.key(key)
            child = (*path, _path_key(key))
            positions[child] = (line + 1, column + 1)
            result[key] = _plain(node[key], child, positions)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            line, column = node.lc.item(index)
            positions[(*path, index)] = (line + 1, column + 1)
            items.append(_plain(item, (*path, index), positions))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        # A YAML float literal is read as the decimal it is written as, never a float.
        return Decimal(str(node))
    return node


def _path_key(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate *name* is most likely a misspelling of, if one is close."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.8)
    return close[0] if close else None
