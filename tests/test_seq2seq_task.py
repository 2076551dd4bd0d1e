"""The sequence-to-sequence task: toy pairs learned end to end, the report, ``lstmkit
translate``, scheduled sampling's schedule, and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_helpers import fit, one_line_error, run_cli

from lstmkit.tasks import RecurrentConfig
from lstmkit.tasks.seq2seq.task import (
    Seq2SeqConfig,
    Seq2SeqDataConfig,
    Seq2SeqModelConfig,
    Seq2SeqTask,
    pad_batch,
)
from lstmkit.tasks.seq2seq.vocabulary import SymbolVocabulary
from lstmkit.train import OptimizerConfig, RunConfig, TrainConfig

LETTERS = "abcde"


def write_pairs(path, n=400, seed=0):
    """Toy G2P: each letter becomes its upper-case 'phoneme', in reverse order."""
    rng = np.random.default_rng(seed)
    seen, lines = set(), []
    while len(lines) < n:
        word = "".join(rng.choice(list(LETTERS), int(rng.integers(2, 6))))
        if word in seen:
            continue
        seen.add(word)
        lines.append(f"{word}\t{' '.join(c.upper() for c in reversed(word))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def seq2seq_config(dataset, root, *, epochs=25, model=None, **data) -> Seq2SeqConfig:
    return Seq2SeqConfig(
        model=Seq2SeqModelConfig(**{
            "encoder": RecurrentConfig(hidden_size=24, bidirectional=True),
            "decoder": RecurrentConfig(hidden_size=32), "embedding_size": 16, "dropout": 0.0,
            "beam_width": 3, **(model or {}),
        }),
        data=Seq2SeqDataConfig(dataset=str(dataset), **data),
        train=TrainConfig(epochs=epochs, batch_size=32, monitor="wer", monitor_mode="min",
                          optimizer=OptimizerConfig(name="adam", lr=1e-2)),
        run=RunConfig(root=str(root), progress="lines", tensorboard=False, plots=False),
    )


def test_vocabulary_specials_and_decoding_stop_at_the_end_symbol():
    vocabulary = SymbolVocabulary(["K", "AE", "T", "AE"])
    assert vocabulary.symbols == ["<pad>", "<s>", "</s>", "<unk>", "AE", "K", "T"]
    assert vocabulary.encode(["K", "Q"]) == [5, 3]
    assert vocabulary.decode([1, 5, 4, 6, 2, 5]) == ["K", "AE", "T"]
    assert "K" in vocabulary and "<s>" not in vocabulary
    assert SymbolVocabulary.from_state_dict(vocabulary.state_dict()).symbols == vocabulary.symbols


def test_pad_batch_adds_prefix_suffix_and_lengths():
    padded, lengths = pad_batch([[5, 6], [7]], prefix=[1], suffix=[2])
    assert padded.tolist() == [[1, 5, 6, 2], [1, 7, 2, 0]]
    assert lengths.tolist() == [4, 3]


def test_task_learns_toy_pairs_and_reports_greedy_and_beam(tmp_path):
    config = seq2seq_config(write_pairs(tmp_path / "toy.tsv"), tmp_path / "runs")
    task = Seq2SeqTask(config)
    trainer, result = fit(config, task)
    assert result.metrics["wer"] < 0.1 and result.metrics["per"] < 0.05
    model = task.build_model()
    model.load_state_dict(trainer.model.state_dict())
    model.eval()
    with torch.no_grad():
        lines = task.report(model, tmp_path)
    report = json.loads((tmp_path / "seq2seq.json").read_text())
    assert set(report["results"]) == {"greedy", "beam 3"}
    assert report["results"]["beam 3"]["wer"] < 0.15
    predictions = (tmp_path / "test_predictions.tsv").read_text().splitlines()
    assert predictions[0] == "source\tprediction\treferences"
    assert len(predictions) - 1 == report["test_sources"]
    assert any("PER" in line for line in lines)


def test_scheduled_sampling_probability_ramps_linearly(tmp_path):
    config = seq2seq_config(
        write_pairs(tmp_path / "toy.tsv", n=60), tmp_path / "runs", epochs=1,
        model={"sampling_probability": 0.4, "sampling_ramp": 10},
    )
    task = Seq2SeqTask(config)
    assert task.sampling_probability() == 0.0
    task._batches_seen = 5
    assert task.sampling_probability() == pytest.approx(0.2)
    task._batches_seen = 50
    assert task.sampling_probability() == pytest.approx(0.4)
    fit(config, task)  # trains with scheduled sampling switched on
    assert task._batches_seen > 0


def test_translate_cli_decodes_words_scores_files_and_refuses_unknown_symbols(tmp_path):
    data = write_pairs(tmp_path / "toy.tsv")
    root = tmp_path / "runs"
    done = run_cli([
        "train", "seq2seq", "--data.dataset", str(data), "--run.root", str(root),
        "--run.progress", "lines", "--run.tensorboard", "false", "--run.plots", "false",
        "--train.epochs", "25", "--train.optimizer.lr", "0.01", "--model.dropout", "0",
        "--model.encoder.hidden_size", "24", "--model.decoder.hidden_size", "32",
        "--model.embedding_size", "16", "--model.beam_width", "3",
    ])
    assert done.returncode == 0, done.stderr
    run_dir = next(root.iterdir())
    words = run_cli(["translate", str(run_dir), "abc", "eed", "--n-best", "2"])
    assert words.returncode == 0, words.stderr
    rows = [line.split("\t") for line in words.stdout.splitlines()]
    assert [row[0] for row in rows] == ["abc", "abc", "eed", "eed"]
    assert rows[0][1] == "C B A" and rows[2][1] == "D E E"
    assert float(rows[0][2]) >= float(rows[1][2])  # n-best in order of score
    scored = tmp_path / "check.tsv"
    scored.write_text("abc\tC B A\ncab\tB A C\n")
    done = run_cli(["translate", str(run_dir), "--input", str(scored), "--beam", "1"])
    assert done.returncode == 0, done.stderr
    assert "PER" in done.stdout and "WER 0.00%" in done.stdout
    unknown = tmp_path / "unknown.tsv"
    unknown.write_text("abc\tC B A\nab\tB QQ\n")
    done = run_cli(["translate", str(run_dir), "--input", str(unknown)])
    assert done.returncode == 2
    message = one_line_error(done.stderr)
    assert "QQ" in message and "line 2" in message
    done = run_cli(["translate", str(run_dir), "xyz"])
    assert done.returncode == 2 and "'x'" in one_line_error(done.stderr)


def test_bad_pair_files_give_one_clear_line(tmp_path):
    root = tmp_path / "runs"
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("abc\tA B C\nabd A B D\n")
    empty_target = tmp_path / "empty.tsv"
    empty_target.write_text("abc\tA B C\nabd\t\n")
    cases = [
        (["--data.dataset", str(ragged)], "line 2"),
        (["--data.dataset", str(empty_target)], "line 2"),
        (["--data.dataset", str(tmp_path / "missing.tsv")], "missing.tsv"),
        (["--data.dataset", "cmudict", "--model.attention", "dot"], "attention"),
        (["--data.dataset", "cmudict", "--model.sampling_probability", "1.5"], "sampling_probability"),
    ]
    for options, expected in cases:
        done = run_cli(["train", "seq2seq", "--run.root", str(root), *options])
        assert done.returncode != 0, options
        assert expected in one_line_error(done.stderr), (options, done.stderr)
    assert not root.exists() or not any(root.iterdir())
