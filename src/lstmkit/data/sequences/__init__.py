"""Labelled sequences and texts for many-to-one classification, strictly checked.

A classifier reads a whole sequence and names its class. This package turns files into
the two containers the classification task consumes: `SequenceSet`, numeric sequences
padded to ``values`` ``(N, L_max, F)`` with ``lengths`` ``(N,)``, and `TextSet`, texts;
both carry ``labels`` ``(N,)`` int64 into their class names (None for items to
classify). One module a job:

* :mod:`.sets`: the two containers, their checks, and the helpers the loaders share.
* :mod:`.ts_files`: `load_ts`, the UEA/UCR ``.ts`` format (sktime, aeon).
* :mod:`.csv_files`: `load_sequence_csv` and `load_text_csv`, a user's CSV files.
* :mod:`.npz_files`: `load_sequence_npz`, a user's NumPy archives.
* :mod:`.builtin`: the sets that ship offline (`japanese_vowels`, `fashion_mnist`,
  `tweets`) and their listings (`BUILTIN_SEQUENCE_SETS`, `BUILTIN_TEXT_SETS`).
* :mod:`.split`: `stratified_split`, index sets cut per class in given proportions.

Every public name is re-exported here, so callers write ``sequences.load_ts(...)`` or
``from lstmkit.data.sequences import TextSet`` without knowing which module holds it.
The package is on the data floor: numpy, and pandas imported when a CSV is read.
"""

from .builtin import (
    BUILTIN_SEQUENCE_SETS,
    BUILTIN_TEXT_SETS,
    FASHION_MNIST_CLASSES,
    fashion_mnist,
    japanese_vowels,
    tweets,
)

# Public constants that `__all__` has never listed, re-exported by name (`as` marks it).
from .builtin import FASHION_MNIST_DIR as FASHION_MNIST_DIR
from .builtin import FASHION_MNIST_ENV as FASHION_MNIST_ENV
from .builtin import TWEET_CLASSES as TWEET_CLASSES
from .csv_files import load_sequence_csv, load_text_csv
from .npz_files import load_sequence_npz
from .sets import SequenceSet, TextSet
from .split import stratified_split
from .ts_files import load_ts

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
