"""Baselines shown beside the LSTM classifier: the majority class and logistic regression.

A sequence classifier earns its keep only if it beats what needs no recurrence at all, so the
report prints two references:

- ``majority``: every test sequence gets the most frequent training class (what accuracy a
  model reaches by ignoring its input; its macro-F1 is at most ``1/C``);
- ``logistic_regression``: a multinomial logistic regression (scikit-learn) on a fixed-size
  summary of each sequence, which keeps what is cheap to know about a sequence and drops
  the order of its steps.

Summaries. A numeric sequence ``x_1 .. x_T`` of ``F`` features (stored padded to ``L >= T``)
becomes the ``2F`` vector ``[ (1/T) sum_t x_t ; x_T ]``: its mean over the real steps and
its last real step. Padding never enters (it may hold anything, NaN included). A token
sequence ``w_1 .. w_T`` over a vocabulary of ``V`` ids becomes the ``V`` vector
``(1/T) sum_t onehot(w_t)``, the token frequencies divided by the length: the mean of the
one-hot inputs, the text analogue of the mean feature (kept sparse).

Fitting. Dense summaries are standardised (``StandardScaler``, fitted on the training rows
only) and fitted with L-BFGS; sparse bags of tokens are already on a common ``[0, 1]``
scale, are fitted as they are (L-BFGS handles sparse input, and scaling would densify
them). Both solvers are deterministic; ``seed`` only chooses the optional training
subsample (``max_train_items``). BLAS runs single-threaded: the problems are small, and on
a busy 2-core machine extra BLAS threads only contend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .metrics import class_ids

__all__ = [
    "BASELINES",
    "bag_of_tokens",
    "baseline_predictions",
    "logistic_regression_baseline",
    "majority_baseline",
    "summary_features",
]

BASELINES: tuple[str, ...] = ("majority", "logistic_regression")

# Room for L-BFGS to converge: Fashion-MNIST summaries (60k x 56) take 389 iterations.
DEFAULT_MAX_ITER = 1000


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _lengths(lengths, count: int, max_length: int) -> np.ndarray:
    """``lengths`` as int64 ``(N,)`` with every entry in ``[1, max_length]``."""
    array = np.asarray(lengths)
    if array.shape != (count,):
        raise ValueError(
            f"lengths must have shape ({count},), one per sequence, got shape {array.shape}"
        )
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"lengths must be integers, got dtype {array.dtype}")
    bad = np.flatnonzero((array < 1) | (array > max_length))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"lengths[{i}] = {int(array[i])} is not in [1, {max_length}] "
            f"(the padded length of values)"
        )
    return array.astype(np.int64, copy=False)


def summary_features(values, lengths) -> np.ndarray:
    """``[mean over the real steps ; last real step]`` of each padded sequence.

    Args:
        values: ``(N, L, F)`` sequences padded to length ``L``; steps at or past
            ``lengths[n]`` are ignored whatever they hold.
        lengths: ``(N,)`` real lengths ``T_n`` in ``[1, L]``.

    Returns:
        ``(N, 2F)`` float64: columns ``[:F]`` are ``(1/T_n) sum_{t<T_n} values[n, t]`` and
        columns ``[F:]`` are ``values[n, T_n - 1]``.
    """
    x = np.asarray(values)
    if x.ndim != 3 or x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(
            f"values must be (N, L, F) padded sequences with L, F >= 1, got shape {x.shape}"
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"values must be numeric, got dtype {x.dtype}")
    n, steps, _ = x.shape
    t = _lengths(lengths, n, steps)
    real = np.arange(steps)[None, :] < t[:, None]  # (N, L)
    # np.where, not a multiplication by the mask: NaN * 0 is NaN, and padding may hold NaN.
    kept = np.where(real[:, :, None], x, 0)  # (N, L, F)
    if not np.all(np.isfinite(kept)):
        row, step, column = (int(k) for k in np.argwhere(~np.isfinite(kept))[0])
        raise ValueError(
            f"values[{row}, {step}, {column}] is {x[row, step, column]} inside the real "
            f"length {int(t[row])} of sequence {row}; features must be finite"
        )
    mean = kept.sum(axis=1, dtype=np.float64) / t[:, None]  # (N, F)
    last = x[np.arange(n), t - 1].astype(np.float64)  # (N, F)
    return np.concatenate([mean, last], axis=1)  # (N, 2F)


def bag_of_tokens(sequences: Sequence, vocab_size: int):
    """Token frequencies of each sequence divided by its length, as a sparse matrix.

    Args:
        sequences: ``N`` 1-D integer arrays of token ids in ``[0, V)``, each non-empty.
        vocab_size: ``V``.

    Returns:
        ``scipy.sparse.csr_matrix`` ``(N, V)`` float64 whose row ``n`` holds
        ``count_n(v) / T_n``, so every row sums to 1.
    """
    from scipy import sparse

    v = _positive_int(vocab_size, "vocab_size")
    ids, lengths = [], np.empty(len(sequences), dtype=np.int64)
    for n, sequence in enumerate(sequences):
        tokens = np.asarray(sequence)
        if tokens.ndim != 1 or tokens.size == 0:
            raise ValueError(
                f"sequences[{n}] must be a non-empty 1-D array of token ids, "
                f"got shape {tokens.shape}"
            )
        if tokens.dtype == np.bool_ or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(f"sequences[{n}] must hold integer token ids, got {tokens.dtype}")
        bad = np.flatnonzero((tokens < 0) | (tokens >= v))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"sequences[{n}][{i}] = {int(tokens[i])} is not a token id in [0, {v})"
            )
        ids.append(tokens.astype(np.int64, copy=False))
        lengths[n] = tokens.size
    indptr = np.concatenate([[0], np.cumsum(lengths)])  # (N + 1,)
    indices = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)  # (sum T_n,)
    data = np.repeat(1.0 / np.maximum(lengths, 1), lengths)  # each token adds 1/T_n
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(lengths), v))
    matrix.sum_duplicates()  # repeated tokens: one entry holding count/T_n
    return matrix


def majority_baseline(train_labels, num_classes: int) -> int:
    """The most frequent class among ``(N,)`` training labels; ties go to the lowest id."""
    c = _positive_int(num_classes, "num_classes")
    y = class_ids(train_labels, "train_labels", c)
    if y.size == 0:
        raise ValueError("train_labels is empty: there is no majority class")
    return int(np.argmax(np.bincount(y, minlength=c)))  # argmax returns the first maximum


def _features(features, name: str):
    """A 2-D float matrix, dense ``(N, K)`` float64 or scipy sparse, and whether sparse."""
    from scipy import sparse

    if sparse.issparse(features):
        if features.ndim != 2:
            raise ValueError(f"{name} must be 2-D (N, K), got shape {features.shape}")
        matrix = sparse.csr_matrix(features, dtype=np.float64)
        if not np.all(np.isfinite(matrix.data)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return matrix, True
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, K), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        row, column = (int(k) for k in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name}[{row}, {column}] is {array[row, column]}; must be finite")
    return array, False


def logistic_regression_baseline(
    train_features,
    train_labels,
    test_features,
    *,
    seed: int = 0,
    max_iter: int = DEFAULT_MAX_ITER,
    max_train_items: int | None = None,
) -> np.ndarray:
    """Multinomial logistic regression fitted on the training rows; test predictions.

    Args:
        train_features: ``(N, K)`` dense (standardised here) or scipy sparse (used as is).
        train_labels: ``(N,)`` integer class ids.
        test_features: ``(M, K)`` of the same kind and width.
        seed: chooses the training subsample when ``max_train_items`` is set.
        max_iter: L-BFGS iterations.
        max_train_items: fit on at most this many training rows, drawn uniformly without
            replacement (``None``: all of them).

    Returns:
        ``(M,)`` int64 predicted class ids (labels as given, not re-indexed). A training set
        holding a single class predicts that class everywhere (there is nothing to fit).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, train_sparse = _features(train_features, "train_features")
    x_test, test_sparse = _features(test_features, "test_features")
    y = np.asarray(train_labels)
    if y.ndim != 1 or y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"train_labels must be a 1-D integer array, got shape {y.shape} dtype {y.dtype}"
        )
    if y.shape[0] != x.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"train_labels has {y.shape[0]} entries and train_features {x.shape[0]} rows; "
            "they must match and be at least one"
        )
    if train_sparse != test_sparse or x_test.shape[1] != x.shape[1]:
        kind = {True: "sparse", False: "dense"}
        raise ValueError(
            f"test_features is {kind[test_sparse]} {x_test.shape} but train_features is "
            f"{kind[train_sparse]} {x.shape}; they must be the same kind and width"
        )
    max_iter = _positive_int(max_iter, "max_iter")
    if max_train_items is not None:
        limit = _positive_int(max_train_items, "max_train_items")
        if limit < x.shape[0]:
            keep = np.sort(np.random.default_rng(seed).choice(x.shape[0], limit, replace=False))
            x, y = x[keep], y[keep]
    classes = np.unique(y)
    if classes.size == 1:
        return np.full(x_test.shape[0], classes[0], dtype=np.int64)
    # Small problems: extra BLAS threads only contend (see the module doc).
    with threadpool_limits(limits=1, user_api="blas"):
        if not train_sparse:
            scaler = StandardScaler().fit(x)
            x, x_test = scaler.transform(x), scaler.transform(x_test)
        model = LogisticRegression(solver="lbfgs", max_iter=max_iter, random_state=seed)
        model.fit(x, y)
        return model.predict(x_test).astype(np.int64)


def baseline_predictions(
    train: tuple,
    test_features,
    num_classes: int,
    *,
    seed: int = 0,
    max_train_items: int | None = None,
) -> dict[str, np.ndarray]:
    """Both baselines' test predictions: ``{"majority": (M,), "logistic_regression": (M,)}``.

    Args:
        train: ``(features, labels)``: ``(N, K)`` features (:func:`summary_features` or
            :func:`bag_of_tokens` of the training sequences) and ``(N,)`` class ids.
        test_features: ``(M, K)`` features of the test sequences, made the same way.
        num_classes: ``C``.
        seed, max_train_items: passed to :func:`logistic_regression_baseline`.
    """
    if not isinstance(train, tuple) or len(train) != 2:
        raise ValueError("train must be a (features, labels) pair")
    features, labels = train
    majority = majority_baseline(labels, num_classes)
    logistic = logistic_regression_baseline(
        features, labels, test_features, seed=seed, max_train_items=max_train_items
    )
    return {
        "majority": np.full(logistic.shape[0], majority, dtype=np.int64),
        "logistic_regression": logistic,
    }
