"""Piano rolls: score -> roll quantisation, the chorale corpus and its cache, the split,
and the piano-roll plot. Only a handful of chorales are ever parsed. MIDI files are
tested in test_data_midi.py."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.pianoroll import (
    KEYS,
    LOWEST_PITCH,
    PianoRolls,
    bach_chorales,
    score_to_roll,
    split_chorales,
)
from lstmkit.tasks.music.plot import note_name, plot_piano_roll

music21 = pytest.importorskip("music21")


def _key(name: str) -> int:
    return music21.pitch.Pitch(name).midi - LOWEST_PITCH


def _note(name: str, quarters: float):
    sounding = music21.note.Note(name)
    sounding.quarterLength = quarters
    return sounding


def _hand_built_score():
    """Two parts, offsets and lengths in quarter notes.

    upper: C4 [0, 1); chord E4+G4 [1, 3); rest [3, 4); D4 [4, 6) written as two tied
    quarters; rest; F4 sixteenth [6.25, 6.5); B3 eighth [6.5, 7); a grace note at 7;
    rest [7, 8). lower: C3 whole note [0, 4); rest; A2 half note [5, 7); rest [7, 8).
    """
    upper = music21.stream.Part()
    upper.append(music21.meter.TimeSignature("4/4"))
    upper.insert(0, _note("C4", 1))
    upper.insert(1, music21.chord.Chord(["E4", "G4"], quarterLength=2))
    upper.insert(3, music21.note.Rest(quarterLength=1))
    first, second = _note("D4", 1), _note("D4", 1)
    first.tie, second.tie = music21.tie.Tie("start"), music21.tie.Tie("stop")
    upper.insert(4, first)
    upper.insert(5, second)
    upper.insert(6, music21.note.Rest(quarterLength=0.25))
    upper.insert(6.25, _note("F4", 0.25))
    upper.insert(6.5, _note("B3", 0.5))
    upper.insert(7, _note("A4", 1).getGrace())
    upper.insert(7, music21.note.Rest(quarterLength=1))
    lower = music21.stream.Part()
    lower.insert(0, _note("C3", 4))
    lower.insert(4, music21.note.Rest(quarterLength=1))
    lower.insert(5, _note("A2", 2))
    lower.insert(7, music21.note.Rest(quarterLength=1))
    return music21.stream.Score([upper, lower])


def test_score_to_roll_matches_a_hand_written_roll_at_two_steps_per_quarter():
    expected = np.zeros((16, KEYS), dtype=np.uint8)  # 8 quarter notes x 2 frames
    expected[0:2, _key("C4")] = 1
    expected[2:6, [_key("E4"), _key("G4")]] = 1
    expected[8:12, _key("D4")] = 1  # the tie is one held note
    expected[12, _key("F4")] = 1  # [12.5, 13) starts no frame: it keeps the one it begins in
    expected[13, _key("B3")] = 1
    expected[0:8, _key("C3")] = 1
    expected[10:14, _key("A2")] = 1
    # frames 14, 15: the closing rest; the grace note adds nothing
    roll = score_to_roll(_hand_built_score(), 2)
    assert roll.dtype == np.uint8
    np.testing.assert_array_equal(roll, expected)
    # Sampling at the frame starts instead drops the sixteenth, and only it.
    expected[12, _key("F4")] = 0
    np.testing.assert_array_equal(score_to_roll(_hand_built_score(), 2, keep_short_notes=False), expected)


def test_score_to_roll_merges_ties_that_measures_create():
    # A half note across the barline of 4/4 becomes two tied quarters in measures.
    part = music21.stream.Part()
    part.append(music21.meter.TimeSignature("4/4"))
    part.insert(0, music21.note.Rest(quarterLength=3))
    part.insert(3, _note("G4", 2))
    part.insert(5, music21.note.Rest(quarterLength=3))
    measured = part.makeMeasures()
    measured.makeTies(inPlace=True)
    tied = [n for n in measured.flatten().notes if n.tie is not None]
    assert len(tied) == 2  # the split really happened
    roll = score_to_roll(measured, 1)
    assert roll.shape == (8, KEYS)
    np.testing.assert_array_equal(np.flatnonzero(roll[:, _key("G4")]), [3, 4])
    assert roll.sum() == 2


def test_a_tie_from_a_short_note_is_one_note_starting_off_the_grid():
    # An off-beat eighth tied to a quarter sounds over [0.5, 2): frame 1 only. Unmerged,
    # the eighth alone would start no frame and claim frame 0 as a short note.
    part = music21.stream.Part([music21.note.Rest(quarterLength=0.5)])
    first, second = _note("A3", 0.5), _note("A3", 1)
    first.tie, second.tie = music21.tie.Tie("start"), music21.tie.Tie("stop")
    part.append([first, second])
    roll = score_to_roll(part, 1)
    assert roll.shape == (2, KEYS)
    np.testing.assert_array_equal(np.flatnonzero(roll[:, _key("A3")]), [1])


def test_a_real_chorale_has_four_voices_in_the_satb_range():
    score = music21.corpus.parse("bach/bwv66.6")
    roll = score_to_roll(score, 1, keep_short_notes=False)
    assert roll.shape == (int(score.highestTime), KEYS)
    voices = roll.sum(axis=1)
    assert voices.max() == 4  # sampled at the beats: four voices, fewer in unisons
    assert voices.min() >= 3 and np.mean(voices == 4) >= 0.6  # (tenor and bass meet on A3)
    used = np.flatnonzero(roll.any(axis=0)) + LOWEST_PITCH
    assert used.min() >= music21.pitch.Pitch("C2").midi
    assert used.max() <= music21.pitch.Pitch("C6").midi
    # Keeping short notes folds the off-beat eighths into the beat's frame.
    folded = score_to_roll(score, 1)
    assert folded.sum(axis=1).max() > 4
    assert np.all(folded >= roll)
    # At four steps per quarter no note of this chorale is short: both rules agree.
    finer = score_to_roll(score, 4)
    assert finer.shape == (4 * roll.shape[0], KEYS)
    np.testing.assert_array_equal(finer, score_to_roll(score, 4, keep_short_notes=False))
    np.testing.assert_array_equal(finer[::4], roll)


def test_bach_chorales_caches_and_reloads_without_parsing(tmp_path, monkeypatch):
    first = bach_chorales(1, cache_dir=tmp_path, limit=3)
    assert first.names == ["bwv269", "bwv347", "bwv153.1"]  # Riemenschneider 1, 2, 3
    assert len(first) == 3 and first.steps_per_quarter == 1
    assert all(r.shape[1] == KEYS and r.shape[0] > 10 and r.dtype == np.uint8 for r in first.rolls)
    assert all(r.sum(axis=1).max() == 4 for r in first.rolls)  # sung parts only, sampled
    direct = score_to_roll(music21.corpus.parse("bach/bwv347"), 1, keep_short_notes=False)
    np.testing.assert_array_equal(first.rolls[1], direct)
    cached = sorted(p.name for p in tmp_path.iterdir())
    assert len(cached) == 1 and cached[0].endswith(".npz") and "spq1" in cached[0]
    assert music21.__version__ in cached[0]

    def no_parsing(*args, **kwargs):
        raise AssertionError("the corpus was parsed again")

    monkeypatch.setattr(music21.corpus, "parse", no_parsing)
    again = bach_chorales(1, cache_dir=tmp_path, limit=3)
    assert again.names == first.names
    for a, b in zip(first.rolls, again.rolls):
        np.testing.assert_array_equal(a, b)
    # Another quantisation, or another music21 version, is another file: it parses.
    with pytest.raises(AssertionError, match="parsed again"):
        bach_chorales(2, cache_dir=tmp_path, limit=3)
    monkeypatch.setattr(music21, "__version__", "0.0.1")
    with pytest.raises(AssertionError, match="parsed again"):
        bach_chorales(1, cache_dir=tmp_path, limit=3)


def test_bach_chorales_rolls_the_sung_parts_once_per_distinct_chorale(tmp_path, monkeypatch):
    from lstmkit.data import pianoroll

    files = ["bach/bwv8.6", "bach/bwv281", "bach/bwv62.6", "bach/bwv274"]
    monkeypatch.setattr(pianoroll, "_chorale_files", lambda limit: files[:limit])
    chorales = bach_chorales(2, cache_dir=tmp_path, limit=4)
    # bwv274 sounds exactly the notes of bwv62.6: kept once.
    assert chorales.names == ["bwv8.6", "bwv281", "bwv62.6"]
    with_continuo = music21.corpus.parse("bach/bwv8.6")
    assert [p.partName for p in with_continuo.parts][-1] == "Continuo"
    sung = music21.stream.Score(list(with_continuo.parts)[:4])
    np.testing.assert_array_equal(chorales.rolls[0], score_to_roll(sung, 2, keep_short_notes=False))
    unnamed = music21.corpus.parse("bach/bwv281")  # four parts without names: all are sung
    np.testing.assert_array_equal(chorales.rolls[1], score_to_roll(unnamed, 2, keep_short_notes=False))


def test_bach_chorales_uses_the_cache_directory_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", str(tmp_path))
    chorales = bach_chorales(2, limit=1)
    assert chorales.names == ["bwv269"]
    (cache,) = tmp_path.iterdir()
    assert cache.name.startswith("bach-chorales-spq2-")


def test_an_unreadable_cache_file_is_named(tmp_path):
    bach_chorales(1, cache_dir=tmp_path, limit=1)
    (cache,) = tmp_path.iterdir()
    cache.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=cache.name):
        bach_chorales(1, cache_dir=tmp_path, limit=1)


def test_piano_rolls_subset_and_checks():
    rolls = [np.zeros((t, KEYS), np.uint8) for t in (3, 5, 7)]
    pieces = PianoRolls(["a", "b", "c"], rolls, 1)
    picked = pieces.subset(np.array([2, 0]))
    assert len(picked) == 2 and picked.names == ["c", "a"]
    assert picked.rolls[0] is rolls[2]
    with pytest.raises(IndexError, match="index 3"):
        pieces.subset([3])
    with pytest.raises(ValueError, match="one roll per name"):
        PianoRolls(["a"], rolls, 1)
    with pytest.raises(ValueError, match="unique"):
        PianoRolls(["a", "a", "b"], rolls, 1)
    with pytest.raises(ValueError, match=r"\(T, 88\)"):
        PianoRolls(["a"], [np.zeros((3, 87))], 1)


def test_split_is_disjoint_complete_order_free_and_roughly_proportional():
    names = [f"bwv{i}.{i % 7}" for i in range(371)]
    parts = split_chorales(names)
    assert set(parts) == {"train", "validation", "test"}
    together = np.concatenate(list(parts.values()))
    assert sorted(together.tolist()) == list(range(371))  # disjoint and complete
    sizes = {name: len(index) for name, index in parts.items()}
    assert 0.74 * 371 <= sizes["train"] <= 0.86 * 371
    assert 0.05 * 371 <= sizes["validation"] <= 0.15 * 371
    assert 0.05 * 371 <= sizes["test"] <= 0.15 * 371

    order = np.random.default_rng(0).permutation(371)
    shuffled = [names[i] for i in order]
    reparts = split_chorales(shuffled)
    for split in parts:
        assert {shuffled[i] for i in reparts[split]} == {names[i] for i in parts[split]}
    # A subset keeps its members where they were.
    few = split_chorales(names[:40])
    for split in parts:
        assert {names[i] for i in few[split]} == {names[i] for i in parts[split] if i < 40}
    salted = split_chorales(names, salt="another")
    assert not np.array_equal(salted["test"], parts["test"])


def test_split_rejects_bad_fractions_and_repeated_names():
    with pytest.raises(ValueError, match="fractions"):
        split_chorales(["a", "b"], (0.8, 0.3, 0.1))
    with pytest.raises(ValueError, match="fractions"):
        split_chorales(["a", "b"], (1.0, 0.0))
    with pytest.raises(ValueError, match="'a'"):
        split_chorales(["a", "b", "a"])


def _sparse_roll(frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    roll = np.zeros((frames, KEYS), dtype=np.uint8)
    for _ in range(frames // 2):
        key = rng.integers(20, 70)
        start = rng.integers(3, frames - 4)  # leading and trailing silence
        roll[start: start + rng.integers(1, 6), key] = 1
    roll[10:14, 40] = 1  # held ...
    roll[15:16, 40] = 1  # ... a one-frame gap, then again
    roll[10:12, 41] = 1  # a neighbour key at the same time
    roll[frames - 4:, :] = 0
    return roll


@pytest.mark.parametrize("pitch", ["G#0", "C#8"])
def test_a_pitch_outside_the_piano_is_an_error(pitch):
    part = music21.stream.Part([_note("C4", 1)])
    part.insert(1, _note(pitch, 1))
    with pytest.raises(ValueError, match=rf"{pitch}.*offset 1.0.*A0\.\.C8"):
        score_to_roll(part, 1)
    extremes = music21.stream.Part([_note("A0", 1), _note("C8", 1)])
    roll = score_to_roll(extremes, 1)
    assert roll[0, 0] == 1 and roll[1, KEYS - 1] == 1


def test_note_names_at_the_cs():
    assert [note_name(p) for p in (21, 59, 60, 61, 108)] == ["A0", "B3", "C4", "C#4", "C8"]


def test_plot_writes_a_png_atomically(tmp_path):
    roll = _sparse_roll(40, seed=7)
    probabilities = np.random.default_rng(1).random(roll.shape) * 0.3
    path = plot_piano_roll(
        tmp_path / "roll.png", roll, 2, title="sample", probabilities=probabilities
    )
    assert path == tmp_path / "roll.png"
    assert path.read_bytes().startswith(b"\x89PNG")
    plot_piano_roll(tmp_path / "plain.png", np.zeros((8, KEYS), np.uint8), 1, title="silence")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.png", "roll.png"]


def test_plot_bad_input_is_named(tmp_path):
    roll = np.zeros((8, KEYS), np.uint8)
    with pytest.raises(ValueError, match=r"probabilities.*\(8, 88\).*\(8, 87\)"):
        plot_piano_roll(tmp_path / "a.png", roll, 1, title="t", probabilities=np.zeros((8, 87)))
    with pytest.raises(ValueError, match="frame 2, key 3"):
        bad = np.zeros((8, KEYS))
        bad[2, 3] = 1.5
        plot_piano_roll(tmp_path / "a.png", roll, 1, title="t", probabilities=bad)
    with pytest.raises(ValueError, match="steps_per_quarter"):
        plot_piano_roll(tmp_path / "a.png", roll, 0, title="t")
    with pytest.raises(ValueError, match="lowest_pitch"):
        plot_piano_roll(tmp_path / "a.png", roll, 1, title="t", lowest_pitch=60)
    assert list(tmp_path.iterdir()) == []
