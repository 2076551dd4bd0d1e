"""MIDI files from piano rolls and back: Standard MIDI Files in and out through music21.

A roll is the ``(T, 88)`` 0/1 matrix of :mod:`lstmkit.data.pianoroll` (key ``k`` is MIDI
note ``LOWEST_PITCH + k``, ``steps_per_quarter`` frames per quarter note). Writing
(`roll_to_midi_bytes`, `write_midi`) builds a music21 stream of notes and lets
``music21.midi.translate`` encode it. Reading (`read_midi_roll`) uses music21's
low-level MIDI event reader and pairs note-ons with note-offs itself, because the
conversion to notation splits overlapping notes into voices and ties that ``stripTies``
then joins wrongly (a random roll came back with notes moved); the notes then go onto
the frame grid by the rule `lstmkit.data.pianoroll.score_to_roll` uses.

A roll cannot tell a note repeated in consecutive frames from one held across them, so
every run of consecutive active frames of a key is written as one held note; reading the
file back gives the same roll, because that is the only way to draw a held note. MIDI
keeps the time before the first note but nothing after the last note ends, so reading
drops trailing silent frames: ``read_midi_roll(write_midi(p, x, spq), spq)`` equals
``x[:last_active_frame + 1]`` (and an empty ``(0, 88)`` roll when ``x`` is silent).

This module is on the data floor: numpy and music21 (imported lazily) only.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..files import write_atomic
from .pianoroll import KEYS, LOWEST_PITCH, _place  # _place: score_to_roll's grid
from .validation import check_positive_int

__all__ = [
    "VELOCITY",
    "read_midi_roll",
    "roll_to_midi_bytes",
    "write_midi",
]

VELOCITY = 80  # every written note has this loudness; a binary roll has no dynamics


def _check_roll(roll: object) -> np.ndarray:
    if not isinstance(roll, np.ndarray):
        raise TypeError(f"roll must be a numpy array (T, {KEYS}), got {type(roll).__name__}")
    if roll.ndim != 2 or roll.shape[1] != KEYS:
        raise ValueError(f"roll must be (T, {KEYS}) with one column per piano key, got {roll.shape}")
    if roll.dtype != np.bool_ and not np.issubdtype(roll.dtype, np.number):
        raise TypeError(f"roll must hold numbers or booleans, got dtype {roll.dtype}")
    bad = np.argwhere((roll != 0) & (roll != 1))
    if len(bad):
        t, k = bad[0]
        raise ValueError(
            f"roll must hold only 0 and 1, got {roll[t, k]!r} at frame {t}, key {k}; "
            "threshold or sample probabilities first"
        )
    return roll.astype(bool)


def _check_bpm(bpm: float) -> float:
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not 0 < bpm < math.inf:
        raise ValueError(f"bpm must be a positive number of quarter notes per minute, got {bpm!r}")
    return float(bpm)


def roll_to_midi_bytes(
    roll: np.ndarray, steps_per_quarter: int, *, bpm: float = 90.0, program: int = 0
) -> bytes:
    """A Standard MIDI File (format 1, one piano track) playing ``roll``.

    Each run of consecutive active frames of a key becomes one note held for the run
    (a roll cannot distinguish a repeated note from a held one), at velocity `VELOCITY`.

    Args:
        roll: ``(T, 88)`` of 0/1 (bool or any number type holding only 0 and 1).
        steps_per_quarter: frames per quarter note.
        bpm: tempo, quarter notes per minute.
        program: General MIDI program, 0..127 (0: acoustic grand piano).
    """
    from music21 import instrument, note, stream, tempo
    from music21.midi import translate

    active = _check_roll(roll)
    spq = check_positive_int("steps_per_quarter", steps_per_quarter)
    bpm = _check_bpm(bpm)
    if isinstance(program, bool) or not isinstance(program, (int, np.integer)) or not (
        0 <= program <= 127
    ):
        raise ValueError(f"program must be a General MIDI program 0..127, got {program!r}")
    part = stream.Part()
    player = instrument.Instrument()
    player.midiProgram = int(program)
    part.insert(0, player)
    part.insert(0, tempo.MetronomeMark(number=bpm))
    # Pad a silent frame on both sides so every run has a rise (+1) and a fall (-1).
    padded = np.zeros((active.shape[0] + 2, KEYS), dtype=np.int8)
    padded[1:-1] = active
    change = np.diff(padded, axis=0)  # (T + 1, 88)
    for key in np.flatnonzero(active.any(axis=0)):
        starts = np.flatnonzero(change[:, key] == 1)
        stops = np.flatnonzero(change[:, key] == -1)
        for start, stop in zip(starts, stops):
            sounding = note.Note(LOWEST_PITCH + int(key))
            sounding.quarterLength = Fraction(int(stop - start), spq)
            sounding.volume.velocity = VELOCITY
            part.insert(Fraction(int(start), spq), sounding)
    return translate.streamToMidiFile(stream.Score([part])).writestr()


def write_midi(
    path: str | os.PathLike,
    roll: np.ndarray,
    steps_per_quarter: int,
    *,
    bpm: float = 90.0,
    program: int = 0,
) -> Path:
    """Write `roll_to_midi_bytes` of ``roll`` to ``path`` atomically; returns the path."""
    data = roll_to_midi_bytes(roll, steps_per_quarter, bpm=bpm, program=program)
    return write_atomic(path, lambda handle: handle.write(data))


def _midi_notes(midi_file) -> list[tuple[int, Fraction, Fraction]]:
    """``(MIDI pitch, onset, end)`` in quarter notes of every note in every track.

    A note-off (or a note-on of velocity 0) ends the earliest sounding note of its
    channel and pitch; a note still sounding when its track ends stops there. Channel 10,
    General MIDI's percussion, is skipped: its note numbers name drums, not pitches.
    """
    from music21 import midi

    ticks = midi_file.ticksPerQuarterNote
    notes = []
    for track in midi_file.tracks:
        tick = 0
        sounding: dict[tuple[int, int], list[int]] = {}
        for event in track.events:
            if isinstance(event, midi.DeltaTime):
                tick += event.time
            elif event.isNoteOn() and event.channel != 10:
                sounding.setdefault((event.channel, event.pitch), []).append(tick)
            elif event.isNoteOff() and sounding.get((event.channel, event.pitch)):
                onset = sounding[(event.channel, event.pitch)].pop(0)
                notes.append((event.pitch, Fraction(onset, ticks), Fraction(tick, ticks)))
        for (_, pitch), onsets in sounding.items():
            notes.extend((pitch, Fraction(onset, ticks), Fraction(tick, ticks)) for onset in onsets)
    return notes


def read_midi_roll(path: str | os.PathLike, steps_per_quarter: int) -> np.ndarray:
    """The ``(T, 88)`` uint8 roll of a MIDI file, all tracks, trailing silence dropped.

    The note events are read as stored (music21's low-level MIDI reader, without its
    quantisation or its conversion to notation, which splits overlapping notes into ties
    and voices) and placed on the frame grid by `score_to_roll`'s rule (short notes
    kept). A file written by `write_midi` at the same ``steps_per_quarter`` therefore
    reads back as the roll it was written from, up to trailing silent frames.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a Standard MIDI File, or plays a note outside A0..C8.
    """
    from music21 import midi

    spq = check_positive_int("steps_per_quarter", steps_per_quarter)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MIDI file {path} does not exist")
    data = path.read_bytes()
    if not data.startswith(b"MThd"):
        raise ValueError(f"{path} is not a Standard MIDI File (it does not start with 'MThd')")
    midi_file = midi.MidiFile()
    try:
        midi_file.readstr(data)
    except (midi.MidiException, IndexError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a readable MIDI file: {error}") from None
    if not midi_file.ticksPerQuarterNote:
        raise ValueError(f"{path} counts time in SMPTE frames, not ticks per quarter note")
    # Length 0: the roll ends with the last note's last frame, so trailing silence is gone.
    return _place(_midi_notes(midi_file), 0, spq, True, f"{path}: ")
