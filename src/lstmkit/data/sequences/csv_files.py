"""A user's CSV files: numeric sequences in long format and labelled texts.

`load_sequence_csv` reads one row per time step, the rows of a sequence consecutive and
sharing its id; `load_text_csv` reads one row per text. Both need a header row and
ignore the columns they are not told about (or, for sequence features, that do not hold
numbers). pandas (imported when a file is read) parses the file with nothing guessed to
be missing: a label ``NA`` stays ``NA``, and an empty cell is an empty string, reported
where it matters. Rows are counted from 1, the header not included (as in
:mod:`lstmkit.data.series`). Class names are the distinct labels sorted, numerically
when all are integers (see :mod:`.sets`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .sets import SequenceSet, TextSet, _classes_of, _pad

__all__ = ["load_sequence_csv", "load_text_csv"]


def _read_csv(path: Path, encoding: str, text_columns: Sequence[str]):
    """The file as a DataFrame, or a ValueError naming what is wrong with it.

    ``text_columns`` are read as text; the others are numbers where every cell is one
    (parsed by pandas' fast reader), else text. Nothing is guessed to be missing: a label
    "NA" stays "NA", and an empty cell is an empty string (reported where it matters).
    """
    import pandas as pd

    if not path.is_file():
        raise FileNotFoundError(f"CSV file {path} does not exist (or is not a file)")
    try:
        return pd.read_csv(
            path, dtype=dict.fromkeys(text_columns, str), keep_default_na=False,
            encoding=encoding,
        )
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not {encoding} text (invalid byte at offset {error.start}); "
            "re-save it as UTF-8, or pass encoding='latin-1' (or the file's encoding)"
        ) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty; expected a header row and rows of data") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} is not a well-formed CSV file: {error}") from None


def _require_column(path: Path, frame, name: str, option: str) -> None:
    columns = [str(c) for c in frame.columns]
    if name not in columns:
        close = [c for c in columns if c.strip().lower() == str(name).strip().lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f'{path}: no column "{name}" ({option}){hint}; the columns are {columns}')


def _column(path: Path, frame, name: str, option: str) -> list[str]:
    """A text column's cells, stripped of surrounding spaces."""
    _require_column(path, frame, name, option)
    return [cell.strip() for cell in frame[name].tolist()]


def _labels_present(path: Path, labels: list[str], column: str) -> None:
    empty = [i for i, label in enumerate(labels) if not label]
    if empty:
        raise ValueError(
            f'{path}: the label column "{column}" is empty at row {empty[0] + 1}'
            f"{f' (and {len(empty) - 1} more rows)' if len(empty) > 1 else ''}; every row "
            "needs a label"
        )


def _parse_numbers(cells) -> tuple[np.ndarray, np.ndarray]:
    """``(values, bad)`` for a column of text cells (a pandas Series): float64 values (NaN
    where not a number) and the mask of cells that are not finite numbers (empty, text,
    NaN, inf). Spaces around a number are allowed."""
    import pandas as pd

    if cells.dtype.kind in "iuf":  # pandas already read every cell as a number
        values = cells.to_numpy(dtype=np.float64)
        return values, ~np.isfinite(values)
    cells = cells.astype(str)  # booleans and the like are text here, not 0/1
    try:
        values = cells.to_numpy(dtype=object).astype(np.float64)  # fast when all are numbers
    except ValueError:
        numbers = pd.to_numeric(cells.str.strip(), errors="coerce")
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    return values, ~np.isfinite(values)


def load_sequence_csv(
    path: str | Path,
    *,
    sequence_column: str = "sequence",
    label_column: str = "label",
    feature_columns: Sequence[str] | None = None,
    encoding: str = "utf-8",
    labels_required: bool = True,
) -> SequenceSet:
    """Labelled sequences from a long-format CSV file, one row per time step::

        sequence,label,x,y
        a,walk,0.1,0.5
        a,walk,0.2,0.4
        b,run,0.9,0.1

    The rows of one sequence are consecutive (in time order) and share its id in
    ``sequence_column``; the label in ``label_column`` is the same on all of them. The
    features are ``feature_columns``, by default every other column that holds mostly
    numbers (a text column, such as a note, is left out; a numeric column with a stray
    bad cell is kept so that the cell is reported). Labels may be names or integers;
    ``classes`` are the distinct labels sorted (numerically when all are integers).

    Returns a `SequenceSet` named after the file's stem, sequences in file order,
    ``values`` ``(N, L_max, F)``. With ``labels_required=False`` a file without the label
    column gives ``labels`` None (sequences to classify); ``encoding`` is the file's text
    encoding.

    Raises ValueError naming the row (counted from 1 after the header) and column for: a
    missing column, an empty sequence id or label, a feature cell that is empty or not a
    finite number, a sequence whose rows carry different labels, a sequence id that
    reappears after another sequence.
    """
    path = Path(path)
    frame = _read_csv(path, encoding, (sequence_column, label_column))
    columns = [str(c) for c in frame.columns]
    ids = _column(path, frame, sequence_column, "sequence_column")
    labelled = labels_required or label_column in columns
    labels = _column(path, frame, label_column, "label_column") if labelled else None
    if not ids:
        raise ValueError(f"{path} has a header but no rows of data")
    if sequence_column == label_column:
        raise ValueError(
            f'{path}: sequence_column and label_column are both "{label_column}"; name two '
            "different columns"
        )

    others = [c for c in columns if c not in (sequence_column, label_column)]
    if feature_columns is None:
        features = [c for c in others if _mostly_numbers(frame[c])]
        if not features:
            raise ValueError(
                f"{path}: no numeric feature column besides {sequence_column!r} and "
                f"{label_column!r}; the columns are {columns} — name them with feature_columns"
            )
    else:
        features = [feature_columns] if isinstance(feature_columns, str) else list(feature_columns)
        if not features:
            raise ValueError(f"{path}: feature_columns is empty; name at least one column")
        for name in features:
            if name in (sequence_column, label_column):
                raise ValueError(
                    f'{path}: column "{name}" is the sequence id or label column and cannot '
                    "also be a feature"
                )
            _require_column(path, frame, name, "feature_columns")
        repeated = sorted({c for c in features if features.count(c) > 1})
        if repeated:
            raise ValueError(f"{path}: feature_columns names {repeated} more than once")

    empty = [i for i, sequence in enumerate(ids) if not sequence]
    if empty:
        raise ValueError(
            f'{path}: the sequence column "{sequence_column}" is empty at row {empty[0] + 1}; '
            "every row needs the id of its sequence"
        )
    if labels is not None:
        _labels_present(path, labels, label_column)

    table = np.empty((len(ids), len(features)), dtype=np.float64)  # (rows, F)
    for j, name in enumerate(features):
        cells = frame[name]
        table[:, j], bad = _parse_numbers(cells)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            cell = str(cells.iloc[row]).strip()
            what = "is empty" if not cell else f"holds {cell!r}"
            raise ValueError(
                f'{path}: column "{name}" {what} at row {row + 1}; feature cells must be '
                "finite numbers (leave text columns out with feature_columns)"
            )

    # A sequence is a run of equal ids; a run's id must not occur in any other run, and
    # the label may not change inside a run.
    id_array = np.array(ids, dtype=object)
    same_id = id_array[1:] == id_array[:-1]  # (rows - 1,)
    starts = np.concatenate([[0], np.flatnonzero(~same_id) + 1]).tolist()
    ends = starts[1:] + [len(ids)]
    if labels is not None:
        label_array = np.array(labels, dtype=object)
        switches = np.flatnonzero(same_id & (label_array[1:] != label_array[:-1]))
    if labels is not None and switches.size:
        row = int(switches[0]) + 1
        start = starts[int(np.searchsorted(starts, row, side="right")) - 1]
        raise ValueError(
            f'{path}: sequence "{ids[row]}" has label {labels[start]!r} at row {start + 1} '
            f"but {labels[row]!r} at row {row + 1}; all rows of a sequence must carry the "
            "same label"
        )
    first_run: dict[str, int] = {}
    for start in starts:
        previous = first_run.setdefault(ids[start], start)
        if previous != start:
            raise ValueError(
                f'{path}: sequence "{ids[start]}" reappears at row {start + 1} after other '
                f"sequences (its rows began at row {previous + 1}); the rows of a sequence "
                "must be consecutive — sort the file by sequence"
            )

    classes, label_index = (
        _classes_of([labels[start] for start in starts]) if labels is not None else ([], None)
    )
    values, lengths = _pad([table[s:e] for s, e in zip(starts, ends)], len(features))
    return SequenceSet(
        name=path.stem, values=values, lengths=lengths, labels=label_index, classes=classes
    )


def _mostly_numbers(cells) -> bool:
    """More of the column's cells hold numbers than text (empty cells count neither way)."""
    if not _parse_numbers(cells)[1].any():
        return True
    filled = cells.str.strip()
    filled = filled[filled != ""]
    numbers = int(np.isfinite(_parse_numbers(filled)[0]).sum())
    return numbers > len(filled) - numbers


def load_text_csv(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    encoding: str = "utf-8",
    labels_required: bool = True,
) -> TextSet:
    """Labelled texts from a CSV file with a header row (other columns are ignored).

    Texts are kept as written (a cell ``NA`` is the text "NA", not a missing value).
    ``classes`` are the distinct labels sorted (numerically when all are integers).
    ``encoding`` is the file's text encoding (``"latin-1"`` reads any byte). With
    ``labels_required=False`` a file without the label column gives ``labels`` None
    (texts to classify).

    Raises ValueError for: bytes that are not valid in ``encoding`` (naming the file and
    offset), a missing column (listing the columns present), an empty label or text
    (naming the row, counted from 1 after the header).
    """
    path = Path(path)
    frame = _read_csv(path, encoding, (text_column, label_column))
    _require_column(path, frame, text_column, "text_column")
    texts = frame[text_column].tolist()  # as written, not stripped
    if not texts:
        raise ValueError(f"{path} has a header but no rows of data")
    labels = None
    if labels_required or label_column in frame.columns:
        labels = _column(path, frame, label_column, "label_column")
        _labels_present(path, labels, label_column)
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise ValueError(
            f'{path}: the text column "{text_column}" is empty at row {empty[0] + 1}; every '
            "row needs a text"
        )
    classes, label_index = _classes_of(labels) if labels is not None else ([], None)
    return TextSet(name=path.stem, texts=texts, labels=label_index, classes=classes)
