"""Count-based baselines for piano-roll likelihood, fitted on the training rolls.

Both treat the 88 keys independently, as the LSTM's output layer does, so the gap to
the LSTM is what its memory of the past (beyond the last frame) and its coupling of keys
through the shared state buy:

- ``key frequency``: ``p(v_{t,k} = 1) = q_k``, the fraction of training frames in which
  key k sounds;
- ``key Markov``: ``p(v_{t,k} = 1 | v_{t-1,k} = a) = q_{k|a}``, a first-order chain per
  key (the previous frame's own key only; the first frame follows a silent ``v_0``).

Probabilities are add-one smoothed (Laplace) so that an unseen key costs a finite
amount. Scores are negative log-likelihoods per time step in nats, summed over keys.
"""

from __future__ import annotations

import numpy as np

BASELINES = ("key frequency", "key Markov")


def _bernoulli_nll(on: np.ndarray, p: np.ndarray) -> float:
    """Summed ``-log p(on)`` for Bernoulli probabilities ``p`` (same shape as ``on``)."""
    return float(-(np.where(on, np.log(p), np.log1p(-p))).sum())


def _previous(roll: np.ndarray) -> np.ndarray:
    return np.vstack([np.zeros((1, roll.shape[1]), dtype=roll.dtype), roll[:-1]])


def fit_baselines(rolls: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The smoothed probabilities: ``key frequency (K,)`` and ``key Markov (2, K)``
    (row a: the probability a key sounds given it did (1) or did not (0) before)."""
    frames = np.vstack(rolls).astype(bool)  # (ΣT, K)
    previous = np.vstack([_previous(r) for r in rolls]).astype(bool)
    frequency = (frames.sum(0) + 1) / (len(frames) + 2)
    markov = np.stack([
        ((frames & (previous == a)).sum(0) + 1) / ((previous == a).sum(0) + 2) for a in (0, 1)
    ])
    return {"key frequency": frequency, "key Markov": markov}


def baseline_nll_per_step(fitted: dict[str, np.ndarray], rolls: list[np.ndarray]) -> dict[str, float]:
    """Each baseline's negative log-likelihood per time step (nats) on ``rolls``."""
    steps = sum(len(r) for r in rolls)
    frequency, markov = fitted["key frequency"], fitted["key Markov"]
    totals = {name: 0.0 for name in BASELINES}
    for roll in rolls:
        on = roll.astype(bool)
        totals["key frequency"] += _bernoulli_nll(on, np.broadcast_to(frequency, on.shape))
        previous = _previous(roll).astype(int)
        totals["key Markov"] += _bernoulli_nll(on, np.take_along_axis(markov, previous, axis=0))
    return {name: total / steps for name, total in totals.items()}
