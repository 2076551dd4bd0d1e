"""What a task gives the trainer: a model, data, a loss and metrics.

The trainer knows nothing of language, series or classes. A task (``lstmkit.tasks``)
subclasses `Task` and implements the abstract methods; the trainer does batching,
sharding, BPTT, optimisation, precision, checkpoints and logging around them.

Two kinds of training data:

- a map-style dataset (``__len__`` and ``__getitem__``): shuffled and cut into global
  batches by `lstmkit.data.ShardedBatches`, then ``collate``-d; full BPTT over each
  sequence, no state carried between batches;
- with ``train.bptt = k``, a list of ``(inputs, targets)`` documents: laid out as
  parallel streams by `lstmkit.data.StreamBatches`; ``loss`` receives each `Chunk` with
  the carried state and returns the new one.

Losses are returned as a *sum* over the items of the batch plus the item count; the
trainer divides by the count of the whole optimiser step (all micro-steps, all
processes), so accumulation and multi-process runs average exactly like one big batch.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor


@dataclass
class LossOutput:
    """The result of `Task.loss` on one (micro-)batch.

    Attributes:
        total: scalar, the *sum* of the per-item losses (differentiable).
        count: how many items ``total`` sums over (sequences, tokens, ...).
        state: the recurrent state to carry to the next chunk (truncated BPTT), a
            tensor or nested tuple of tensors with the batch at dim -2 (as an LSTM's
            ``(h, c)``); None otherwise.
    """

    total: Tensor
    count: int
    state: Any = None


class Task(abc.ABC):
    """A trainable application. ``config`` is the task's resolved config dataclass."""

    #: the name on the command line (``lstmkit train NAME``)
    name: str = ""
    #: what ``LossOutput.count`` counts, for throughput (``tokens/s``)
    unit: str = "sequences"

    def __init__(self, config: Any) -> None:
        self.config = config

    @abc.abstractmethod
    def build_model(self) -> torch.nn.Module:
        """A fresh model (its initialisation draws from torch's seeded generator)."""

    @abc.abstractmethod
    def train_data(self) -> Any:
        """The training data: a map-style dataset, or documents when ``bptt`` is set."""

    @abc.abstractmethod
    def loss(self, model: torch.nn.Module, batch: Any, state: Any = None) -> LossOutput:
        """The summed loss of one batch (or chunk, with the carried ``state``)."""

    @abc.abstractmethod
    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        """Metrics on ``split`` (``"validation"`` or ``"test"``); must include ``loss``.

        Called in eval mode under ``torch.no_grad()`` with the unwrapped model.
        """

    def collate(self, items: list) -> Any:
        """Turn a list of dataset items into a batch (default: torch's default collate)."""
        return torch.utils.data.default_collate(items)

    def state_dict(self) -> dict:
        """What the task fitted on data and needs again to use the model (vocabulary,
        scalers), as plain Python data; saved in every checkpoint."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned (before building data or the model)."""

    def model_arguments(self) -> dict:
        """The arguments the model was built from, plain data, for the checkpoint."""
        return {}

    def report(self, model: torch.nn.Module, run_dir: Path) -> list[str]:
        """After training, with the best weights: the task's final results (test metrics
        beside its baselines, samples, plots) written into ``run_dir``; returns the
        lines to print. Called once, on the main process, in eval mode, without grad."""
        return []


def map_tensors(structure: Any, function: Callable[[Tensor], Tensor]) -> Any:
    """``structure`` with ``function`` applied to every tensor inside it (through dicts,
    lists, tuples, NamedTuples and dataclasses); anything else is returned as is."""
    if isinstance(structure, Tensor):
        return function(structure)
    if isinstance(structure, dict):
        return {key: map_tensors(value, function) for key, value in structure.items()}
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # NamedTuple
        return type(structure)(*(map_tensors(value, function) for value in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_tensors(value, function) for value in structure)
    if dataclasses.is_dataclass(structure) and not isinstance(structure, type):
        return dataclasses.replace(structure, **{
            f.name: map_tensors(getattr(structure, f.name), function)
            for f in dataclasses.fields(structure)
        })
    return structure


def reset_rows(state: Any, reset: Tensor) -> Any:
    """Zero the carried state of the streams that start a new document: ``reset (n,)``
    bool, every tensor of ``state`` with the batch at dim -2 (as an LSTM's ``(h, c)``)."""
    if state is None or not bool(reset.any()):
        return state
    keep = (~reset).to(torch.float32)

    def apply(tensor: Tensor) -> Tensor:
        return tensor * keep.to(tensor.device, tensor.dtype).unsqueeze(-1)

    return map_tensors(state, apply)


def move_to(batch: Any, device: torch.device) -> Any:
    """``batch`` with every tensor inside it on ``device``."""
    return map_tensors(batch, lambda tensor: tensor.to(device, non_blocking=True))
