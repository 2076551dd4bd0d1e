"""lstmkit.data.sequences: a user's files, .ts (UEA/UCR), long-format CSV, NPZ and text
CSV, read into classification sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstmkit.data.sequences import (
    load_sequence_csv,
    load_sequence_npz,
    load_text_csv,
    load_ts,
)


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


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
