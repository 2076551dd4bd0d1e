"""Piano rolls: scores and Bach's chorales as binary key-by-frame matrices.

A piano roll is a ``(T, 88)`` matrix ``x`` of zeros and ones: ``x[t, k] = 1`` when piano
key ``k`` (MIDI note ``LOWEST_PITCH + k``, A0 = 21 up to C8 = 108) sounds during frame
``t``. Time is cut into ``steps_per_quarter`` (``spq``) frames per quarter note, and frame
``t`` covers ``[t / spq, (t + 1) / spq)`` quarter notes. A note sounding over the quarter
notes ``[a, b)`` occupies the frames whose start lies within it,

    t = ceil(a * spq), ..., ceil(b * spq) - 1,

When that range is empty (a note shorter than a frame that starts no frame),
`score_to_roll` by default gives the note the one frame ``floor(a * spq)`` it begins in,
so that no note vanishes; with ``keep_short_notes=False`` it drops it, and the roll then
samples exactly what sounds at each frame's start.

The corpus (`bach_chorales`) is the Bach chorales that ship with ``music21``, in
Riemenschneider order, rolled by sampling (short notes dropped). That is the convention
of the classic JSB Chorales piano rolls (Boulanger-Lewandowski et al., 2012), whose
default quantisation, ``spq = 1`` (one frame per quarter note), is ours too. Keeping
short notes would be wrong here: at ``spq = 1`` every off-beat passing tone would join
the chord of its beat, and more than half the frames would hold five to ten keys
instead of the four voices. ``spq = 2`` keeps the eighth notes, ``spq = 4`` every
sixteenth.

``music21.corpus.chorales.Iterator`` lists 371 Riemenschneider numbers, but 21 of them
point at a file already listed under an earlier number (the same chorale printed twice),
and two more files sound the same notes as an earlier one (``bwv274`` as ``bwv62.6``,
``bwv69.6`` as ``bwv69.6-a``; compared as pitch, onset and end of every note, which is
all a roll sees). Each is kept once, under its first name, so the corpus holds 348
distinct chorales, each named by its corpus file (``"bwv269"``, ``"bwv248.12-2"``).
Keeping the repeats would put identical pieces in both the training and the test split. Only the sung parts are rolled (the parts whose name
starts with Soprano, Alto, Tenor or Bass, e.g. ``"Soprano 1"`` or ``"Bass Continuo"``,
and all four parts of the three chorales whose parts have no names): 19 chorales also
carry instrumental parts (continuo, or obbligato trumpets, horns, timpani, strings) that
are no part of the vocal texture. Parsing the MusicXML takes 20 to 90 seconds, so the rolls
are cached as one ``.npz`` file (see `bach_chorales`).

Rolls go to and from MIDI files in :mod:`lstmkit.data.midi`, which places the notes it
reads on this module's frame grid.

This module is on the data floor: numpy and music21 (imported lazily) only.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..files import write_atomic
from .validation import check_positive_int

__all__ = [
    "KEYS",
    "LOWEST_PITCH",
    "PianoRolls",
    "bach_chorales",
    "cache_directory",
    "score_to_roll",
    "split_chorales",
]

LOWEST_PITCH = 21  # A0, the MIDI note of key 0
KEYS = 88  # A0..C8
SPLITS = ("train", "validation", "test")

# Bumped whenever the content of the cached rolls changes for a reason other than the
# quantisation or the music21 version (both already in the file name).
_CACHE_FORMAT = 1
_VOICE_PATTERN = re.compile(r"^(soprano|alto|tenor|bass)\b", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class PianoRolls:
    """A set of named piano rolls on one time grid.

    Attributes:
        names: one unique name per piece (for the chorales, the corpus file: ``"bwv66.6"``).
        rolls: ``(T_i, 88)`` uint8 arrays of zeros and ones, one per name; ``T_i`` varies.
        steps_per_quarter: frames per quarter note.
    """

    names: list[str]
    rolls: list[np.ndarray]
    steps_per_quarter: int

    def __post_init__(self) -> None:
        check_positive_int("steps_per_quarter", self.steps_per_quarter)
        if len(self.names) != len(self.rolls):
            raise ValueError(
                f"PianoRolls needs one roll per name, got {len(self.names)} names and "
                f"{len(self.rolls)} rolls"
            )
        if len(set(self.names)) != len(self.names):
            repeated = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"PianoRolls names must be unique, repeated: {repeated[:5]}")
        for name, roll in zip(self.names, self.rolls):
            if roll.ndim != 2 or roll.shape[1] != KEYS:
                raise ValueError(f"piano roll {name!r} must be (T, {KEYS}), got {roll.shape}")

    def __len__(self) -> int:
        """The number of pieces."""
        return len(self.names)

    def subset(self, indices: Sequence[int] | np.ndarray) -> PianoRolls:
        """The pieces at ``indices`` (distinct, in that order), sharing the roll arrays."""
        chosen = [int(i) for i in np.asarray(indices, dtype=np.int64).reshape(-1)]
        for i in chosen:
            if not -len(self) <= i < len(self):
                raise IndexError(f"piece index {i} is out of range for {len(self)} pieces")
        return PianoRolls(
            [self.names[i] for i in chosen], [self.rolls[i] for i in chosen],
            self.steps_per_quarter,
        )


def _frames(onset: Fraction, end: Fraction, spq: int, keep_short: bool) -> tuple[int, int]:
    """The frames ``[first, stop)`` a note over ``[onset, end)`` quarter notes occupies."""
    first, stop = math.ceil(onset * spq), math.ceil(end * spq)
    if stop <= first and keep_short:  # starts no frame: keep the one it begins in
        first = math.floor(onset * spq)
        stop = first + 1
    return first, stop


def _place(
    notes: list[tuple[int, Fraction, Fraction]], length: int, spq: int, keep_short: bool,
    where: str,
) -> np.ndarray:
    """A ``(T, 88)`` uint8 roll of ``(MIDI pitch, onset, end)`` notes (quarter notes);
    ``T`` is ``length`` or more, to hold every note."""
    spans = []
    for pitch, onset, end in notes:
        key = pitch - LOWEST_PITCH
        if not 0 <= key < KEYS:
            raise ValueError(
                f"{where}pitch {_pitch_name(pitch)} (MIDI {pitch}) at offset {float(onset)} "
                f"quarter notes is outside the piano's 88 keys, A0..C8 "
                f"(MIDI {LOWEST_PITCH}..{LOWEST_PITCH + KEYS - 1})"
            )
        first, stop = _frames(onset, end, spq, keep_short)
        if stop > first:
            spans.append((key, first, stop))
            length = max(length, stop)
    roll = np.zeros((length, KEYS), dtype=np.uint8)
    for key, first, stop in spans:
        roll[first:stop, key] = 1
    return roll


def _pitch_name(pitch: int) -> str:
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


def score_to_roll(score, steps_per_quarter: int, *, keep_short_notes: bool = True) -> np.ndarray:
    """A music21 stream (a Score with Parts, or any Stream) as a ``(T, 88)`` uint8 roll.

    Every note and every pitch of every chord in every part sounds from its offset to
    offset + duration, on the frame grid described in the module docstring. Tied notes
    are merged first (``stripTies``), so a tie is one held note. Rests leave frames empty;
    ``T = ceil(highestTime * spq)``, so a closing rest gives trailing empty frames. Grace
    notes (no duration) and chord symbols (harmony annotations, not sounding notes) are
    skipped.

    Args:
        score: the stream.
        steps_per_quarter: frames per quarter note.
        keep_short_notes: a note that starts no frame (shorter than a frame, off the
            grid) keeps the one frame it begins in when True; when False it is left out,
            and the roll samples exactly what sounds at each frame's start (the JSB
            Chorales convention). Without short notes, ties cannot change the roll, so
            False also skips the (slow) tie merging.

    Raises:
        ValueError: a pitch outside A0..C8 or an unpitched (percussion) note, naming its
            offset in quarter notes; ``steps_per_quarter`` not positive.
    """
    spq = check_positive_int("steps_per_quarter", steps_per_quarter)
    notes, highest = _score_notes(score, keep_short_notes)
    return _place(notes, math.ceil(highest * spq), spq, keep_short_notes, "")


def _score_notes(score, merge_ties: bool) -> tuple[list[tuple[int, Fraction, Fraction]], Fraction]:
    """``(MIDI pitch, onset, end)`` of every sounding pitch of ``score`` in quarter notes,
    and the score's end (``highestTime``)."""
    from music21 import harmony

    flat = (score.stripTies(inPlace=False) if merge_ties else score).flatten()
    notes: list[tuple[int, Fraction, Fraction]] = []
    for element in flat.notes:
        if isinstance(element, harmony.Harmony) or element.quarterLength == 0:
            continue
        onset = Fraction(element.offset)
        if not element.pitches:
            raise ValueError(
                f"unpitched note {element!r} at offset {float(onset)} quarter notes: a piano "
                "roll holds only pitched notes"
            )
        end = onset + Fraction(element.quarterLength)
        notes.extend((pitch.midi, onset, end) for pitch in element.pitches)
    return notes, Fraction(flat.highestTime)


def cache_directory() -> Path:
    """Where `bach_chorales` caches by default: ``$LSTMKIT_CACHE_DIR``, else
    ``~/.cache/lstmkit`` (the same root the native kernels' build cache uses)."""
    configured = os.environ.get("LSTMKIT_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "lstmkit"


def _cache_name(spq: int, limit: int | None, music21_version: str) -> str:
    tail = "" if limit is None else f"-first{limit}"
    return f"bach-chorales-spq{spq}-music21-{music21_version}-v{_CACHE_FORMAT}{tail}.npz"


def _chorale_files(limit: int | None) -> list[str]:
    """Distinct corpus paths (``"bach/bwv269"``) in Riemenschneider order."""
    from music21 import corpus

    files = list(dict.fromkeys(corpus.chorales.Iterator(returnType="filename")))
    return files if limit is None else files[:limit]


def _sung_parts(score, name: str):
    """A Score of the parts of ``score`` whose name starts with Soprano, Alto, Tenor or Bass,
    or of all parts when none has a name (three chorales come from Humdrum files whose
    four parts are the unnamed voices)."""
    from music21 import stream

    parts = list(score.parts)
    if all(not p.partName for p in parts):
        return score
    sung = [p for p in parts if _VOICE_PATTERN.match(p.partName or "")]
    if not sung:
        raise ValueError(
            f"chorale {name}: no part is named Soprano, Alto, Tenor or Bass (parts: "
            f"{[p.partName for p in parts]})"
        )
    return stream.Score(sung)


def _parse_chorales(spq: int, limit: int | None) -> PianoRolls:
    from music21 import corpus

    names, rolls, seen = [], [], set()
    for path in _chorale_files(limit):
        name = path.rsplit("/", 1)[-1]
        notes, highest = _score_notes(_sung_parts(corpus.parse(path), name), merge_ties=False)
        # The same notes under two file names (bwv62.6 and bwv274): keep the first.
        content = (highest, tuple(sorted(notes)))
        if content in seen:
            continue
        seen.add(content)
        try:
            rolls.append(_place(notes, math.ceil(highest * spq), spq, False, ""))
        except ValueError as error:
            raise ValueError(f"chorale {path}: {error}") from None
        names.append(name)
    return PianoRolls(names, rolls, spq)


def _save(path: Path, chorales: PianoRolls, music21_version: str) -> None:
    lengths = np.array([roll.shape[0] for roll in chorales.rolls], dtype=np.int64)
    frames = np.concatenate(chorales.rolls) if chorales.rolls else np.zeros((0, KEYS), np.uint8)
    write_atomic(path, lambda handle: np.savez_compressed(
        handle, names=np.array(chorales.names, dtype=str), lengths=lengths,
        frames=frames.astype(np.uint8), steps_per_quarter=np.int64(chorales.steps_per_quarter),
        music21_version=np.array(music21_version),
    ))


def _load(path: Path, spq: int) -> PianoRolls:
    try:
        with np.load(path, allow_pickle=False) as stored:
            names = [str(n) for n in stored["names"]]
            lengths = stored["lengths"]
            frames = stored["frames"]
            stored_spq = int(stored["steps_per_quarter"])
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"chorale cache {path} is unreadable ({error}); delete it to parse the corpus again"
        ) from None
    if stored_spq != spq or frames.ndim != 2 or frames.shape[1] != KEYS or (
        int(lengths.sum()) != frames.shape[0] or len(lengths) != len(names)
    ):
        raise ValueError(
            f"chorale cache {path} does not hold {len(names)} rolls of (T, {KEYS}) at "
            f"{spq} steps per quarter; delete it to parse the corpus again"
        )
    rolls = np.split(frames, np.cumsum(lengths)[:-1]) if len(names) else []
    return PianoRolls(names, rolls, spq)


def bach_chorales(
    steps_per_quarter: int = 1,
    *,
    cache_dir: str | os.PathLike | None = None,
    limit: int | None = None,
) -> PianoRolls:
    """The 348 distinct Bach chorales of music21's corpus as piano rolls (sung parts,
    sampled at each frame's start: see the module docstring).

    The first call parses the corpus (20 to 90 seconds) and caches the rolls in
    ``cache_dir`` (default `cache_directory`) as
    ``bach-chorales-spq{spq}-music21-{version}-v{format}.npz``, written atomically; a
    different quantisation or music21 version therefore parses again. Later calls load
    the file in a few milliseconds. ``limit`` parses only the first ``limit`` chorales
    (for tests) and caches them under a name ending ``-first{limit}``, so a small cache
    never stands in for the full one.

    Args:
        steps_per_quarter: frames per quarter note: 1 (the classic JSB convention), 2 or 4.
        cache_dir: the cache folder, created if missing.
        limit: how many chorales (in Riemenschneider order) to take; all when None.

    Returns:
        `PianoRolls` named by corpus file (``"bwv269"``), in Riemenschneider order.
    """
    import music21

    spq = check_positive_int("steps_per_quarter", steps_per_quarter)
    if limit is not None:
        check_positive_int("limit", limit)
    folder = Path(cache_dir) if cache_dir is not None else cache_directory()
    path = folder / _cache_name(spq, limit, music21.__version__)
    if path.exists():
        return _load(path, spq)
    chorales = _parse_chorales(spq, limit)
    folder.mkdir(parents=True, exist_ok=True)
    _save(path, chorales, music21.__version__)
    return chorales


def split_chorales(
    names: Sequence[str],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    salt: str = "lstmkit-chorales",
) -> dict[str, np.ndarray]:
    """A fixed ``train``/``validation``/``test`` split of pieces, by a hash of each name.

    Each name is hashed (SHA-256 of ``"{salt}:{name}"``) to a number ``u`` in ``[0, 1)``;
    ``u < f_train`` goes to train, ``u < f_train + f_validation`` to validation, the rest
    to test. A piece's split depends only on its name and the salt, never on the order or
    the number of names, so adding chorales never moves old ones. The proportions hold
    on average only; a few names may leave a split empty.

    Returns:
        ``{"train": idx, "validation": idx, "test": idx}``, ascending int64 index arrays
        into ``names`` that are disjoint and together cover every index.
    """
    if len(fractions) != 3 or any(not f > 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"split fractions must be three positive numbers summing to 1, got {tuple(fractions)}"
        )
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if list(names).count(n) > 1})
        raise ValueError(f"chorale names must be unique to split by name, repeated: {repeated[:5]}")
    bounds = np.cumsum(np.asarray(fractions, dtype=np.float64))[:2]
    position = np.array([
        int.from_bytes(hashlib.sha256(f"{salt}:{name}".encode()).digest()[:8], "big") / 2.0**64
        for name in names
    ], dtype=np.float64)
    which = np.searchsorted(bounds, position, side="right")  # 0 train, 1 validation, 2 test
    return {split: np.flatnonzero(which == i).astype(np.int64) for i, split in enumerate(SPLITS)}
