"""Stratified splits: index sets cut per class in given proportions.

`stratified_split` carves a validation set from a training split, or cuts an 80/10/10
split of a corpus that ships in one piece (the tweets). Each class's count in a part is
its exact share rounded down or up, and the part sizes are ``N`` times the fractions
rounded, found by a greedy assignment repaired along augmenting paths (`_augment`) as in
a max-flow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .sets import _describe_array

__all__ = ["stratified_split"]


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
