"""Plain-text tables for the reports' ``str()``."""

from __future__ import annotations


def pair_text(value: tuple[int, int] | None) -> str:
    """``"3"`` for a square ``(3, 3)``, ``"1x7"`` otherwise, ``""`` for None."""
    if value is None:
        return ""
    return str(value[0]) if value[0] == value[1] else f"{value[0]}x{value[1]}"


def text_table(rows: list[tuple[str, ...]], right: set[int]) -> str:
    """Aligned columns, a rule under the header row; columns in ``right`` are right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(cells)
        ).rstrip()

    rule = "-" * len(line(rows[0]))
    return "\n".join([line(rows[0]), rule, *map(line, rows[1:])])
