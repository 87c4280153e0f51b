"""A listing for people: one aligned line per item, its long detail folded below it.

Dead letters carry a key that must stay whole (it is what an operator searches for)
and an error that can run to a hundred characters. In a table of 80 columns every
cell gets cut; here the short fields share one line and the detail wraps beneath
them, indented, at any width. All text is printed as written: no rich markup.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.cells import cell_len
from rich.console import Group
from rich.padding import Padding
from rich.text import Text

GAP = "  "


def listing(
    title: str,
    headers: Sequence[str],
    items: Sequence[tuple[Sequence[str], str]],
    *,
    right: Collection[int] = (0,),
) -> Group:
    """*items* as ``(cells, detail)``, under *title* and a line of *headers*.

    Columns are as wide as their widest cell; those numbered in *right* are
    right-aligned. Each detail is indented to the second column.
    """
    columns = zip(headers, *(cells for cells, _ in items), strict=True)
    widths = [max(cell_len(cell) for cell in column) for column in columns]
    indent = widths[0] + len(GAP) if len(widths) > 1 else 0
    lines: list[Text | Padding] = [
        Text(title, style="bold"),
        _line(headers, widths, right, style="bold"),
    ]
    for cells, detail in items:
        lines.append(_line(cells, widths, right))
        if detail:
            lines.append(Padding(Text(detail), (0, 0, 0, indent)))
    return Group(*lines)


def _line(
    cells: Sequence[str], widths: Sequence[int], right: Collection[int], style: str = ""
) -> Text:
    padded = []
    for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        fill = " " * (width - cell_len(cell))
        padded.append(fill + cell if index in right else cell + fill)
    return Text(GAP.join(padded).rstrip(), style=style)
