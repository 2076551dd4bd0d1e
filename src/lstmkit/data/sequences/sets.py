"""The two containers of classification data, and the helpers every loader shares.

A classifier reads a whole sequence and names its class. The loaders of this package
turn files into one of two containers, which the classification task consumes:

* `SequenceSet`: ``N`` numeric sequences of ``F`` features and varying length, padded
  to the longest: ``values`` ``(N, L_max, F)`` float32 with zeros past each end,
  ``lengths`` ``(N,)`` int64 in ``[1, L_max]``, ``labels`` ``(N,)`` int64 in ``[0, C)``
  indexing ``classes`` (the ``C`` class names). Sequence ``n`` is
  ``values[n, :lengths[n]]``; a packed LSTM never looks at the padding, and the zeros
  keep padded reductions (means, norms) honest.
* `TextSet`: ``N`` texts with ``labels`` ``(N,)`` into ``classes``; tokenising is the
  task's business.

``labels`` is None in a set of items to classify (a user file without labels, read with
``labels_required=False``); the built-ins are always labelled. Both containers check
every field when built, so a set that exists is a valid one.

The underscored helpers are shared by the loaders in the sibling modules (and private to
this package): `_pad` zero-pads ragged sequences, `_classes_of` derives class names from
string labels, `_describe_array` words an unexpected value for an error message.

Class names are strings. Where a loader derives them from the labels (user files), they
are the distinct labels sorted: numerically when every label is an integer (``"2"``
before ``"10"``), as strings otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SequenceSet", "TextSet"]

_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(eq=False)
class SequenceSet:
    """Labelled numeric sequences, padded to a common length.

    Attributes:
        name: where the set came from (a built-in's name, a ``.ts`` problem name, a
            file's stem).
        values: ``(N, L_max, F)`` float32; ``values[n, lengths[n]:]`` is all zeros.
        lengths: ``(N,)`` int64, each in ``[1, L_max]``.
        labels: ``(N,)`` int64, each in ``[0, C)``; or None for sequences to classify
            whose classes are unknown (a user file read with ``labels_required=False``).
        classes: the ``C`` class names; ``labels`` index into it (may be empty when
            ``labels`` is None).

    Construction checks every shape, dtype and range above (a ValueError names the
    field), so a set that exists is a valid one.
    """

    name: str
    values: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray | None
    classes: list[str]

    def __post_init__(self) -> None:
        where = f"SequenceSet {self.name!r}"
        values, lengths, labels = self.values, self.lengths, self.labels
        if not isinstance(values, np.ndarray) or values.ndim != 3 or values.dtype != np.float32:
            raise ValueError(
                f"{where}: values must be a float32 array (N, L_max, F), got "
                f"{_describe_array(values)}"
            )
        n, longest = values.shape[0], values.shape[1]
        if (
            not isinstance(lengths, np.ndarray) or lengths.shape != (n,)
            or lengths.dtype != np.int64
        ):
            raise ValueError(
                f"{where}: lengths must be an int64 array of shape ({n},) to match values "
                f"{values.shape}, got {_describe_array(lengths)}"
            )
        if n and (lengths.min() < 1 or lengths.max() > longest):
            bad = int(np.flatnonzero((lengths < 1) | (lengths > longest))[0])
            raise ValueError(
                f"{where}: lengths[{bad}] = {lengths[bad]} is outside [1, {longest}] "
                "(L_max, the padded length)"
            )
        self.classes = _check_labels(where, labels, n, self.classes)
        past_end = np.arange(longest) >= lengths[:, None]  # (N, L_max)
        if past_end.any() and np.any(values[past_end]):
            bad = int(np.flatnonzero(np.any(values * past_end[..., None], axis=(1, 2)))[0])
            raise ValueError(
                f"{where}: sequence {bad} has non-zero values past its length "
                f"{lengths[bad]}; padding must be zeros"
            )

    def __len__(self) -> int:
        """The number of sequences ``N``."""
        return int(self.values.shape[0])

    @property
    def num_features(self) -> int:
        """``F``, the features per step."""
        return int(self.values.shape[2])

    @property
    def num_classes(self) -> int:
        """``C``, the number of classes (some may have no sequence in this set)."""
        return len(self.classes)

    def subset(self, indices: Sequence[int] | np.ndarray) -> SequenceSet:
        """The sequences at ``indices`` (in that order), same classes, padding trimmed to
        the longest of them. ``indices`` are integer positions (a boolean mask also works).
        """
        picked = _positions(indices, len(self))
        longest = int(self.lengths[picked].max()) if picked.size else self.values.shape[1]
        return SequenceSet(
            name=self.name,
            values=np.ascontiguousarray(self.values[picked, :longest]),  # (n, L', F)
            lengths=self.lengths[picked],
            labels=None if self.labels is None else self.labels[picked],
            classes=list(self.classes),
        )


@dataclass(eq=False)
class TextSet:
    """Labelled texts.

    Attributes:
        name: where the set came from.
        texts: the ``N`` texts.
        labels: ``(N,)`` int64, each in ``[0, C)``; or None for texts to classify.
        classes: the ``C`` class names; ``labels`` index into it (may be empty when
            ``labels`` is None).
    """

    name: str
    texts: list[str]
    labels: np.ndarray | None
    classes: list[str]

    def __post_init__(self) -> None:
        where = f"TextSet {self.name!r}"
        self.texts = list(self.texts)
        n = len(self.texts)
        if not all(isinstance(t, str) for t in self.texts):
            bad = next(i for i, t in enumerate(self.texts) if not isinstance(t, str))
            raise ValueError(f"{where}: texts[{bad}] is {type(self.texts[bad]).__name__}, not str")
        self.classes = _check_labels(where, self.labels, n, self.classes)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, indices: Sequence[int] | np.ndarray) -> TextSet:
        """The texts at ``indices`` (in that order), same classes."""
        picked = _positions(indices, len(self))
        return TextSet(
            name=self.name,
            texts=[self.texts[i] for i in picked],
            labels=None if self.labels is None else self.labels[picked],
            classes=list(self.classes),
        )


def _check_labels(where: str, labels: object, n: int, classes: Sequence[str]) -> list[str]:
    """The class names as a list of str, after checking ``labels`` (None, or ``(n,)`` int64
    indices into them)."""
    classes = [str(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise ValueError(f"{where}: classes must be distinct names, got {classes}")
    if labels is None:
        return classes
    if not isinstance(labels, np.ndarray) or labels.shape != (n,) or labels.dtype != np.int64:
        raise ValueError(
            f"{where}: labels must be None or an int64 array of shape ({n},) (one per item), "
            f"got {_describe_array(labels)}"
        )
    if not classes:
        raise ValueError(f"{where}: classes is empty but labels are given; name the classes")
    if n and (labels.min() < 0 or labels.max() >= len(classes)):
        bad = int(np.flatnonzero((labels < 0) | (labels >= len(classes)))[0])
        raise ValueError(
            f"{where}: labels[{bad}] = {labels[bad]} is outside [0, {len(classes)}) (the "
            "number of classes)"
        )
    return classes


def _describe_array(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _positions(indices: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """Integer positions in ``[0, n)`` from an index list or a boolean mask."""
    array = np.asarray(indices)
    if array.dtype == bool:
        if array.shape != (n,):
            raise ValueError(f"a boolean mask must have shape ({n},), got {array.shape}")
        return np.flatnonzero(array)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"indices must be a 1-D integer array, got {_describe_array(array)}")
    if array.min() < -n or array.max() >= n:
        raise ValueError(
            f"indices must lie in [0, {n}), got values from {array.min()} to {array.max()}"
        )
    return array.astype(np.int64) % n


def _pad(sequences: list[np.ndarray], num_features: int) -> tuple[np.ndarray, np.ndarray]:
    """``(values, lengths)``: ``(N, L_max, F)`` float32 zero-padded, and ``(N,)`` int64."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    longest = int(lengths.max()) if len(sequences) else 0
    values = np.zeros((len(sequences), longest, num_features), dtype=np.float32)
    for n, sequence in enumerate(sequences):
        values[n, : len(sequence)] = sequence
    return values, lengths


def _classes_of(labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """``(classes, indices)`` for string labels: distinct labels sorted (numerically when all
    are integers), and each label's index into them as ``(N,)`` int64."""
    distinct = set(labels)
    if all(_INTEGER.fullmatch(label) for label in distinct):
        classes = sorted(distinct, key=lambda label: (int(label), label))
    else:
        classes = sorted(distinct)
    index = {label: i for i, label in enumerate(classes)}
    return classes, np.array([index[label] for label in labels], dtype=np.int64)
