"""The sequence classifier: padding never changes a prediction, the poolings, the task
end to end on small synthetic files, ``lstmkit predict``, and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_helpers import fit, one_line_error, run_cli

from lstmkit.tasks import RecurrentConfig
from lstmkit.tasks.classify.model import POOLINGS, SequenceClassifier, step_mask
from lstmkit.tasks.classify.task import (
    ClassifyConfig,
    ClassifyDataConfig,
    ClassifyModelConfig,
    ClassifyTask,
)
from lstmkit.train import OptimizerConfig, RunConfig, TrainConfig

RECURRENTS = [
    RecurrentConfig(hidden_size=6),
    RecurrentConfig(hidden_size=6, bidirectional=True, num_layers=2),
    RecurrentConfig(hidden_size=6, bidirectional=True, peephole=True, layer_norm=True),
    RecurrentConfig(cell="gru", hidden_size=6, bidirectional=True),
]


def _ragged(rng, lengths, features):
    return [torch.from_numpy(rng.standard_normal((n, features)).astype(np.float32)) for n in lengths]


# -- the model ----------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("recurrent", RECURRENTS, ids=["lstm", "bi2", "bi-peephole-ln", "bigru"])
def test_garbage_padding_does_not_change_predictions(pooling, recurrent):
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    model = SequenceClassifier(3, recurrent, input_size=4, pooling=pooling).eval()
    lengths = [5, 2, 7, 1]
    sequences = _ragged(rng, lengths, 4)
    alone = torch.cat([model(s[None], torch.tensor([len(s)])) for s in sequences])
    padded = torch.from_numpy(rng.standard_normal((4, 9, 4)).astype(np.float32)) * 100  # garbage
    for row, s in enumerate(sequences):
        padded[row, : len(s)] = s
    batched = model(padded, torch.tensor(lengths))
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_token_padding_does_not_change_predictions(pooling):
    torch.manual_seed(0)
    model = SequenceClassifier(
        2, RecurrentConfig(hidden_size=5, bidirectional=True), vocab_size=11, embedding_size=4,
        pooling=pooling,
    ).eval()
    tokens = torch.tensor([[3, 4, 5, 9, 9, 9], [7, 1, 2, 3, 4, 5]])
    garbage = tokens.clone()
    garbage[0, 3:] = torch.tensor([10, 2, 6])
    lengths = torch.tensor([3, 6])
    torch.testing.assert_close(model(tokens, lengths), model(garbage, lengths))
    torch.testing.assert_close(model(tokens[:1, :3], lengths[:1]), model(garbage, lengths)[:1])


def test_attention_weights_sum_to_one_over_real_steps_only():
    torch.manual_seed(0)
    model = SequenceClassifier(2, RecurrentConfig(hidden_size=4), input_size=3, pooling="attention")
    inputs, lengths = torch.randn(3, 6, 3), torch.tensor([6, 2, 4])
    outputs, mask, _ = model.encode(inputs, lengths)
    weights = model.attention.weights(outputs, mask)
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    assert torch.all(weights[~mask] == 0)
    assert torch.all(weights[mask] > 0)


def test_poolings_match_their_definitions():
    torch.manual_seed(0)
    inputs, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    for pooling in ("mean", "max", "last"):
        model = SequenceClassifier(
            2, RecurrentConfig(hidden_size=4, bidirectional=True), input_size=3, pooling=pooling,
        )
        outputs, mask, final = model.encode(inputs, lengths)
        pooled = model.pool(outputs, mask, final)
        row = outputs[1, :3]
        expected = {"mean": row.mean(0), "max": row.amax(0)}.get(pooling)
        if pooling == "last":  # forward's output at the end beside backward's at step 1
            expected = torch.cat([row[-1, :4], row[0, 4:]])
        torch.testing.assert_close(pooled[1], expected)


def test_step_mask_and_model_arguments_are_checked():
    assert step_mask(torch.tensor([2, 0, 3]), 3).tolist() == [
        [True, True, False], [False, False, False], [True, True, True],
    ]
    with pytest.raises(ValueError, match="exactly one of input_size"):
        SequenceClassifier(2, RecurrentConfig(), input_size=3, vocab_size=5)
    with pytest.raises(ValueError, match="pooling"):
        SequenceClassifier(2, RecurrentConfig(), input_size=3, pooling="median")
    with pytest.raises(ValueError, match="at least 2 classes"):
        SequenceClassifier(1, RecurrentConfig(), input_size=3)


# -- the task on synthetic files -------------------------------------------------------------


def write_npz(path, n=240, seed=0, labels=True, features=3):
    """Class = which feature carries a positive bump (3 classes); lengths 4..12."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, 13, n)
    x = rng.standard_normal((n, 12, features)).astype(np.float32) * 0.5
    y = rng.integers(0, 3, n)
    for i in range(n):
        x[i, : lengths[i], y[i]] += 1.5
        x[i, lengths[i]:] = 0.0
    arrays = {"x": x, "lengths": lengths}
    if labels:
        arrays["y"] = np.array(["low", "mid", "high"])[y]
    np.savez(path, **arrays)
    return path


def write_texts(path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    words = ["the", "film", "was", "a", "plot", "it", "and"]
    rows = ["text,label"]
    for _ in range(n):
        label = int(rng.integers(0, 2))
        body = list(rng.choice(words, int(rng.integers(3, 8))))
        body.insert(int(rng.integers(0, len(body))), ["awful", "great"][label])
        rows.append(f"{' '.join(body)},{['neg', 'pos'][label]}")
    path.write_text("\n".join(rows) + "\n")
    return path


def classify_config(dataset, root, *, epochs=12, model=None, **data) -> ClassifyConfig:
    return ClassifyConfig(
        model=ClassifyModelConfig(**{"recurrent": RecurrentConfig(hidden_size=16, bidirectional=True),
                                     **(model or {})}),
        data=ClassifyDataConfig(dataset=str(dataset), **data),
        train=TrainConfig(epochs=epochs, batch_size=16, monitor="accuracy", monitor_mode="max",
                          optimizer=OptimizerConfig(name="adam", lr=1e-2)),
        run=RunConfig(root=str(root), progress="lines", tensorboard=False, plots=False),
    )


def test_task_learns_synthetic_sequences_and_reports(tmp_path):
    config = classify_config(write_npz(tmp_path / "bumps.npz"), tmp_path / "runs")
    task = ClassifyTask(config)
    trainer, result = fit(config, task)
    assert result.metrics["accuracy"] > 0.9
    model = task.build_model()
    model.load_state_dict(trainer.model.state_dict())
    lines = task.report(model.eval(), tmp_path)
    report = json.loads((tmp_path / "classification.json").read_text())
    assert set(report["metrics"]) == {"lstm", "majority", "logistic regression (mean+last)"}
    assert report["classes"] == ["high", "low", "mid"]
    assert np.asarray(report["confusion"]).sum() == report["test_size"] == len(task.split("test"))
    assert report["metrics"]["lstm"]["accuracy"] > report["metrics"]["majority"]["accuracy"]
    assert (tmp_path / "confusion.png").read_bytes().startswith(b"\x89PNG")
    assert any("confusion matrix" in line for line in lines)


def test_splits_are_stratified_disjoint_and_statistics_come_from_training(tmp_path):
    config = classify_config(write_npz(tmp_path / "bumps.npz"), tmp_path / "runs")
    task = ClassifyTask(config)
    sizes = {name: len(task.split(name)) for name in ("train", "validation", "test")}
    assert sizes == {"train": 192, "validation": 24, "test": 24}
    train = task.raw_splits()["train"]
    real = np.arange(train.values.shape[1])[None, :] < train.lengths[:, None]
    np.testing.assert_allclose(task.metadata()["mean"], train.values[real].mean(0), rtol=1e-5)
    encoded = task.split("train")
    assert torch.all(encoded.inputs[~torch.from_numpy(real)] == 0)


def test_text_classifier_learns_the_keyword(tmp_path):
    config = classify_config(
        write_texts(tmp_path / "reviews.csv"), tmp_path / "runs", epochs=8, min_freq=1,
        model={"pooling": "attention", "embedding_size": 8},
    )
    task = ClassifyTask(config)
    _, result = fit(config, task)
    assert task.metadata()["kind"] == "text"
    assert result.metrics["accuracy"] > 0.9


def test_predict_cli_classifies_files_and_texts_and_never_overwrites(tmp_path):
    data = write_npz(tmp_path / "bumps.npz")
    root = tmp_path / "runs"
    done = run_cli([
        "train", "classify", "--data.dataset", str(data), "--run.root", str(root),
        "--run.progress", "lines", "--run.tensorboard", "false", "--run.plots", "false",
        "--train.epochs", "10", "--train.optimizer.lr", "0.01",
        "--model.recurrent.hidden_size", "16",
    ])
    assert done.returncode == 0, done.stderr
    assert "logistic regression" in done.stdout
    run_dir = next(root.iterdir())
    unlabelled = write_npz(tmp_path / "new.npz", n=30, seed=5, labels=False)
    output = tmp_path / "predictions.csv"
    done = run_cli(["predict", str(run_dir), "--input", str(unlabelled), "--output", str(output), "--json"])
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[0])
    assert len(printed["predictions"]) == 30 and printed["accuracy"] is None
    rows = output.read_text().splitlines()
    assert rows[0] == "index,prediction,p_high,p_low,p_mid" and len(rows) == 31
    again = run_cli(["predict", str(run_dir), "--input", str(unlabelled), "--output", str(output)])
    assert again.returncode == 1 and "exists" in one_line_error(again.stderr)
    labelled = run_cli(["predict", str(run_dir), "--input", str(write_npz(tmp_path / "l.npz", n=30, seed=6))])
    assert labelled.returncode == 0, labelled.stderr
    assert "accuracy on the 30 labelled sequences" in labelled.stdout
    # A labelled file with only some classes, in another order, is scored by class name.
    # (its only class 'mid' is the file's class 0 but the training run's class 2)
    x = np.zeros((2, 5, 3), np.float32)
    partial = tmp_path / "partial.npz"
    np.savez(partial, x=x, y=np.array(["mid", "mid"]))
    done = run_cli(["predict", str(run_dir), "--input", str(partial), "--json"])
    assert done.returncode == 0, done.stderr
    assert {row["label"] for row in json.loads(done.stdout)["predictions"]} == {"mid"}
    wrong = run_cli(["predict", str(run_dir), "--text", "[\"hello\"]"])
    assert wrong.returncode == 2 and "numeric-sequence classifier" in one_line_error(wrong.stderr)


def test_bad_inputs_give_one_clear_line(tmp_path):
    root = tmp_path / "runs"
    np.savez(tmp_path / "nolabels.npz", x=np.zeros((4, 3, 2), np.float32))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("sequence,a,b,label\n1,0.1,0.2,x\n1,0.3\n2,0.1,0.2,y\n")
    other = tmp_path / "other.npz"
    np.savez(other, x=np.ones((3, 4, 3), np.float32), y=np.array(["low", "mid", "zzz"]))
    train_file = write_npz(tmp_path / "bumps.npz")
    cases = [
        (["--data.dataset", str(tmp_path / "nolabels.npz")], "y"),
        (["--data.dataset", str(ragged)], "ragged.csv"),
        (["--data.dataset", str(tmp_path / "missing.npz")], "not found"),
        (["--data.dataset", "imagenet"], "neither a built-in dataset"),
        (["--data.dataset", str(train_file), "--model.pooling", "median"], "pooling"),
        (["--data.dataset", str(train_file), "--data.test", str(other)], "zzz"),
    ]
    for options, expected in cases:
        done = run_cli(["train", "classify", "--run.root", str(root), *options])
        assert done.returncode != 0, options
        assert expected in one_line_error(done.stderr), (options, done.stderr)
    assert not root.exists() or not any(root.iterdir())
