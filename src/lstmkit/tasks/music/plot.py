"""A PNG picture of a piano roll, optionally over the model's note probabilities.

Time runs left to right in quarter notes, with a line at every bar of four; pitch runs
upwards, limited to the keys the roll uses (two semitones of margin), labelled at every C
(``C4`` is middle C, MIDI 60). Each held note is one bar, so separate notes stay
distinguishable. Given ``probabilities`` ``(T, K)``, the model's ``p(key sounds | past)``
is drawn as a faint heat map under the notes: where the model hesitated shows as grey
where no note was chosen.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from ...data.validation import check_positive_int
from ...files import write_atomic

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_QUARTERS_PER_BAR = 4
_MARGIN = 2  # semitones of empty space above and below the used range


def note_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI note number: 60 -> ``"C4"``, 21 -> ``"A0"``."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _pitch_range(roll: np.ndarray, probabilities: np.ndarray | None, lowest: int) -> tuple[int, int]:
    """The lowest and highest MIDI pitch to show (inclusive)."""
    used = np.flatnonzero(roll.any(axis=0))
    if not len(used) and probabilities is not None:
        # A silent roll: show where the model put at least some belief instead.
        used = np.flatnonzero(probabilities.max(axis=0, initial=0.0) >= 0.05)
    if not len(used):
        used = np.arange(roll.shape[1])
    low = max(lowest, lowest + int(used[0]) - _MARGIN)
    high = min(lowest + roll.shape[1] - 1, lowest + int(used[-1]) + _MARGIN)
    return low, high


def plot_piano_roll(
    path: str | os.PathLike,
    roll: np.ndarray,
    steps_per_quarter: int,
    *,
    title: str,
    lowest_pitch: int = 21,
    probabilities: np.ndarray | None = None,
) -> Path:
    """Draw ``roll`` to the PNG file ``path`` (written atomically) and return the path.

    Args:
        roll: ``(T, K)`` of 0/1; column ``k`` is MIDI pitch ``lowest_pitch + k``.
        steps_per_quarter: frames per quarter note, to label time in quarter notes.
        title: the figure's title.
        lowest_pitch: MIDI pitch of column 0 (21, A0, for the 88-key rolls).
        probabilities: optional ``(T, K)`` values in ``[0, 1]``, drawn underneath.
    """
    spq = check_positive_int("steps_per_quarter", steps_per_quarter)
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] < 1:
        raise ValueError(f"roll must be (T, K) with at least one key column, got {roll.shape}")
    if isinstance(lowest_pitch, bool) or not isinstance(lowest_pitch, (int, np.integer)) or not (
        0 <= lowest_pitch and lowest_pitch + roll.shape[1] <= 128
    ):
        raise ValueError(
            f"lowest_pitch must be an int with lowest_pitch + {roll.shape[1]} keys <= 128 "
            f"(MIDI pitches 0..127), got {lowest_pitch!r}"
        )
    bad = np.argwhere((roll != 0) & (roll != 1))
    if len(bad):
        t, k = bad[0]
        raise ValueError(f"roll must hold only 0 and 1, got {roll[t, k]!r} at frame {t}, key {k}")
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if probabilities.shape != roll.shape:
            raise ValueError(
                f"probabilities must have the roll's shape {roll.shape}, got {probabilities.shape}"
            )
        outside = np.argwhere(~((probabilities >= 0) & (probabilities <= 1)))  # NaN too
        if len(outside):
            t, k = outside[0]
            raise ValueError(
                f"probabilities must lie in [0, 1], got {probabilities[t, k]!r} at frame {t}, "
                f"key {k}"
            )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = roll.shape[0]
    quarters = frames / spq
    low, high = _pitch_range(roll, probabilities, lowest_pitch)
    width = min(24.0, max(6.0, 0.25 * quarters + 1.5))
    height = min(10.0, max(3.0, 0.09 * (high - low + 1) + 1.5))
    figure, axis = plt.subplots(figsize=(width, height))
    if probabilities is not None and frames:
        # Rows low..high only, drawn as cells centred on each pitch and spanning each frame.
        rows = probabilities[:, low - lowest_pitch: high - lowest_pitch + 1].T  # (pitches, T)
        image = axis.imshow(
            rows, origin="lower", aspect="auto", cmap="Greys", vmin=0.0, vmax=1.0, alpha=0.45,
            extent=(0.0, quarters, low - 0.5, high + 0.5), interpolation="nearest", zorder=0,
        )
        figure.colorbar(image, ax=axis, pad=0.01, fraction=0.03, label="p(note)")
    padded = np.zeros((frames + 2, roll.shape[1]), dtype=np.int8)
    padded[1:-1] = roll != 0
    change = np.diff(padded, axis=0)  # (T + 1, K): +1 where a held note starts, -1 where it ends
    for key in np.flatnonzero(padded.any(axis=0)):
        starts = np.flatnonzero(change[:, key] == 1)
        stops = np.flatnonzero(change[:, key] == -1)
        spans = [(start / spq, (stop - start) / spq) for start, stop in zip(starts, stops)]
        axis.broken_barh(
            spans, (lowest_pitch + key - 0.4, 0.8), facecolors="tab:blue",
            edgecolors="navy", linewidth=0.5, zorder=2,
        )
    axis.set_xlim(0.0, max(quarters, 1.0 / spq))
    axis.set_ylim(low - 0.5, high + 0.5)
    cs = [p for p in range(math.ceil(low / 12) * 12, high + 1, 12)]
    axis.set_yticks(cs, [note_name(p) for p in cs])
    for pitch in cs:
        axis.axhline(pitch - 0.5, color="0.85", linewidth=0.6, zorder=1)
    bars = np.arange(0.0, quarters + 1e-9, _QUARTERS_PER_BAR)
    for bar in bars:
        axis.axvline(bar, color="0.7", linewidth=0.6, zorder=1)
    # Label bar lines only, and at most about 25 of them, so long pieces stay readable.
    every = math.ceil(len(bars) / 25)
    axis.set_xticks(bars[::every], [f"{q:g}" for q in bars[::every]])
    axis.set_xlabel(f"time (quarter notes; a line at every bar of {_QUARTERS_PER_BAR})")
    axis.set_ylabel("pitch")
    axis.set_title(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return write_atomic(path, lambda handle: handle.write(buffer.getvalue()))
