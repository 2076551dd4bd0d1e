"""Truncated-BPTT chunks: documents laid out as parallel streams, cut every ``bptt`` steps.

A long text (or series) is trained with truncated backpropagation through time: the
data is laid out as ``S`` parallel streams (the global batch), each stream is read
``k = bptt`` steps at a time, and the recurrent state is carried from one chunk to the
next (detached, so gradients flow back at most ``k`` steps). The state must be reset
where a new document begins, so that nothing of one document leaks into the next.

Layout. All documents, in order, are concatenated and cut into ``S`` contiguous
segments of (nearly) equal length, as in the classic "batchify". Within a segment each
piece of a document starts on a chunk boundary: when a document ends mid-chunk, the rest
of that chunk is padding (``mask`` False) and the next document begins the next chunk
with ``reset`` True. Padding costs at most ``k - 1`` steps per document, and the state
reset is exact. Streams that run out early are padded to the longest one.

Process ``rank`` of ``world_size`` takes streams ``rank::world_size``; every process
sees the same number of chunks per epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .validation import check_positive_int


@dataclass(frozen=True)
class Chunk:
    """``k`` steps of this process's streams.

    Attributes:
        inputs: ``(n, k, ...)``, zeros where ``mask`` is False.
        targets: ``(n, k, ...)``, zeros where ``mask`` is False.
        mask: ``(n, k)`` bool, True at real steps.
        reset: ``(n,)`` bool, True where the stream starts a new document at this chunk
            (its carried state must be zeroed before the chunk).
    """

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    reset: Tensor


@dataclass(frozen=True)
class _Slot:
    document: int
    start: int
    stop: int
    reset: bool


def _segments(lengths: Sequence[int], streams: int) -> list[list[tuple[int, int, int]]]:
    """Cut the concatenation into ``streams`` contiguous runs of (document, start, stop)."""
    total = sum(lengths)
    bounds = [round(s * total / streams) for s in range(streams + 1)]
    segments: list[list[tuple[int, int, int]]] = [[] for _ in range(streams)]
    offset = 0
    for document, length in enumerate(lengths):
        for s in range(streams):
            lo, hi = max(bounds[s], offset), min(bounds[s + 1], offset + length)
            if lo < hi:
                segments[s].append((document, lo - offset, hi - offset))
        offset += length
    return segments


def _slots(segment: list[tuple[int, int, int]], k: int) -> list[_Slot]:
    slots = []
    for piece, (document, start, stop) in enumerate(segment):
        # A piece that begins its document resets the state; so does a stream's first
        # piece (the state is fresh at each epoch anyway).
        for chunk_start in range(start, stop, k):
            reset = chunk_start == start and (start == 0 or piece == 0)
            slots.append(_Slot(document, chunk_start, min(chunk_start + k, stop), reset))
    return slots


class StreamBatches:
    """Iterate the chunks of one epoch.

    Args:
        documents: ``(inputs, targets)`` pairs, each ``(L_i, ...)`` with equal leading
            length; for a language model ``inputs = tokens[:-1]``, ``targets = tokens[1:]``.
        num_streams: ``S``, the global batch size.
        bptt: ``k``, steps per chunk.
        rank, world_size: this process and the number of processes.
        start: chunks of the epoch to skip (resuming mid-epoch).
    """

    def __init__(
        self,
        documents: Sequence[tuple[Tensor, Tensor]],
        num_streams: int,
        bptt: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
    ) -> None:
        self.num_streams = check_positive_int("batch_size", num_streams)
        self.bptt = check_positive_int("bptt", bptt)
        lengths = []
        for index, (inputs, targets) in enumerate(documents):
            if inputs.shape[0] != targets.shape[0]:
                raise ValueError(
                    f"document {index}: inputs have {inputs.shape[0]} steps but targets "
                    f"{targets.shape[0]}"
                )
            lengths.append(int(inputs.shape[0]))
        total = sum(lengths)
        if total == 0:
            raise ValueError("the dataset is empty: the documents hold no steps")
        if total < num_streams:
            raise ValueError(
                f"batch_size ({num_streams} streams) exceeds the {total} steps of data; "
                "use a smaller batch_size"
            )
        if num_streams < world_size:
            raise ValueError(
                f"batch_size ({num_streams}) must be at least the number of processes ({world_size})"
            )
        self.documents = list(documents)
        all_slots = [_slots(segment, bptt) for segment in _segments(lengths, num_streams)]
        self._length = max(len(slots) for slots in all_slots)
        self._slots = all_slots[rank::world_size]
        self.start = start

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """The layout is the same every epoch (contiguous text); only the skip changes."""
        self.start = start

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Chunk]:
        inputs0, targets0 = self.documents[0]
        n, k = len(self._slots), self.bptt
        for index in range(self.start, self._length):
            inputs = inputs0.new_zeros((n, k, *inputs0.shape[1:]))
            targets = targets0.new_zeros((n, k, *targets0.shape[1:]))
            mask = torch.zeros(n, k, dtype=torch.bool)
            reset = torch.zeros(n, dtype=torch.bool)
            for row, slots in enumerate(self._slots):
                if index >= len(slots):
                    reset[row] = True  # stream exhausted: padding only, keep it clean
                    continue
                slot = slots[index]
                source_inputs, source_targets = self.documents[slot.document]
                width = slot.stop - slot.start
                inputs[row, :width] = source_inputs[slot.start : slot.stop]
                targets[row, :width] = source_targets[slot.start : slot.stop]
                mask[row, :width] = True
                reset[row] = slot.reset
            yield Chunk(inputs, targets, mask, reset)
