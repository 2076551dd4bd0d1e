"""The memory task: every long-lag problem trains on line with its own objective."""

from __future__ import annotations

import math

import pytest
import torch
from train_helpers import fit, memory_config

from lstmkit.tasks.longlag import PROBLEMS, Batch
from lstmkit.tasks.memory import (
    MemoryConfig,
    MemoryDataConfig,
    MemoryModelConfig,
    MemoryTask,
    batch_seed,
    concatenate,
    last_steps,
    objective_loss,
)
from lstmkit.tasks.recurrent import RecurrentConfig
from lstmkit.train import TrainConfig

SMALL_LENGTH = {
    "adding": 12, "multiplication": 12, "temporal-order-4": 20, "temporal-order-8": 20,
    "reber": 20, "long-lag": 6, "copy-memory": 4,
}


def config_for(task: str, length: int | None = None, **recurrent) -> MemoryConfig:
    return MemoryConfig(
        task=task,
        model=MemoryModelConfig(RecurrentConfig(hidden_size=8, **recurrent)),
        data=MemoryDataConfig(length=length or SMALL_LENGTH[task], train_size=64,
                              validation_size=40, test_size=24),
    )


# --- objectives against hand computations --------------------------------------------


def test_last_steps_reads_each_sequence_at_its_own_end():
    outputs = torch.arange(2 * 4 * 3, dtype=torch.float32).view(2, 4, 3)
    picked = last_steps(outputs, torch.tensor([4, 2]))
    torch.testing.assert_close(picked, torch.stack([outputs[0, 3], outputs[1, 1]]))


def test_regression_objective_is_summed_squared_error_at_the_last_step():
    problem = PROBLEMS["adding"]
    outputs = torch.randn(3, 5, 1, generator=torch.Generator().manual_seed(0))
    batch = Batch(torch.zeros(3, 5, 2), torch.tensor([0.2, 0.5, 0.9]), None, torch.full((3,), 5))
    total, count, prediction = objective_loss(problem, outputs, batch)
    expected = sum((float(outputs[n, -1, 0]) - t) ** 2 for n, t in enumerate([0.2, 0.5, 0.9]))
    assert count == 3 and float(total) == pytest.approx(expected, rel=1e-6)
    torch.testing.assert_close(prediction, outputs[:, -1, 0])


def test_classification_objective_reads_the_last_real_step():
    problem = PROBLEMS["temporal-order-4"]
    outputs = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([6, 3])
    mask = torch.arange(6) == (lengths[:, None] - 1)
    batch = Batch(torch.zeros(2, 6, 8), torch.tensor([2, 0]), mask, lengths)
    total, count, prediction = objective_loss(problem, outputs, batch)
    logits = torch.stack([outputs[0, 5], outputs[1, 2]])
    expected = -(logits.log_softmax(-1)[0, 2] + logits.log_softmax(-1)[1, 0])
    assert count == 2 and float(total) == pytest.approx(float(expected), rel=1e-6)
    torch.testing.assert_close(prediction, logits.softmax(-1))


def test_multilabel_objective_sums_binary_cross_entropy_over_real_steps():
    problem = PROBLEMS["reber"]
    outputs = torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(2))
    targets = (torch.rand(2, 3, 7, generator=torch.Generator().manual_seed(3)) > 0.5).float()
    mask = torch.tensor([[True, True, True], [True, False, False]])
    batch = Batch(torch.zeros(2, 3, 7), targets, mask, torch.tensor([3, 1]))
    total, count, prediction = objective_loss(problem, outputs, batch)
    p = outputs.sigmoid()
    per = -(targets * p.log() + (1 - targets) * (1 - p).log()).sum(-1)  # (2, 3)
    assert count == 4 and float(total) == pytest.approx(float(per[mask].sum()), rel=1e-5)
    torch.testing.assert_close(prediction, p)


def test_sequence_objective_is_mean_cross_entropy_per_step():
    problem = PROBLEMS["copy-memory"]
    outputs = torch.randn(2, 4, 10, generator=torch.Generator().manual_seed(4))
    targets = torch.tensor([[0, 1, 2, 3], [9, 8, 7, 6]])
    batch = Batch(torch.zeros(2, 4, 10), targets, torch.ones(2, 4, dtype=torch.bool), torch.full((2,), 4))
    total, count, _ = objective_loss(problem, outputs, batch)
    logp = outputs.log_softmax(-1)
    expected = -sum(float(logp[n, t, targets[n, t]]) for n in range(2) for t in range(4))
    assert count == 8 and float(total) == pytest.approx(expected, rel=1e-6)


# --- on-line data ---------------------------------------------------------------------


def test_training_sequences_are_drawn_per_index_and_never_stored():
    task = MemoryTask(config_for("adding"))
    data = task.train_data()
    assert len(data) == 64
    first, again = data[3], data[3]
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.targets, again.targets)
    assert not torch.equal(data[3].inputs, data[4].inputs)
    # A batch is its items side by side, however it is split.
    batch = task.collate([data[3], data[1], data[2]])
    torch.testing.assert_close(batch.inputs[1:], task.collate([data[1], data[2]]).inputs)
    torch.testing.assert_close(batch.inputs[0], data[3].inputs[0])
    reseeded = MemoryTask(MemoryConfig(task="adding", data=MemoryDataConfig(length=12, seed=5)))
    assert not torch.equal(first.inputs, reseeded.train_data()[3].inputs)
    assert batch_seed(1, "train", 2) == batch_seed(1, "train", 2) < 2**63
    with pytest.raises(IndexError):
        data[64]


def test_variable_length_items_are_padded_when_collated():
    task = MemoryTask(config_for("temporal-order-4"))
    data = task.train_data()
    items = [data[i] for i in range(12)]
    lengths = [int(item.lengths[0]) for item in items]
    assert len(set(lengths)) > 1
    batch = task.collate(items)
    longest = max(lengths)
    assert batch.inputs.shape == (12, longest, 8) and batch.target_mask.shape == (12, longest)
    for n, item in enumerate(items):
        torch.testing.assert_close(batch.inputs[n, : lengths[n]], item.inputs[0])
        assert (batch.inputs[n, lengths[n]:] == 0).all()
        assert batch.target_mask[n].nonzero().flatten().tolist() == [lengths[n] - 1]
    reber = MemoryTask(config_for("reber")).train_data()
    merged = concatenate([reber[0], reber[1]])
    assert merged.targets.shape[:2] == merged.target_mask.shape


def test_evaluation_sets_are_fixed_chunks_independent_of_the_training_seed():
    config = config_for("temporal-order-4")
    config.data.validation_size = 1200
    task = MemoryTask(config)
    chunks = task.split_batches("validation")
    assert [c.inputs.shape[0] for c in chunks] == [500, 500, 200]
    assert task.split_batches("validation") is chunks  # small enough to keep
    config.train = TrainConfig(seed=7)
    again = MemoryTask(config).split_batches("validation")
    assert all(torch.equal(a.inputs, b.inputs) for a, b in zip(chunks, again))
    test = task.split_batches("test")
    assert not torch.equal(test[0].inputs[:24], chunks[0].inputs[:24])
    with pytest.raises(ValueError, match="split must be validation or test"):
        task.split_batches("train")


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_every_problem_builds_trains_and_evaluates(name):
    task = MemoryTask(config_for(name))
    model = task.build_model()
    batch = task.collate([task.train_data()[i] for i in range(5)])
    out = task.loss(model, batch)
    assert out.total.requires_grad and math.isfinite(out.total.item())
    out.total.backward()
    with torch.no_grad():
        metrics = task.evaluate(model.eval(), "validation")
    assert set(metrics) == {"loss", "solved"} and 0 <= metrics["solved"] <= 1
    assert math.isfinite(metrics["loss"])
    args = task.model_arguments()
    assert args["input_size"] == PROBLEMS[name].input_size(SMALL_LENGTH[name])


def test_padding_does_not_change_a_variable_length_prediction():
    task = MemoryTask(config_for("temporal-order-4"))
    torch.manual_seed(0)
    model = task.build_model().eval()
    batch = task.collate([task.train_data()[i] for i in range(16)])
    assert len(set(batch.lengths.tolist())) > 1
    with torch.no_grad():
        together = objective_loss(task.problem, task._run(model, batch), batch)[2]
        for n in range(4):
            alone = Batch(batch.inputs[n:n + 1, : int(batch.lengths[n])], batch.targets[n:n + 1],
                          None, batch.lengths[n:n + 1])
            single = model(alone.inputs)[:, -1].softmax(-1)
            torch.testing.assert_close(together[n:n + 1], single, atol=1e-5, rtol=1e-5)


def test_an_lstm_learns_the_short_adding_problem_and_stops_at_the_target(tmp_path):
    config = memory_config(
        tmp_path, train={"epochs": 30, "batch_size": 16, "optimizer": {"lr": 1e-2},
                         "eval_every": 25, "monitor": "solved", "monitor_mode": "max"},
        recurrent={"hidden_size": 16}, data={"length": 6, "train_size": 400, "validation_size": 200},
    )
    config.train.early_stopping.target = 0.9
    _, result = fit(config, MemoryTask(config))
    assert result.reason == "target_reached"
    assert result.metrics["solved"] >= 0.9
    assert result.step < 30 * 25  # stopped before the budget ran out


# --- configuration errors --------------------------------------------------------------


def test_config_errors_name_the_option():
    with pytest.raises(ValueError, match="data.length must be at least 6 for adding"):
        config_for("adding", length=5)
    with pytest.raises(ValueError, match="task must be one of"):
        MemoryConfig(task="parity")
    with pytest.raises(ValueError, match="bidirectional would let the model read the future"):
        config_for("copy-memory", bidirectional=True)
    assert config_for("adding", bidirectional=True).model.recurrent.bidirectional
    with pytest.raises(ValueError, match="data.length must be positive or null"):
        MemoryDataConfig(length=0)
    assert MemoryConfig(task="long-lag").length == 100  # the paper's default
