"""lstmkit.data.sequences: the SequenceSet and TextSet containers, and stratified splits.
The loaders are tested in test_data_sequences_files.py (.ts, CSV, NPZ) and
test_data_sequences_builtin.py (JapaneseVowels, Fashion-MNIST, tweets)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.sequences import SequenceSet, TextSet, stratified_split

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
