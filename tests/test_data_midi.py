"""lstmkit.data.midi: piano rolls to Standard MIDI Files and back, and bad input named.

The roll and score builders are shared with test_data_pianoroll.py (imported from it, so
each is written once)."""

from __future__ import annotations

import numpy as np
import pytest
from test_data_pianoroll import _hand_built_score, _sparse_roll

from lstmkit.data.midi import read_midi_roll, roll_to_midi_bytes, write_midi
from lstmkit.data.pianoroll import KEYS, score_to_roll

music21 = pytest.importorskip("music21")


@pytest.mark.parametrize("spq", [1, 2, 4])
def test_midi_round_trip_gives_the_roll_back(tmp_path, spq):
    roll = _sparse_roll(48, seed=spq)
    path = write_midi(tmp_path / "piece.mid", roll, spq, bpm=120.0)
    assert path == tmp_path / "piece.mid"
    assert path.read_bytes().startswith(b"MThd")
    assert [p.name for p in tmp_path.iterdir()] == ["piece.mid"]  # no temporary file left
    back = read_midi_roll(path, spq)
    last = np.flatnonzero(roll.any(axis=1))[-1]
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, roll[: last + 1])  # leading silence kept


def test_midi_round_trip_of_bool_and_silent_rolls_and_the_program(tmp_path):
    roll = np.zeros((6, KEYS), dtype=bool)
    roll[2:5, [39, 43, 46]] = True  # a C major triad after two silent frames
    data = roll_to_midi_bytes(roll, 1, program=40)
    (tmp_path / "triad.mid").write_bytes(data)
    np.testing.assert_array_equal(read_midi_roll(tmp_path / "triad.mid", 1), roll[:5])
    events = music21.midi.MidiFile()
    events.readstr(data)
    programs = {
        e.data for track in events.tracks for e in track.events
        if e.type == music21.midi.ChannelVoiceMessages.PROGRAM_CHANGE
    }
    assert programs == {40}
    silent = write_midi(tmp_path / "silent.mid", np.zeros((5, KEYS), np.uint8), 2)
    assert read_midi_roll(silent, 2).shape == (0, KEYS)


def test_midi_bad_input_is_named(tmp_path):
    roll = np.zeros((4, KEYS), np.uint8)
    with pytest.raises(ValueError, match=r"\(T, 88\).*\(4, 87\)"):
        write_midi(tmp_path / "x.mid", np.zeros((4, 87), np.uint8), 1)
    wrong = roll.astype(float)
    wrong[3, 5] = 0.5
    with pytest.raises(ValueError, match="frame 3, key 5"):
        roll_to_midi_bytes(wrong, 1)
    for spq in (0, -2):
        with pytest.raises(ValueError, match="steps_per_quarter"):
            roll_to_midi_bytes(roll, spq)
        with pytest.raises(ValueError, match="steps_per_quarter"):
            score_to_roll(_hand_built_score(), spq)
    with pytest.raises(TypeError, match="steps_per_quarter"):
        roll_to_midi_bytes(roll, 1.5)
    with pytest.raises(ValueError, match="bpm"):
        roll_to_midi_bytes(roll, 1, bpm=0.0)
    with pytest.raises(ValueError, match="program"):
        roll_to_midi_bytes(roll, 1, program=128)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="missing.mid"):
        read_midi_roll(tmp_path / "missing.mid", 1)
    (tmp_path / "text.mid").write_text("hello")
    with pytest.raises(ValueError, match="text.mid"):
        read_midi_roll(tmp_path / "text.mid", 1)
