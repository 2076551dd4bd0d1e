"""Classification metrics, the printed confusion matrix, its plot and the baselines, against
hand-computed values on toy sets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from lstmkit.tasks.classify.baselines import (
    bag_of_tokens,
    baseline_predictions,
    logistic_regression_baseline,
    majority_baseline,
    summary_features,
)
from lstmkit.tasks.classify.metrics import classification_metrics, confusion, format_confusion
from lstmkit.tasks.classify.plot import plot_confusion

# Toy set: class 2 occurs once and is never predicted.
LABELS = np.array([0, 0, 0, 1, 1, 2])
PREDICTIONS = np.array([0, 0, 1, 1, 1, 1])
# rows = true class, columns = predicted class
MATRIX = np.array([[2, 1, 0], [0, 2, 0], [0, 1, 0]])
# F1: class 0 P=2/2 R=2/3 -> 0.8; class 1 P=2/4 R=2/2 -> 2/3; class 2 never predicted -> 0
F1 = (0.8, 2 / 3, 0.0)


def test_accuracy_and_macro_f1_by_hand():
    metrics = classification_metrics(LABELS, PREDICTIONS, 3)
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["macro_f1"] == pytest.approx(sum(F1) / 3)


def test_macro_f1_counts_a_class_absent_from_the_split():
    # A fourth class that occurs nowhere still takes its 1/4 share of the mean, as F1 = 0.
    metrics = classification_metrics(LABELS, PREDICTIONS, 4)
    assert metrics["macro_f1"] == pytest.approx(sum(F1) / 4)
    assert metrics["accuracy"] == pytest.approx(4 / 6)


def test_confusion_rows_are_true_columns_predicted():
    matrix = confusion(LABELS, PREDICTIONS, 3)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, MATRIX)
    assert matrix[2, 1] == 1 and matrix[1, 2] == 0  # true 2 predicted 1, never the reverse
    assert confusion(LABELS, PREDICTIONS, 4).shape == (4, 4)


@pytest.mark.parametrize(
    ("labels", "predictions", "num_classes", "match"),
    [
        ([0, 3], [0, 1], 3, r"labels\[1\] = 3 is not a class id in \[0, 3\)"),
        ([0, 1], [0, -1], 3, r"predictions\[1\] = -1"),
        ([0, 1], [0, 1, 1], 3, "predictions has 3 entries but labels has 2"),
        ([0.0, 1.0], [0, 1], 3, "integer class ids, got dtype float64"),
        ([[0, 1]], [[0, 1]], 3, r"1-D array of class ids \(M,\), got shape \(1, 2\)"),
        ([], [], 3, "empty"),
        ([0], [0], 0, "num_classes must be a positive integer, got 0"),
    ],
)
def test_metrics_refuse_bad_labels(labels, predictions, num_classes, match):
    with pytest.raises(ValueError, match=match):
        classification_metrics(np.array(labels), np.array(predictions), num_classes)


def test_format_confusion_lines_hold_counts_and_recall():
    lines = format_confusion(MATRIX, ["cat", "dog", "eel"])
    assert lines[0].split() == ["true", "\\", "predicted", "cat", "dog", "eel", "recall"]
    assert lines[1].split() == ["cat", "2", "1", "0", "0.667"]
    assert lines[2].split() == ["dog", "0", "2", "0", "1.000"]
    assert lines[3].split() == ["eel", "0", "1", "0", "0.000"]
    # columns line up: every line is as wide as the header
    assert len({len(line) for line in lines}) == 1


def test_format_confusion_abbreviates_long_names_and_marks_empty_classes():
    names = ["T-shirt/top", "Sandal", "Shirt", "Sneaker", "Ankle boot, extremely long"]
    matrix = np.diag([1, 2, 3, 0, 5])
    lines = format_confusion(matrix, names)
    # the shortest unique prefixes of at least 3 characters head the columns
    assert lines[0].split()[3:] == ["T-s", "San", "Shi", "Sne", "Ank", "recall"]
    assert lines[4].split()[-1] == "-"  # a class with no sequences has no recall
    assert lines[5].startswith("Ankle boot, e… ")
    assert "extremely" not in lines[5]


def test_format_confusion_numbers_columns_when_prefixes_collide():
    lines = format_confusion(np.eye(2, dtype=np.int64), ["speaker_0001", "speaker_0002"])
    assert lines[0].split()[3:] == ["0", "1", "recall"]
    assert lines[1].startswith("0 speaker_0001") and lines[2].startswith("1 speaker_0002")


def test_format_confusion_refuses_mismatched_names():
    with pytest.raises(ValueError, match="3x3 but 2 class name"):
        format_confusion(MATRIX, ["a", "b"])
    with pytest.raises(ValueError, match=r"matrix\[0, 1\] = -1 is negative"):
        format_confusion(np.array([[1, -1], [0, 1]]), ["a", "b"])


def _padded(garbage: float) -> tuple[np.ndarray, np.ndarray]:
    values = np.full((2, 4, 2), garbage)
    values[0, :2] = [[1.0, 2.0], [3.0, 4.0]]
    values[1, :3] = [[0.0, 1.0], [2.0, 2.0], [4.0, -6.0]]
    return values, np.array([2, 3])


def test_summary_features_by_hand_and_blind_to_padding():
    expected = np.array([
        [2.0, 3.0, 3.0, 4.0],  # mean of steps 0-1, then step 1
        [2.0, -1.0, 4.0, -6.0],  # mean of steps 0-2, then step 2
    ])
    for garbage in (np.nan, 1e9, -7.0):
        values, lengths = _padded(garbage)
        np.testing.assert_allclose(summary_features(values, lengths), expected)


def test_summary_features_full_length_and_errors():
    values = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    out = summary_features(values, np.array([3]))
    assert out.dtype == np.float64 and out.shape == (1, 8)
    np.testing.assert_allclose(out[0], [4, 5, 6, 7, 8, 9, 10, 11])
    values, _ = _padded(0.0)
    with pytest.raises(ValueError, match=r"lengths\[1\] = 5 is not in \[1, 4\]"):
        summary_features(values, np.array([2, 5]))
    with pytest.raises(ValueError, match=r"lengths\[0\] = 0"):
        summary_features(values, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\)"):
        summary_features(values, np.array([2]))
    values[1, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"values\[1, 1, 0\] is nan inside the real length 3"):
        summary_features(values, np.array([2, 3]))


def test_bag_of_tokens_frequencies_by_hand():
    bag = bag_of_tokens([np.array([1, 1, 3]), np.array([0]), np.array([2, 0, 2, 2])], 4)
    assert sparse.issparse(bag) and bag.shape == (3, 4)
    expected = np.array([
        [0.0, 2 / 3, 0.0, 1 / 3],
        [1.0, 0.0, 0.0, 0.0],
        [1 / 4, 0.0, 3 / 4, 0.0],
    ])
    np.testing.assert_allclose(bag.toarray(), expected)
    np.testing.assert_allclose(np.asarray(bag.sum(axis=1)).ravel(), 1.0)


def test_bag_of_tokens_refuses_bad_ids():
    with pytest.raises(ValueError, match=r"sequences\[1\]\[2\] = 5 is not a token id in \[0, 4\)"):
        bag_of_tokens([np.array([0]), np.array([1, 2, 5])], 4)
    with pytest.raises(ValueError, match=r"sequences\[0\] must be a non-empty"):
        bag_of_tokens([np.array([], dtype=np.int64)], 4)


def test_majority_takes_the_most_frequent_and_breaks_ties_low():
    assert majority_baseline(np.array([0, 2, 2, 1]), 3) == 2
    assert majority_baseline(np.array([2, 2, 1, 1, 0]), 3) == 1  # 1 and 2 tie: lowest wins
    assert majority_baseline(np.array([3, 0]), 4) == 0
    with pytest.raises(ValueError, match=r"train_labels\[0\] = 3 is not a class id in \[0, 3\)"):
        majority_baseline(np.array([3]), 3)


def _clusters(seed: int, per_class: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Three tight, well separated 2-D clusters on a large scale (standardising matters)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    labels = np.repeat(np.arange(3), per_class)
    features = centres[labels] + rng.normal(scale=5.0, size=(labels.size, 2)) + 1000.0
    return features, labels


def test_logistic_regression_separates_and_is_deterministic():
    x, y = _clusters(0)
    x_test, y_test = _clusters(1)
    first = logistic_regression_baseline(x, y, x_test)
    assert first.dtype == np.int64
    np.testing.assert_array_equal(first, y_test)
    np.testing.assert_array_equal(logistic_regression_baseline(x, y, x_test), first)


def test_logistic_regression_on_sparse_bags():
    # Class c's sequences use tokens 2c and 2c+1 only: a separable bag of tokens.
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 10)
    sequences = [2 * c + rng.integers(0, 2, size=rng.integers(2, 6)) for c in labels]
    bags = bag_of_tokens(sequences, 6)
    predicted = logistic_regression_baseline(bags, labels, bags)
    np.testing.assert_array_equal(predicted, labels)
    with pytest.raises(ValueError, match="test_features is dense .* train_features is sparse"):
        logistic_regression_baseline(bags, labels, bags.toarray())


def test_logistic_regression_subsample_and_single_class():
    x, y = _clusters(0, per_class=30)
    x_test, y_test = _clusters(1)
    a = logistic_regression_baseline(x, y, x_test, max_train_items=30, seed=3)
    np.testing.assert_array_equal(a, logistic_regression_baseline(
        x, y, x_test, max_train_items=30, seed=3))
    np.testing.assert_array_equal(a, y_test)  # 30 random rows still hold every cluster
    single = logistic_regression_baseline(x[:5], np.full(5, 2), x_test)
    np.testing.assert_array_equal(single, np.full(len(x_test), 2))
    with pytest.raises(ValueError, match="max_train_items must be a positive integer, got 0"):
        logistic_regression_baseline(x, y, x_test, max_train_items=0)


def test_baseline_predictions_runs_both():
    x, y = _clusters(0)
    y = y.copy()
    y[:5] = 2  # class 2 becomes the majority
    x_test, _ = _clusters(1)
    out = baseline_predictions((x, y), x_test, 3)
    assert set(out) == {"majority", "logistic_regression"}
    np.testing.assert_array_equal(out["majority"], np.full(len(x_test), 2))
    assert out["logistic_regression"].shape == (len(x_test),)


def test_plot_confusion_writes_a_png_and_no_temporary_files(tmp_path):
    target = tmp_path / "plots" / "confusion.png"
    names = ["T-shirt/top", "Trouser", "an empty class"]
    matrix = np.array([[5, 1, 0], [2, 7, 0], [0, 0, 0]])
    assert plot_confusion(target, matrix, names, title="toy") == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in target.parent.iterdir()] == ["confusion.png"]
    with pytest.raises(ValueError, match="3x3 but 2 class name"):
        plot_confusion(tmp_path / "bad.png", matrix, names[:2], title="toy")
    assert not (tmp_path / "bad.png").exists()


def test_logistic_regression_standardises_dense_features():
    # The classes differ only on a feature of scale 1e-6: unscaled, the L2 penalty would keep
    # its weight far too small to use it; standardised, it separates them perfectly.
    x, y = _clusters(0)
    x_test, y_test = _clusters(1)
    tiny, tiny_test = x * 1e-6, x_test * 1e-6
    np.testing.assert_array_equal(logistic_regression_baseline(tiny, y, tiny_test), y_test)
