"""One batch of a task's training data, batched as the trainer batches it.

For tools that look at a model on real input (``lstmkit inspect``): the first
``batch_size`` items of a map-style dataset, collated by the task; or, for a stream
task trained with truncated BPTT, the first chunk of ``bptt`` steps of each of
``batch_size`` parallel streams. Deterministic: no shuffling.
"""

from __future__ import annotations

from typing import Any

from ..data import StreamBatches
from .task import Task


def first_batch(task: Task, batch_size: int, bptt: int | None = None) -> Any:
    """The first training batch of ``task`` (see the module docstring)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    data = task.train_data()
    if bptt is not None:
        batches = StreamBatches(data, batch_size, bptt)
        batches.set_epoch(0)
        return next(iter(batches))
    if len(data) == 0:
        raise ValueError(f"the {task.name} training dataset is empty")
    return task.collate([data[i] for i in range(min(batch_size, len(data)))])
