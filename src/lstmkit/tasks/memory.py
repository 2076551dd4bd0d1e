"""Long-time-lag memory problems as a trainable task: ``lstmkit train memory``.

For now the adding problem of Hochreiter & Schmidhuber (1997, experiment 4):

- each step carries two features: a value ``X(t)`` drawn uniformly from ``[-1, 1]``
  and a marker; exactly two steps are marked with 1, the first among the first 10
  steps, the second among the first ``T/2 - 1``; the first and last steps carry the
  marker -1 when they are not marked (as in the paper);
- the target, read after the last step, is ``0.5 + (X1 + X2) / 4`` (in ``[0, 1]``);
- a sequence counts as solved when the absolute error is below 0.04.

Always predicting the mean target (0.5) gives an MSE of ``Var((X1 + X2) / 4) = 1/24``
(about 0.042) and almost no solved sequences, which is where a plain RNN stays at long
lags. Training, validation and test sets are drawn from one generator seeded by
``data.seed``, so they are the same whatever ``train.seed`` is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from ..train import LossOutput, OptimizerConfig, RunConfig, Task, TrainConfig
from .recurrent import RecurrentConfig, build_recurrent, recurrent_arguments

SOLVED_ERROR = 0.04  # |prediction - target| below this counts as solved (1997 paper)
MEAN_PREDICTOR_MSE = 1.0 / 24.0  # Var(0.5 + (X1 + X2) / 4) with X ~ U[-1, 1]
_SPLIT_OFFSETS = {"train": 0, "validation": 1, "test": 2}


def adding_problem(n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` sequences of the adding problem.

    Returns:
        ``x (n, T, 2)`` (value, marker) and ``y (n,)`` the target ``0.5 + (X1 + X2) / 4``.
    """
    if length < 6:
        raise ValueError(f"data.length must be at least 6 for the adding problem, got {length}")
    values = torch.rand(n, length, generator=generator) * 2 - 1  # (n, T) in [-1, 1)
    half = length // 2 - 1
    first = torch.randint(0, min(10, half), (n,), generator=generator)
    # The second marker is drawn among the other positions below T/2 - 1.
    second = torch.randint(0, half - 1, (n,), generator=generator)
    second = second + (second >= first).long()
    markers = torch.zeros(n, length)
    markers[:, 0] = -1.0
    markers[:, -1] = -1.0
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = 0.5 + (values[rows, first] + values[rows, second]) / 4
    return torch.stack([values, markers], dim=-1), targets  # (n, T, 2), (n,)


@dataclass
class MemoryDataConfig:
    """Which memory problem and how much of it."""

    problem: Literal["adding"] = "adding"
    """The problem: adding (Hochreiter & Schmidhuber 1997)."""
    length: int = 50
    """Sequence length T (the time lag to bridge)."""
    train_size: int = 10_000
    """Training sequences (one epoch)."""
    validation_size: int = 1_000
    """Validation sequences."""
    test_size: int = 1_000
    """Test sequences."""
    seed: int = 1234
    """Seed of the data generator (independent of train.seed)."""

    def __post_init__(self) -> None:
        for key in ("length", "train_size", "validation_size", "test_size"):
            if getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive, got {getattr(self, key)}")


@dataclass
class MemoryModelConfig:
    """The model: a recurrent stack read at its last step, then a linear output."""

    recurrent: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=32))
    """The recurrent stack."""


@dataclass
class MemoryConfig:
    """``lstmkit train memory``: a long-time-lag problem."""

    model: MemoryModelConfig = field(default_factory=MemoryModelConfig)
    """The model."""
    data: MemoryDataConfig = field(default_factory=MemoryDataConfig)
    """The problem and the amount of data."""
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=5, batch_size=64, optimizer=OptimizerConfig(lr=1e-2)))
    """The training loop."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""


class LastStepRegressor(torch.nn.Module):
    """``x (N, T, F)`` → recurrent stack → last step's output → linear → ``(N,)``."""

    def __init__(self, input_size: int, recurrent: RecurrentConfig) -> None:
        super().__init__()
        self.recurrent = build_recurrent(input_size, recurrent)
        self.head = torch.nn.Linear(recurrent.output_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        y, _ = self.recurrent(x)  # (N, T, D*H_out)
        return self.head(y[:, -1]).squeeze(-1)  # (N,)


class MemoryTask(Task):
    """The adding problem, trained with mean squared error."""

    name = "memory"
    unit = "sequences"

    def __init__(self, config: MemoryConfig) -> None:
        super().__init__(config)
        self._splits: dict[str, tuple[Tensor, Tensor]] = {}

    def _split(self, split: str) -> tuple[Tensor, Tensor]:
        if split not in _SPLIT_OFFSETS:
            raise ValueError(f"split must be train, validation or test, got {split!r}")
        if split not in self._splits:
            data = self.config.data
            size = {"train": data.train_size, "validation": data.validation_size, "test": data.test_size}[split]
            generator = torch.Generator().manual_seed(data.seed * 3 + _SPLIT_OFFSETS[split])
            self._splits[split] = adding_problem(size, data.length, generator)
        return self._splits[split]

    def build_model(self) -> torch.nn.Module:
        return LastStepRegressor(2, self.config.model.recurrent)

    def train_data(self) -> torch.utils.data.Dataset:
        return torch.utils.data.TensorDataset(*self._split("train"))

    def loss(self, model, batch, state=None) -> LossOutput:
        x, y = batch
        prediction = model(x)
        return LossOutput(((prediction.float() - y) ** 2).sum(), y.shape[0])

    def evaluate(self, model, split: str) -> dict[str, float]:
        x, y = self._split(split)
        device = next(model.parameters()).device
        predictions = torch.cat([model(xb.to(device)).float().cpu() for xb in x.split(1024)])
        error = predictions - y
        return {
            "loss": float((error**2).mean()),
            "solved": float((error.abs() < SOLVED_ERROR).float().mean()),
        }

    def model_arguments(self) -> dict:
        return {"input_size": 2, "recurrent": recurrent_arguments(self.config.model.recurrent)}
