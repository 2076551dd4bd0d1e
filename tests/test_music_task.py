"""The polyphonic music task: the likelihood and its baselines by hand, sampling, and
``lstmkit train music`` / ``lstmkit compose`` end to end on a few real chorales."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from train_helpers import one_line_error, run_cli

from lstmkit.data.midi import read_midi_roll
from lstmkit.tasks import RecurrentConfig
from lstmkit.tasks.music.baselines import baseline_nll_per_step, fit_baselines
from lstmkit.tasks.music.model import PianoRollModel, frames_nll
from lstmkit.tasks.music.task import pad_rolls


def test_inputs_are_the_previous_frames_after_a_silent_start():
    rolls = torch.arange(12.0).view(1, 3, 4)
    shifted = PianoRollModel.shift(rolls)
    assert shifted[0, 0].tolist() == [0, 0, 0, 0]
    assert torch.equal(shifted[0, 1:], rolls[0, :2])


def test_nll_sums_keys_over_real_frames_only():
    torch.manual_seed(0)
    logits, rolls = torch.randn(2, 4, 3), (torch.rand(2, 4, 3) > 0.5).float()
    lengths = torch.tensor([4, 2])
    expected = sum(
        float(F.binary_cross_entropy_with_logits(logits[n, :k], rolls[n, :k], reduction="sum"))
        for n, k in enumerate(lengths.tolist())
    )
    assert float(frames_nll(logits, rolls, lengths)) == pytest.approx(expected, rel=1e-6)


def test_model_likelihood_ignores_padding_and_sampling_is_seeded():
    torch.manual_seed(0)
    model = PianoRollModel(6, RecurrentConfig(hidden_size=8)).eval()
    a, b = (torch.rand(5, 6) > 0.6).float(), (torch.rand(3, 6) > 0.6).float()
    padded, lengths = pad_rolls([a.numpy(), b.numpy()])
    padded[1, 3:] = 1.0  # garbage past the end
    with torch.no_grad():
        together = float(model.negative_log_likelihood(padded, lengths))
        alone = sum(
            float(model.negative_log_likelihood(r[None], torch.tensor([len(r)]))) for r in (a, b)
        )
    assert together == pytest.approx(alone, rel=1e-5)
    first, p = model.sample(7, generator=torch.Generator().manual_seed(3), prime=a[:2])
    again, _ = model.sample(7, generator=torch.Generator().manual_seed(3), prime=a[:2])
    assert first.shape == (9, 6) and p.shape == (9, 6) and torch.equal(first, again)
    assert torch.equal(first[:2], a[:2].to(torch.uint8))
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, generator=torch.Generator(), temperature=0)


def test_count_baselines_match_hand_computation():
    train = [np.array([[1, 0], [1, 0], [0, 1]], np.uint8)]
    fitted = fit_baselines(train)
    np.testing.assert_allclose(fitted["key frequency"], [(2 + 1) / 5, (1 + 1) / 5])
    # key 0 before each frame: off, on, on -> after off it came on 1/1, after on 1/2
    np.testing.assert_allclose(fitted["key Markov"][:, 0], [(1 + 1) / (1 + 2), (1 + 1) / (2 + 2)])
    test = [np.array([[1, 0]], np.uint8)]
    scores = baseline_nll_per_step(fitted, test)
    expected = -(math.log(3 / 5) + math.log(1 - 2 / 5))
    assert scores["key frequency"] == pytest.approx(expected)
    markov = fitted["key Markov"]
    assert scores["key Markov"] == pytest.approx(-(math.log(markov[0, 0]) + math.log(1 - markov[0, 1])))


def test_train_music_and_compose_write_a_midi_that_reads_back(tmp_path):
    root, cache = tmp_path / "runs", tmp_path / "cache"
    done = run_cli([
        "train", "music", "--data.limit", "33", "--data.cache_dir", str(cache),
        "--run.root", str(root), "--run.progress", "lines", "--run.tensorboard", "false",
        "--run.plots", "false", "--train.epochs", "3", "--model.recurrent.hidden_size", "16",
    ])
    assert done.returncode == 0, done.stderr
    assert "key Markov" in done.stdout and "NLL/step" in done.stdout
    run_dir = next(root.iterdir())
    report = json.loads((run_dir / "music.json").read_text())
    assert set(report["nll_per_step"]) == {"lstm", "key frequency", "key Markov"}
    out = tmp_path / "pieces"
    done = run_cli(["compose", str(run_dir), "--steps", "24", "--seed", "3", "--output", str(out)])
    assert done.returncode == 0, done.stderr
    midi = out / "compose-seed3-steps24.mid"
    assert midi.read_bytes().startswith(b"MThd")
    assert (out / "compose-seed3-steps24.png").read_bytes().startswith(b"\x89PNG")
    # The notes in the file are the frames the model drew: sample again with the same seed.
    from lstmkit.cli.commands import load_trained

    task, model, _ = load_trained(str(run_dir))
    frames, _ = task.compose(model, 24, 3)
    written = read_midi_roll(midi, 1)
    last = np.flatnonzero(frames.any(1))
    assert last.size and np.array_equal(written, frames[: last[-1] + 1])
    again = run_cli(["compose", str(run_dir), "--steps", "24", "--seed", "3", "--output", str(out)])
    assert again.returncode == 1 and "never overwrites" in one_line_error(again.stderr)
    wrong = run_cli(["translate", str(run_dir), "abc"])
    assert wrong.returncode == 2 and "'seq2seq' checkpoint" in one_line_error(wrong.stderr)
