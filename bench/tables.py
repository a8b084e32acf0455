"""Markdown tables, so what `python -m bench` prints can be pasted into the README as it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def render_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """`align` has one letter per column: `l` left, `r` right (numbers)."""
    if len(align) != len(headers) or any(len(row) != len(headers) for row in rows):
        raise ValueError(f"table '{title}': every row and `align` need {len(headers)} columns")
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(cell).rjust(width) if side == "r" else str(cell).ljust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + ":" if side == "r" else "-" * (width + 2)
            for width, side in zip(widths, align, strict=True)
        )
        + "|"
    )
    return "\n".join([f"### {title}", "", line(headers), rule, *(line(row) for row in rows)])


@dataclass(frozen=True)
class BenchReport:
    """What one benchmark prints, and whether the targets it checks were met (`python -m bench` exits 1 if
    any was not)."""

    text: str
    targets_met: bool = True
