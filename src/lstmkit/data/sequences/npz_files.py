"""A user's NumPy archives of sequences (``numpy.savez``).

`load_sequence_npz` reads ``x`` ``(N, L, F)`` (or ``(N, L)``), labels ``y`` ``(N,)`` and
optional ``lengths`` ``(N,)`` into a `SequenceSet`. The archive is opened without
pickle, so an object array (ragged sequences, mixed labels) is refused, with a word on
how to store it padded instead; values past a sequence's length are padding and become
zeros. Class names are the distinct labels sorted, numerically when all are integers
(see :mod:`.sets`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .sets import SequenceSet, _classes_of, _describe_array

__all__ = ["load_sequence_npz"]


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
