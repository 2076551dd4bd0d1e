"""Long-time-lag problems as a trainable task: ``lstmkit train memory --task NAME``.

The problems, their generators, success criteria and memoryless baselines live in
`lstmkit.tasks.longlag` (Hochreiter & Schmidhuber 1997's adding, multiplication,
temporal order, embedded Reber grammar and noise-free long-lag tasks, and the copy
memory task of Arjovsky et al. 2016). This module trains any of them:

- **Data is generated, never stored**: training sequence ``i`` is drawn from a
  generator seeded by ``(data.seed, i)`` when a batch asks for it, so a training set of
  a million sequences costs no memory, a batch is the same however it is split into
  micro-batches or processes, and runs are reproducible and resumable. With one epoch
  over a large ``data.train_size`` every sequence is new, as in the 1997 paper's on-line
  training. Validation and test sets are fixed draws from their own seeds, the same
  whatever ``train.seed`` is.
- **The model** is any ``model.recurrent`` stack followed by a linear layer applied at
  every step, ``(N, T, F) -> (N, T, O)``; the problem's objective says which outputs are
  read (the last real step, or every step) and with which loss.
- **Metrics**: ``loss`` (the objective's mean) and ``solved``, the fraction of
  sequences that meet the problem's success criterion. ``train.monitor solved`` with
  ``train.monitor_mode max`` and ``train.early_stopping.target 0.99`` stops a run once
  it has learned the task, which is how ``lstmkit sweep`` counts sequences-to-solve.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from ..files import write_text_atomic
from ..train import LossOutput, OptimizerConfig, RunConfig, Task, TrainConfig
from ..train.task import move_to
from .longlag.problems import PROBLEMS, Batch, LongLagProblem
from .recurrent import RecurrentConfig, build_recurrent, recurrent_arguments

ProblemName = Literal[
    "adding", "multiplication", "temporal-order-4", "temporal-order-8", "reber", "long-lag",
    "copy-memory",
]
_SPLIT_OFFSETS = {"validation": 1, "test": 2}
_EVAL_CHUNK = 500  # sequences generated (and run) at a time when evaluating
_CACHE_LIMIT = 50_000_000  # input elements (200 MB) up to which an evaluation set is kept


@dataclass
class MemoryDataConfig:
    """How long the sequences are and how many of them."""

    length: int | None = None
    """Sequence length T, the time lag to bridge (the long-lag task's p, copy memory's
    delay, Reber's longest string); null: the problem's default (the paper's)."""
    train_size: int = 10_000
    """Training sequences per epoch (each generated when needed, never stored)."""
    validation_size: int = 1_000
    """Validation sequences (a fixed draw)."""
    test_size: int = 1_000
    """Test sequences (a fixed draw)."""
    seed: int = 1234
    """Seed of the data generator (independent of train.seed)."""

    def __post_init__(self) -> None:
        for key in ("train_size", "validation_size", "test_size"):
            if getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive, got {getattr(self, key)}")
        if self.length is not None and self.length <= 0:
            raise ValueError(f"data.length must be positive or null, got {self.length}")


@dataclass
class MemoryModelConfig:
    """The model: a recurrent stack and a linear output at every step."""

    recurrent: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=32))
    """The recurrent stack."""


@dataclass
class MemoryConfig:
    """``lstmkit train memory``: a long-time-lag problem."""

    task: ProblemName = "adding"
    """The problem: adding, multiplication, temporal-order-4/-8, reber (embedded Reber
    grammar), long-lag (noise-free, H&S exp. 2a) or copy-memory."""
    model: MemoryModelConfig = field(default_factory=MemoryModelConfig)
    """The model."""
    data: MemoryDataConfig = field(default_factory=MemoryDataConfig)
    """Sequence length and the amount of data."""
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=5, batch_size=64, optimizer=OptimizerConfig(lr=1e-2)))
    """The training loop."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""

    def __post_init__(self) -> None:
        if self.task not in PROBLEMS:
            raise ValueError(f"task must be one of {', '.join(PROBLEMS)}, got {self.task!r}")
        problem, length = PROBLEMS[self.task], self.length
        if length < problem.minimum_length:
            raise ValueError(
                f"data.length must be at least {problem.minimum_length} for {self.task}, got {length}"
            )
        if self.model.recurrent.bidirectional and problem.objective in ("multilabel", "sequence"):
            raise ValueError(
                f"model.recurrent.bidirectional would let the model read the future: {self.task} "
                "predicts at every step"
            )

    @property
    def length(self) -> int:
        """The sequence length in use (``data.length`` or the problem's default)."""
        return self.data.length if self.data.length is not None else PROBLEMS[self.task].default_length


class StepwiseModel(torch.nn.Module):
    """``x (N, T, F)`` → recurrent stack → linear at every step → ``(N, T, O)``.

    ``lengths (N,)``, when given, runs each sequence to its own last step only.
    """

    def __init__(self, input_size: int, output_size: int, recurrent: RecurrentConfig) -> None:
        super().__init__()
        self.recurrent = build_recurrent(input_size, recurrent)
        self.head = torch.nn.Linear(recurrent.output_size, output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        y, _ = self.recurrent(x) if lengths is None else self.recurrent(x, lengths=lengths)
        return self.head(y)  # (N, T, O)


def last_steps(outputs: Tensor, lengths: Tensor) -> Tensor:
    """Each sequence's outputs at its last real step: ``(N, T, O) -> (N, O)``."""
    index = (lengths.to(outputs.device) - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
    return outputs.gather(1, index).squeeze(1)


def objective_loss(problem: LongLagProblem, outputs: Tensor, batch: Batch) -> tuple[Tensor, int, Tensor]:
    """The summed loss, the count it sums over, and what the success criterion reads.

    ``outputs (N, T, O)``. Returns ``(total, count, prediction)`` with ``prediction``
    ``(N,)`` (regression), ``(N, C)`` softmax probabilities (classification),
    ``(N, T, O)`` sigmoid probabilities (multilabel) or logits (sequence).
    """
    outputs = outputs.float()
    n = outputs.shape[0]
    if problem.objective == "regression":
        prediction = last_steps(outputs, batch.lengths)[:, 0]  # (N,)
        return ((prediction - batch.targets) ** 2).sum(), n, prediction
    if problem.objective == "classification":
        logits = last_steps(outputs, batch.lengths)  # (N, C)
        total = torch.nn.functional.cross_entropy(logits, batch.targets, reduction="sum")
        return total, n, logits.softmax(dim=-1)
    mask = batch.target_mask  # (N, T)
    if problem.objective == "multilabel":
        per_step = torch.nn.functional.binary_cross_entropy_with_logits(
            outputs, batch.targets, reduction="none"
        ).sum(-1)  # (N, T)
        prediction = outputs.sigmoid()
    else:
        per_step = torch.nn.functional.cross_entropy(
            outputs.transpose(1, 2), batch.targets, reduction="none"
        )  # (N, T)
        prediction = outputs
    return per_step[mask].sum(), int(mask.sum()), prediction


def batch_seed(seed: int, *parts: object) -> int:
    """A 63-bit generator seed from ``seed`` and ``parts`` (stable across runs and machines)."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class GeneratedSequences(torch.utils.data.Dataset):
    """``size`` training sequences; item ``i`` is a one-sequence `Batch` drawn from a
    generator seeded by ``(data.seed, "train", i)``, computed when asked for."""

    def __init__(self, task: MemoryTask, size: int) -> None:
        self.task, self.size = task, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> Batch:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} out of range for {self.size} sequences")
        return self.task.draw(1, batch_seed(self.task.config.data.seed, "train", int(index)))


def concatenate(items: list[Batch]) -> Batch:
    """One `Batch` from several, right-padded to the longest (inputs and targets with
    zeros, the target mask with False)."""
    longest = max(int(item.lengths.max()) for item in items)

    def pad(tensor: Tensor, value: float | bool = 0) -> Tensor:
        if tensor.dim() < 2 or tensor.shape[1] == longest:
            return tensor
        shape = (tensor.shape[0], longest - tensor.shape[1], *tensor.shape[2:])
        return torch.cat([tensor, tensor.new_full(shape, value)], dim=1)

    masks = [item.target_mask for item in items]
    return Batch(
        torch.cat([pad(item.inputs) for item in items]),
        torch.cat([pad(item.targets) for item in items]),
        None if any(mask is None for mask in masks) else torch.cat([pad(mask, False) for mask in masks]),
        torch.cat([item.lengths for item in items]),
    )


class MemoryTask(Task):
    """A long-time-lag problem, trained on line with the problem's objective."""

    name = "memory"

    def __init__(self, config: MemoryConfig) -> None:
        super().__init__(config)
        self.problem = PROBLEMS[config.task]
        self.unit = "sequences" if self.problem.objective in ("regression", "classification") else "steps"
        self._cache: dict[str, list[Batch]] = {}

    # -- data -----------------------------------------------------------------------

    def draw(self, n: int, seed: int) -> Batch:
        """``n`` sequences of the configured problem from a generator seeded with ``seed``."""
        generator = torch.Generator().manual_seed(seed)
        return self.problem.generate(n, self.config.length, generator)

    def train_data(self) -> GeneratedSequences:
        return GeneratedSequences(self, self.config.data.train_size)

    def collate(self, items: list[Batch]) -> Batch:
        return concatenate(items)

    def split_batches(self, split: str) -> list[Batch]:
        """The fixed validation or test set, in chunks of up to 500 sequences."""
        if split not in _SPLIT_OFFSETS:
            raise ValueError(f"split must be validation or test, got {split!r}")
        if split in self._cache:
            return self._cache[split]
        data = self.config.data
        size = data.validation_size if split == "validation" else data.test_size
        chunks = [
            self.draw(min(_EVAL_CHUNK, size - start), batch_seed(data.seed, split, start))
            for start in range(0, size, _EVAL_CHUNK)
        ]
        if sum(chunk.inputs.numel() for chunk in chunks) <= _CACHE_LIMIT:
            self._cache[split] = chunks
        return chunks

    # -- model and loss -------------------------------------------------------------

    def build_model(self) -> torch.nn.Module:
        length = self.config.length
        return StepwiseModel(
            self.problem.input_size(length), self.problem.output_size(length),
            self.config.model.recurrent,
        )

    def _run(self, model: torch.nn.Module, batch: Batch) -> Tensor:
        variable = batch.target_mask is not None and bool((batch.lengths != batch.lengths[0]).any())
        return model(batch.inputs, batch.lengths if variable else None)

    def loss(self, model, batch: Batch, state=None) -> LossOutput:
        total, count, _ = objective_loss(self.problem, self._run(model, batch), batch)
        return LossOutput(total, count)

    def evaluate(self, model, split: str) -> dict[str, float]:
        device = next(model.parameters()).device
        total, count, solved, sequences = 0.0, 0, 0, 0
        for chunk in self.split_batches(split):
            chunk = move_to(chunk, device)
            loss, n, prediction = objective_loss(self.problem, self._run(model, chunk), chunk)
            total, count = total + float(loss), count + n
            solved += int(self.problem.solved(prediction, chunk).sum())
            sequences += chunk.inputs.shape[0]
        return {"loss": total / count, "solved": solved / sequences}

    def baseline(self) -> float | None:
        """The memoryless predictor's loss at this length (None where undefined)."""
        return None if self.problem.baseline is None else self.problem.baseline(self.config.length)

    def model_arguments(self) -> dict:
        length = self.config.length
        return {
            "input_size": self.problem.input_size(length),
            "output_size": self.problem.output_size(length),
            "recurrent": recurrent_arguments(self.config.model.recurrent),
        }

    def report(self, model: torch.nn.Module, run_dir: Path) -> list[str]:
        metrics = self.evaluate(model, "test")
        baseline = self.baseline()
        lines = [
            f"{self.config.task}, T = {self.config.length}, test ({self.config.data.test_size} sequences):",
            f"  loss    {metrics['loss']:.5g}"
            + ("" if baseline is None else f"   (memoryless baseline {baseline:.5g})"),
            f"  solved  {metrics['solved']:.1%} of the sequences",
        ]
        write_text_atomic(run_dir / "report.txt", "\n".join(lines) + "\n")
        return lines

