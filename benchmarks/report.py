"""The result table (plain text and markdown) and atomic file writing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

SPEEDUP_COLUMN = "native/plain_peephole speedup"
NA = "n/a"

Row = tuple[str, int, int, int]  # (mode, B, T, H)


def table_cells(medians: dict[Row, dict[str, float | None]], impls: list[str]) -> list[list[str]]:
    """Header then one row per (mode, B, T, H): torch in ms, then ratios to torch.

    The last column is time(plain_peephole) / time(peephole), present when both are in
    ``impls``.
    """
    others = [impl for impl in impls if impl != "torch"]
    with_speedup = "plain_peephole" in impls and "peephole" in impls
    header = ["mode", "B", "T", "H", "torch ms", *others]
    if with_speedup:
        header.append(SPEEDUP_COLUMN)
    rows = [header]
    for row in sorted(medians, key=lambda r: (r[0] != "infer", r[1:])):
        times = medians[row]
        torch_time = times.get("torch")
        cells = [row[0], str(row[1]), str(row[2]), str(row[3])]
        cells.append(NA if torch_time is None else f"{torch_time * 1e3:.2f}")
        for impl in others:
            own = times.get(impl)
            cells.append(NA if own is None or torch_time is None else f"{own / torch_time:.2f}")
        if with_speedup:
            plain, peephole = times.get("plain_peephole"), times.get("peephole")
            cells.append(NA if plain is None or peephole is None else f"{plain / peephole:.2f}")
        rows.append(cells)
    return rows


def format_text(cells: list[list[str]]) -> str:
    """Right-aligned columns; the first (mode) left-aligned."""
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    lines = []
    for index, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_markdown(cells: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table, numbers right-aligned."""
    header, *body = cells
    align = [":---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(row) + " |" for row in (header, align, *body)]
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would make the results private
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: dict) -> None:
    """``document`` as indented JSON, atomically."""
    write_atomic(path, json.dumps(document, indent=2, allow_nan=False) + "\n")
