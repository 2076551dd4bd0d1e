"""Classification metrics and a printable confusion matrix (scikit-learn underneath).

Labels and predictions are class ids ``0 .. C-1`` for ``M`` evaluated sequences, arrays of
shape ``(M,)``. With ``n_{ij}`` the number of sequences of true class ``i`` predicted as ``j``
(the confusion matrix, rows = true class, columns = predicted class):

- ``accuracy = sum_i n_{ii} / M``;
- ``recall_i = n_{ii} / sum_j n_{ij}`` and ``precision_i = n_{ii} / sum_j n_{ji}``;
- ``F1_i = 2 precision_i recall_i / (precision_i + recall_i)``;
- ``macro_f1 = (1/C) sum_i F1_i`` over *all* ``C`` classes, not only those that occur, so a
  class the model never predicts (or one absent from the evaluated split) counts as
  ``F1_i = 0`` instead of silently dropping out of the mean (sklearn's ``zero_division=0``).

Macro-F1 sits beside accuracy because the data sets are not all balanced: a model that
ignores a rare class can keep a high accuracy, never a high macro-F1.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "check_matrix", "class_ids", "classification_metrics", "confusion", "format_confusion",
]

# Row labels longer than this are cut (Fashion-MNIST's "T-shirt/top" still fits whole).
_ROW_NAME_WIDTH = 14
# Column headers are prefixes of the class names: at least 3 characters, at most 6, just
# long enough to tell the classes apart ("Sandal", "Shirt", "Sneaker" -> "San", "Shi", "Sne").
_MIN_ABBREVIATION, _MAX_ABBREVIATION = 3, 6


def _num_classes(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"num_classes must be a positive integer, got {value!r}")
    return int(value)


def class_ids(values, name: str, num_classes: int) -> np.ndarray:
    """``values`` as an int64 ``(M,)`` array of class ids in ``[0, num_classes)``.

    Refuses other shapes, non-integer dtypes (floats are not rounded silently) and ids out
    of range, naming the first offending position.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class ids (M,), got shape {array.shape}")
    if array.size and (array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must hold integer class ids, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    bad = np.flatnonzero((array < 0) | (array >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] = {int(array[i])} is not a class id in [0, {num_classes}) "
            f"({bad.size} id(s) out of range)"
        )
    return array


def _pair(labels, predictions, num_classes) -> tuple[np.ndarray, np.ndarray, int]:
    c = _num_classes(num_classes)
    y = class_ids(labels, "labels", c)
    p = class_ids(predictions, "predictions", c)
    if y.shape != p.shape:
        raise ValueError(
            f"predictions has {p.shape[0]} entries but labels has {y.shape[0]}; "
            "they must be the same sequences in the same order"
        )
    if y.size == 0:
        raise ValueError("labels and predictions are empty: nothing to evaluate")
    return y, p, c


def classification_metrics(labels, predictions, num_classes: int) -> dict[str, float]:
    """``{"accuracy", "macro_f1"}`` of ``(M,)`` predicted class ids (see the module doc).

    Macro-F1 averages over all ``num_classes`` classes; a class with no true and no predicted
    sequence, or one never predicted, contributes 0.
    """
    from sklearn.metrics import accuracy_score, f1_score

    y, p, c = _pair(labels, predictions, num_classes)
    return {
        "accuracy": float(accuracy_score(y, p)),
        "macro_f1": float(
            f1_score(y, p, labels=np.arange(c), average="macro", zero_division=0)
        ),
    }


def confusion(labels, predictions, num_classes: int) -> np.ndarray:
    """``(C, C)`` int64 counts: entry ``[i, j]`` = sequences of true class ``i`` predicted ``j``."""
    from sklearn.metrics import confusion_matrix

    y, p, c = _pair(labels, predictions, num_classes)
    return confusion_matrix(y, p, labels=np.arange(c)).astype(np.int64)


def check_matrix(matrix, classes) -> tuple[np.ndarray, list[str]]:
    """A ``(C, C)`` matrix of non-negative integer counts and its ``C`` class names."""
    m = np.asarray(matrix)
    names = [str(name) for name in classes]
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(
            f"confusion matrix must be square (C, C) with C >= 1, got shape {m.shape}"
        )
    if m.shape[0] != len(names):
        raise ValueError(
            f"confusion matrix is {m.shape[0]}x{m.shape[1]} but {len(names)} class name(s) "
            "were given; give one name per class"
        )
    if (m.dtype == np.bool_ or not np.issubdtype(m.dtype, np.integer)):
        raise ValueError(f"confusion matrix must hold integer counts, got dtype {m.dtype}")
    if np.any(m < 0):
        i, j = (int(k) for k in np.argwhere(m < 0)[0])
        raise ValueError(f"confusion matrix[{i}, {j}] = {int(m[i, j])} is negative")
    return m.astype(np.int64, copy=False), names


def _abbreviations(names: list[str]) -> list[str] | None:
    """The shortest unique prefixes (3 to 6 characters), or None when prefixes collide."""
    for width in range(_MIN_ABBREVIATION, _MAX_ABBREVIATION + 1):
        cut = [name[:width] for name in names]
        if len(set(cut)) == len(cut):
            return cut
    return None


def _row_name(name: str) -> str:
    return name if len(name) <= _ROW_NAME_WIDTH else name[: _ROW_NAME_WIDTH - 1] + "…"


def format_confusion(matrix, classes) -> list[str]:
    """Printable lines of a ``(C, C)`` confusion matrix (rows true, columns predicted).

    The first line is a header of predicted-class abbreviations (unique name prefixes of 3 to
    6 characters; when the names share longer prefixes the columns are numbered ``0 .. C-1``
    and each row name is prefixed by its number). Then one line per true class: its name (cut
    to 14 characters), the counts, and that class's recall ``n_ii / sum_j n_ij`` (``-`` for a
    class with no sequences).
    """
    m, names = check_matrix(matrix, classes)
    headers = _abbreviations(names)
    rows = [_row_name(name) for name in names]
    if headers is None:
        headers = [str(i) for i in range(len(names))]
        rows = [f"{i} {row}" for i, row in enumerate(rows)]
    width = max([len(h) for h in headers] + [len(str(int(m.max())))])
    corner = "true \\ predicted"
    label_width = max(len(row) for row in [*rows, corner])
    lines = [f"{corner:<{label_width}}  " + " ".join(f"{h:>{width}}" for h in headers) + "  recall"]
    for i, row in enumerate(rows):
        total = int(m[i].sum())
        recall = f"{m[i, i] / total:6.3f}" if total else f"{'-':>6}"
        counts = " ".join(f"{int(n):>{width}d}" for n in m[i])
        lines.append(f"{row:<{label_width}}  {counts}  {recall}")
    return lines
