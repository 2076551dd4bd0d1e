"""Reproducible, resumable batches of dataset indices, sharded across processes.

The order of an epoch is a permutation drawn from a generator seeded by
``(seed, epoch)`` alone, so it is the same in every process, on every run, and after a
resume. The permutation is cut into *global* batches of ``batch_size`` indices; process
``rank`` of ``world_size`` takes ``global_batch[rank::world_size]``. The union of the
shards is exactly the global batch a single process would take, which is what makes a
2-process run equal a 1-process run with the same global batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .validation import check_positive_int

# Mixed into the generator seed so that data order and model initialisation, both
# derived from the one user seed, do not draw the same random numbers.
_ORDER_STREAM = 0x5EED_DA7A


class ShardedBatches:
    """An iterable of index lists: this process's share of each global batch.

    Args:
        num_examples: the dataset's length.
        batch_size: the global batch size (all processes together).
        seed, epoch: fix the permutation; call `set_epoch` between epochs.
        rank, world_size: this process and the number of processes.
        shuffle: permute (training) or keep the dataset order (evaluation).
        drop_last: drop a final global batch smaller than ``batch_size``.
        start: global batches of this epoch to skip (resuming mid-epoch).
    """

    def __init__(
        self,
        num_examples: int,
        batch_size: int,
        *,
        seed: int = 0,
        epoch: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
        drop_last: bool = False,
        start: int = 0,
    ) -> None:
        if num_examples < max(world_size, 1):
            raise ValueError(
                f"the dataset is empty or too small: {num_examples} examples for "
                f"{world_size} process(es)"
            )
        self.num_examples = num_examples
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.world_size = check_positive_int("world_size", world_size)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        if batch_size < world_size:
            raise ValueError(
                f"batch_size ({batch_size}) must be at least the number of processes "
                f"({world_size}): each process takes a share of every global batch"
            )
        self.seed, self.epoch, self.rank = seed, epoch, rank
        self.shuffle, self.drop_last, self.start = shuffle, drop_last, start

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        """Global batches in one epoch (including those skipped by ``start``).

        A final partial batch is kept unless ``drop_last``, or unless it is too small to
        give every process at least one example.
        """
        full, rest = divmod(self.num_examples, self.batch_size)
        return full + (1 if rest >= self.world_size and not self.drop_last else 0)

    def _order(self) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(self.num_examples)
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) ^ _ORDER_STREAM)
        return torch.randperm(self.num_examples, generator=generator)

    def __iter__(self) -> Iterator[list[int]]:
        order = self._order()
        for index in range(self.start, len(self)):
            global_batch = order[index * self.batch_size : (index + 1) * self.batch_size]
            yield global_batch[self.rank :: self.world_size].tolist()
