"""The ``.ts`` format of the UEA/UCR time-series classification archive (sktime, aeon).

A ``.ts`` file holds comment lines, ``@`` header lines (``@problemName``,
``@dimensions``, ``@equalLength``, ``@classLabel true <label> ...``), then ``@data`` and
one case per line: the case's ``D`` dimensions separated by ``:``, each a comma-separated
series, and its class label last. `load_ts` reads multivariate problems of unequal
lengths into a `SequenceSet`, with the class labels in the order the ``@classLabel``
header lists them, and refuses what a `SequenceSet` cannot hold (missing values,
regression targets, time stamps) with an error naming the line. Lines are counted from
1 as an editor shows them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..text import read_utf8
from .sets import SequenceSet, _pad

__all__ = ["load_ts"]


def load_ts(path: str | Path, *, labels_required: bool = True) -> SequenceSet:
    """Read a classification problem in the UEA/UCR ``.ts`` format (sktime, aeon).

    The file holds comment lines (starting with ``#``, or ``%`` as in some archive files),
    header lines and then one case per line::

        @problemName Toy
        @univariate false
        @dimensions 2
        @equalLength false
        @classLabel true up down
        @data
        1,2,3:0.5,0.5,0.25:up
        4,5:1,0:down

    A case is its ``D`` dimensions separated by ``:`` (each a comma-separated series of
    the same length, the case's length) and its class label last. Header keywords are
    case-insensitive. Class order (the label indices) is the ``@classLabel`` list.

    Returns a `SequenceSet` named after ``@problemName`` (else the file's stem) with
    ``values`` ``(N, L_max, D)``. With ``labels_required=False`` a file of cases without
    labels (``@classLabel false`` or no ``@classLabel`` line; every ``:`` field is a
    dimension) gives ``labels`` None; a labelled file is read as usual.

    Raises ValueError naming the line for: a missing value (``?`` or NaN), a value that is
    not a number, dimensions of different lengths in one case, a case with another number
    of dimensions than declared (``@dimensions``, or 1 for ``@univariate true``) or than
    the first case, a label not in ``@classLabel``, lengths that break ``@equalLength true``
    / ``@seriesLength``; and for files that are not classification problems (no
    ``@classLabel true ...``, ``@targetLabel`` regression, ``@timeStamps true``), without
    ``@data`` or without cases.
    """
    path = Path(path)
    text = _read_text(path, "a .ts file")
    header: dict[str, str] = {}
    header_lines: dict[str, int] = {}
    cases: list[tuple[int, str]] = []
    in_data = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "%")):  # '%' too: some archive files use it
            continue
        if in_data:
            cases.append((number, line))
            continue
        if not line.startswith("@"):
            raise ValueError(
                f"{path}, line {number}: {_clip(line)!r} is not a header line and no @data "
                "line came before it; a .ts file has '@' header lines, then @data, then one "
                "case per line"
            )
        key, _, rest = line[1:].partition(" ")
        key = key.lower()
        if key == "data":
            in_data = True
            continue
        header[key] = rest.strip()
        header_lines[key] = number

    if not in_data:
        raise ValueError(f"{path}: no @data line; a .ts file lists its cases after @data")
    classes = _ts_classes(path, header, header_lines, labels_required)
    if not cases:
        raise ValueError(f"{path}: no cases after @data (line {_data_line(text)})")
    dimensions = _ts_dimensions(path, header, header_lines)

    index = {label: i for i, label in enumerate(classes or ())}
    sequences: list[np.ndarray] = []
    labels = np.empty(len(cases), dtype=np.int64)
    for n, (number, line) in enumerate(cases):
        parts = line.split(":")
        label = parts.pop() if classes is not None else None
        where = f"{path}, line {number}"
        if not parts:
            raise ValueError(
                f"{where}: expected dimensions separated by ':' and the class label last, got "
                f"{_clip(line)!r}"
            )
        if dimensions is None:
            dimensions = len(parts)
        if len(parts) != dimensions:
            raise ValueError(
                f"{where}: the case has {len(parts)} dimensions, expected {dimensions} "
                f"(as {'declared by @dimensions/@univariate' if n == 0 else 'in earlier cases'})"
            )
        if label is not None:
            label = label.strip()
            if label not in index:
                raise ValueError(
                    f"{where}: class label {label!r} is not one of the @classLabel labels "
                    f"{classes} (line {header_lines['classlabel']})"
                )
            labels[n] = index[label]
        series = [_ts_series(where, d, part) for d, part in enumerate(parts, start=1)]
        lengths = [len(s) for s in series]
        if len(set(lengths)) != 1:
            raise ValueError(
                f"{where}: the dimensions of one case must have the same length, got lengths "
                f"{lengths} for dimensions 1..{len(lengths)}"
            )
        sequences.append(np.stack(series, axis=1))  # (L_n, D)

    _ts_check_lengths(path, header, header_lines, cases, sequences)
    values, lengths = _pad(sequences, dimensions)
    return SequenceSet(
        name=header.get("problemname") or path.stem,
        values=values,
        lengths=lengths,
        labels=None if classes is None else labels,
        classes=classes or [],
    )


def _ts_classes(
    path: Path, header: dict[str, str], lines: dict[str, int], required: bool
) -> list[str] | None:
    """The ``@classLabel`` list, after checking this is a classification file; None for a
    file without labels when they are not required."""
    if header.get("timestamps", "false").lower() == "true":
        raise ValueError(
            f"{path}, line {lines['timestamps']}: @timeStamps true (values given as "
            "(time, value) pairs) is not supported; give plain comma-separated values"
        )
    if header.get("targetlabel", "").lower().split()[:1] == ["true"]:
        raise ValueError(
            f"{path}, line {lines['targetlabel']}: @targetLabel true marks a regression "
            "problem; classification needs '@classLabel true <label> <label> ...'"
        )
    words = header.get("classlabel", "").split()
    if not required and (not words or words[0].lower() == "false"):
        return None
    if not words or words[0].lower() != "true" or len(words) < 2:
        where = f", line {lines['classlabel']}" if "classlabel" in lines else ""
        raise ValueError(
            f"{path}{where}: not a classification problem: expected a header line "
            "'@classLabel true <label> <label> ...' listing the class labels, got "
            f"{('@classLabel ' + header['classlabel']) if 'classlabel' in header else 'none'}"
        )
    classes = words[1:]
    if len(set(classes)) != len(classes):
        raise ValueError(
            f"{path}, line {lines['classlabel']}: @classLabel lists a label more than once: "
            f"{classes}"
        )
    return classes


def _ts_dimensions(path: Path, header: dict[str, str], lines: dict[str, int]) -> int | None:
    """The declared number of dimensions, or None when the header does not say."""
    if "dimensions" in header:
        value = header["dimensions"]
        if not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"{path}, line {lines['dimensions']}: @dimensions must be a positive integer, "
                f"got {value!r}"
            )
        return int(value)
    if header.get("univariate", "").lower() == "true":
        return 1
    return None


def _ts_series(where: str, dimension: int, part: str) -> np.ndarray:
    """One dimension of one case as ``(L,)`` float64; a ValueError names the bad value."""
    cells = part.split(",")
    try:
        series = np.array(cells, dtype=np.float64)
    except ValueError:
        series = None
    if series is None or not np.isfinite(series).all():
        for position, cell in enumerate(cells, start=1):
            cell = cell.strip()
            try:
                number = float(cell)
            except ValueError:
                number = None
            if cell == "?" or (number is not None and math.isnan(number)):
                raise ValueError(
                    f"{where}: missing value {cell!r} in dimension {dimension} at step "
                    f"{position}; missing values are not supported — fill or drop the case"
                ) from None
            if number is None or not math.isfinite(number):
                what = "empty" if not cell else f"{cell!r}"
                raise ValueError(
                    f"{where}: dimension {dimension}, step {position}: value {what} is not a "
                    "finite number; expected comma-separated numbers"
                ) from None
    return series


def _ts_check_lengths(
    path: Path,
    header: dict[str, str],
    lines: dict[str, int],
    cases: list[tuple[int, str]],
    sequences: list[np.ndarray],
) -> None:
    """The case lengths agree with ``@equalLength`` and ``@seriesLength`` when given."""
    lengths = [len(s) for s in sequences]
    declared = header.get("serieslength")
    if declared is not None and header.get("equallength", "true").lower() == "true":
        if not declared.isdigit():
            raise ValueError(
                f"{path}, line {lines['serieslength']}: @seriesLength must be an integer, "
                f"got {declared!r}"
            )
        wrong = [i for i, length in enumerate(lengths) if length != int(declared)]
        if wrong:
            raise ValueError(
                f"{path}, line {cases[wrong[0]][0]}: the case has length {lengths[wrong[0]]}, "
                f"but @seriesLength (line {lines['serieslength']}) declares {declared}"
            )
    if header.get("equallength", "").lower() == "true" and len(set(lengths)) > 1:
        first = next(i for i, length in enumerate(lengths) if length != lengths[0])
        raise ValueError(
            f"{path}, line {cases[first][0]}: the case has length {lengths[first]}, the first "
            f"case {lengths[0]}, but @equalLength true (line {lines['equallength']}) says all "
            "cases have one length; write @equalLength false"
        )


def _data_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().lower() == "@data":
            return number
    return 0


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[:size] + "..."


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist (or is not a file)")
    return read_utf8(path, f"give {what} in UTF-8")
