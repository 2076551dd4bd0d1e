"""The trainer's loop through the API, on toy tasks the tests define.

Optimisers and schedules, gradient clipping (pre-clip norm logged), early stopping,
truncated BPTT (state carried and reset), bf16 autocast with float32 master weights,
and the loop's own errors.
"""

from __future__ import annotations

import math

import pytest
import torch

import lstmkit
from lstmkit.data import Chunk
from lstmkit.train import (
    EarlyStoppingConfig,
    LossOutput,
    OptimizerConfig,
    RunConfig,
    ScheduleConfig,
    Task,
    TrainConfig,
    Trainer,
    TrainingError,
)
from lstmkit.train.metrics_log import read_metrics
from lstmkit.train.optim import build_optimizer, build_scheduler, lr_factor


class RegressionTask(Task):
    """Predict the sum of a sequence's features from the LSTM's last output."""

    name = "toy"

    def __init__(self, size=64, length=6, evaluate_to=None):
        super().__init__(config=None)
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(size, length, 3, generator=generator)
        self.y = self.x.sum(dim=(1, 2))
        self.evaluate_to = evaluate_to
        self.autocast_seen = []

    def build_model(self):
        return torch.nn.ModuleDict({
            "lstm": lstmkit.LSTM(3, 8, batch_first=True, peephole=True),
            "head": torch.nn.Linear(8, 1),
        })

    def train_data(self):
        return torch.utils.data.TensorDataset(self.x, self.y)

    def _predict(self, model, x):
        model = getattr(model, "module", model)
        y, _ = model["lstm"](x)
        return model["head"](y[:, -1]).squeeze(-1)

    def loss(self, model, batch, state=None):
        x, y = batch
        self.autocast_seen.append(torch.is_autocast_enabled("cpu"))
        prediction = self._predict(model, x)
        return LossOutput(((prediction.float() - y) ** 2).sum(), y.shape[0])

    def evaluate(self, model, split):
        if self.evaluate_to is not None:
            return {"loss": self.evaluate_to}
        prediction = self._predict(model, self.x)
        return {"loss": float(((prediction.float() - self.y) ** 2).mean())}


def _train(task, tmp_path, **overrides):
    run = RunConfig(root=str(tmp_path), progress="lines", tensorboard=False, plots=False)
    settings = {"epochs": 2, "batch_size": 16, "log_every": 1, "device": "cpu"}
    settings.update(overrides)
    config = TrainConfig(**settings)
    trainer = Trainer(task, config, run, full_config={"train": {}})
    return trainer, trainer.fit()


@pytest.mark.parametrize(
    "optimizer, kind",
    [
        (OptimizerConfig(name="sgd", lr=0.1, momentum=0.9, nesterov=True), torch.optim.SGD),
        (OptimizerConfig(name="adam", lr=0.01, betas=(0.8, 0.9)), torch.optim.Adam),
        (OptimizerConfig(name="adamw", lr=0.01, weight_decay=0.1), torch.optim.AdamW),
        (OptimizerConfig(name="rmsprop", lr=0.01, alpha=0.9, momentum=0.5), torch.optim.RMSprop),
    ],
)
def test_optimizers_are_built_with_their_hyper_parameters(optimizer, kind):
    parameter = torch.nn.Parameter(torch.zeros(2))
    built = build_optimizer([parameter], optimizer)
    assert type(built) is kind
    group = built.param_groups[0]
    assert group["lr"] == optimizer.lr
    if kind is torch.optim.SGD:
        assert group["nesterov"] and group["momentum"] == 0.9
    if kind is torch.optim.Adam:
        assert tuple(group["betas"]) == (0.8, 0.9)
    if kind is torch.optim.AdamW:
        assert group["weight_decay"] == 0.1
    if kind is torch.optim.RMSprop:
        assert group["alpha"] == 0.9 and group["momentum"] == 0.5


def test_schedule_factors():
    warm = ScheduleConfig(name="constant", warmup_steps=4)
    assert [lr_factor(s, config=warm, total_steps=10) for s in range(6)] == [0.25, 0.5, 0.75, 1, 1, 1]
    step = ScheduleConfig(name="step", step_size=3, gamma=0.1)
    assert [lr_factor(s, config=step, total_steps=10) for s in (0, 2, 3, 6)] == pytest.approx([1, 1, 0.1, 0.01])
    cosine = ScheduleConfig(name="cosine", warmup_steps=2, min_lr_ratio=0.1)
    assert lr_factor(2, config=cosine, total_steps=12) == pytest.approx(1.0)
    assert lr_factor(7, config=cosine, total_steps=12) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(12, config=cosine, total_steps=12) == pytest.approx(0.1)


def test_plateau_schedule_decays_when_the_metric_stalls():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    scheduler = build_scheduler(optimizer, ScheduleConfig(name="plateau", patience=1, gamma=0.5),
                                total_steps=10, mode="min")
    for value in (1.0, 1.0, 1.0):
        scheduler.step(value)
    assert optimizer.param_groups[0]["lr"] == 0.5


def test_loss_falls_and_lr_follows_the_schedule(tmp_path):
    task = RegressionTask()
    _, result = _train(
        task, tmp_path, epochs=6, optimizer=OptimizerConfig(lr=0.05),
        schedule=ScheduleConfig(name="cosine", warmup_steps=3),
    )
    assert result.losses[-1] < 0.5 * result.losses[0]
    rows = [r for r in read_metrics(result.run_dir / "metrics.csv") if r["metric"] == "lr"]
    lrs = [float(r["value"]) for r in rows]
    # the logged rate is the one of the next step: warm-up to the peak, then down.
    assert lrs[0] == pytest.approx(0.05 * 2 / 3)
    assert max(lrs) == pytest.approx(0.05)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)


def test_clipping_bounds_the_update_and_logs_the_norm_before_clipping(tmp_path):
    task = RegressionTask()
    clip = 1e-3
    trainer, result = _train(
        task, tmp_path, epochs=1, max_steps=1, seed=0, clip_norm=clip,
        optimizer=OptimizerConfig(name="sgd", lr=1.0),
    )
    torch.manual_seed(0)
    model_before = task.build_model()
    with torch.no_grad():
        change = torch.sqrt(sum(
            ((a - b) ** 2).sum()
            for a, b in zip(trainer.model.parameters(), model_before.parameters())
        ))
    assert float(change) == pytest.approx(clip, rel=1e-4)
    norms = [float(r["value"]) for r in read_metrics(result.run_dir / "metrics.csv") if r["metric"] == "grad_norm"]
    assert norms[0] > 100 * clip


def test_early_stopping_after_patience_evaluations_without_improvement(tmp_path):
    task = RegressionTask(evaluate_to=1.0)
    _, result = _train(
        task, tmp_path, epochs=50, eval_every=1, early_stopping=EarlyStoppingConfig(patience=2),
    )
    assert result.reason == "early_stopping"
    assert result.step == 3  # best at step 1, no improvement at 2 and 3


@pytest.mark.parametrize("mode, target, expected_step", [
    ("min", 1.0, 1),      # the metric is 1.0 from the first evaluation: at most 1.0 is reached
    ("min", 0.99, 5),     # never reached: the run goes to its end
    ("max", 1.0, 1),
    ("max", 1.01, 5),
])
def test_early_stopping_target_stops_at_the_first_evaluation_that_reaches_it(tmp_path, mode, target, expected_step):
    _, result = _train(
        RegressionTask(evaluate_to=1.0), tmp_path, epochs=5, max_steps=5, eval_every=1,
        monitor_mode=mode, early_stopping=EarlyStoppingConfig(target=target),
    )
    assert result.step == expected_step
    assert result.reason == ("target_reached" if expected_step == 1 else "max_steps")


def test_missing_monitored_metric_is_an_error(tmp_path):
    with pytest.raises(TrainingError, match="train.monitor is 'accuracy'"):
        _train(RegressionTask(), tmp_path, epochs=1, monitor="accuracy")


def test_empty_dataset_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        _train(RegressionTask(size=0), tmp_path)


def test_bf16_autocasts_the_forward_and_keeps_float32_weights(tmp_path):
    task = RegressionTask()
    trainer, result = _train(task, tmp_path, epochs=4, precision="bf16", optimizer=OptimizerConfig(lr=0.05))
    assert task.autocast_seen and all(task.autocast_seen)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert all(math.isfinite(loss) for loss in result.losses)
    assert result.losses[-1] < result.losses[0]


def test_float32_does_not_autocast(tmp_path):
    task = RegressionTask()
    _train(task, tmp_path, epochs=1)
    assert task.autocast_seen and not any(task.autocast_seen)


class StreamTask(Task):
    """Truncated BPTT: predict the running sum of each document's inputs.

    Records, for every chunk, the state it received and the state it returned.
    """

    name = "stream"
    unit = "steps"

    def __init__(self, lengths=(11, 7, 15), hidden=5):
        super().__init__(config=None)
        generator = torch.Generator().manual_seed(1)
        self.documents = []
        for length in lengths:
            x = torch.randn(length, 2, generator=generator)
            self.documents.append((x, x.sum(-1).cumsum(0)))
        self.hidden = hidden
        self.records = []

    def build_model(self):
        return torch.nn.ModuleDict({
            "lstm": lstmkit.LSTM(2, self.hidden, batch_first=True, cifg=True),
            "head": torch.nn.Linear(self.hidden, 1),
        })

    def train_data(self):
        return self.documents

    def loss(self, model, chunk, state=None):
        assert isinstance(chunk, Chunk)
        received = None if state is None else tuple(s.clone() for s in state)
        grads = None if state is None else [s.requires_grad for s in state]
        y, new_state = model["lstm"](chunk.inputs, state)
        prediction = model["head"](y).squeeze(-1)
        error = ((prediction - chunk.targets) ** 2)[chunk.mask]
        self.records.append((chunk.reset.clone(), received, grads, tuple(s.detach().clone() for s in new_state)))
        return LossOutput(error.sum(), int(chunk.mask.sum()), new_state)

    def evaluate(self, model, split):
        return {"loss": 0.0}


def test_truncated_bptt_carries_detached_state_and_resets_at_documents(tmp_path):
    task = StreamTask()
    _, result = _train(task, tmp_path, epochs=2, batch_size=2, bptt=4, optimizer=OptimizerConfig(lr=0.01))
    chunks_per_epoch = len(task.records) // 2
    assert result.step == 2 * chunks_per_epoch
    for index, (reset, received, grads, _) in enumerate(task.records):
        if index % chunks_per_epoch == 0:
            assert received is None  # fresh state at every epoch
            continue
        previous = task.records[index - 1][3]
        assert grads == [False, False]  # detached: gradients stop at the chunk boundary
        for carried, before in zip(received, previous):
            assert torch.equal(carried[:, ~reset], before[:, ~reset])
            assert not carried[:, reset].any()
    assert any(bool(record[0].any()) for record in task.records[1:chunks_per_epoch])


def test_truncated_bptt_with_one_long_chunk_equals_full_sequences(tmp_path):
    # bptt longer than every document: each document is one chunk and a fresh state,
    # so the first step's loss is the mean over documents of the full-sequence loss.
    task = StreamTask(lengths=(6, 6))
    _, result = _train(task, tmp_path, epochs=1, batch_size=2, bptt=10, seed=4, max_steps=1)
    torch.manual_seed(4)
    reference_model = task.build_model()
    errors = []
    for x, target in task.documents:
        y, _ = reference_model["lstm"](x[None])
        errors.append((reference_model["head"](y).squeeze(-1)[0] - target) ** 2)
    expected = float(torch.cat(errors).mean().detach())
    assert result.losses[0] == pytest.approx(expected, rel=1e-6)


def test_max_time_stops_after_the_step_that_reaches_it_and_still_evaluates(tmp_path):
    _, result = _train(RegressionTask(), tmp_path, epochs=50, max_time=1e-6)
    assert result.reason == "max_time"
    assert result.step == 1  # the first step already ends past a microsecond
    assert "loss" in result.metrics  # the final evaluation ran
    with pytest.raises(ValueError, match="train.max_time must be a positive number, got 0.0"):
        TrainConfig(max_time=0.0)
