"""Batching for the trainer: sharded global batches and truncated-BPTT stream chunks."""

from __future__ import annotations

import pytest
import torch

from lstmkit.data import ShardedBatches, StreamBatches


def test_shards_union_is_the_single_process_batch():
    single = list(ShardedBatches(103, 8, seed=5, epoch=2))
    for world in (2, 3, 4):
        shards = [list(ShardedBatches(103, 8, seed=5, epoch=2, rank=r, world_size=world)) for r in range(world)]
        assert all(len(s) == len(shards[0]) for s in shards)
        for index, global_batch in enumerate(single[: len(shards[0])]):
            union = sorted(i for shard in shards for i in shard[index])
            assert union == sorted(global_batch)


def test_order_depends_on_seed_and_epoch_only():
    first = list(ShardedBatches(50, 10, seed=1, epoch=0))
    assert first == list(ShardedBatches(50, 10, seed=1, epoch=0))
    assert first != list(ShardedBatches(50, 10, seed=1, epoch=1))
    assert first != list(ShardedBatches(50, 10, seed=2, epoch=0))
    assert sorted(i for batch in first for i in batch) == list(range(50))


def test_start_skips_global_batches_and_len_counts_them():
    batches = ShardedBatches(50, 10, seed=3)
    full = list(batches)
    batches.set_epoch(0, start=3)
    assert list(batches) == full[3:]
    assert len(batches) == 5


def test_final_partial_batch_kept_unless_too_small_for_every_rank():
    assert len(ShardedBatches(21, 10)) == 3
    assert len(ShardedBatches(21, 10, drop_last=True)) == 2
    # 1 leftover example cannot be shared by 2 processes: dropped.
    assert len(ShardedBatches(21, 10, rank=0, world_size=2)) == 2
    assert len(ShardedBatches(22, 10, rank=1, world_size=2)) == 3


def test_unshuffled_keeps_dataset_order():
    assert list(ShardedBatches(5, 2, shuffle=False)) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_examples": 0, "batch_size": 4}, "empty"),
        ({"num_examples": 10, "batch_size": 0}, "batch_size must be positive"),
        ({"num_examples": 10, "batch_size": 1, "world_size": 2}, "at least the number of processes"),
        ({"num_examples": 10, "batch_size": 4, "rank": 2, "world_size": 2}, "rank must be in"),
    ],
)
def test_sharded_batches_bad_arguments(kwargs, message):
    num_examples = kwargs.pop("num_examples")
    batch_size = kwargs.pop("batch_size")
    with pytest.raises(ValueError, match=message):
        ShardedBatches(num_examples, batch_size, **kwargs)


def _documents(lengths):
    """Documents whose inputs are their global step numbers, targets = inputs + 0.5."""
    documents, offset = [], 0
    for length in lengths:
        steps = torch.arange(offset, offset + length, dtype=torch.float32)
        documents.append((steps, steps + 0.5))
        offset += length
    return documents


def _stream_contents(batches):
    """Per stream: the real steps in chunk order, and the chunk indices with reset."""
    chunks = list(batches)
    rows = chunks[0].inputs.shape[0]
    steps = [[] for _ in range(rows)]
    resets = [[] for _ in range(rows)]
    for index, chunk in enumerate(chunks):
        assert torch.equal(chunk.targets[chunk.mask], chunk.inputs[chunk.mask] + 0.5)
        assert not chunk.inputs[~chunk.mask].any()
        for row in range(rows):
            steps[row] += chunk.inputs[row][chunk.mask[row]].tolist()
            if chunk.reset[row]:
                resets[row].append(index)
    return chunks, steps, resets


def test_streams_cover_every_step_once_in_order():
    lengths = [13, 5, 22, 9]
    batches = StreamBatches(_documents(lengths), num_streams=3, bptt=4)
    _, steps, _ = _stream_contents(batches)
    flattened = [s for stream in steps for s in stream]
    assert flattened == list(range(sum(lengths)))  # contiguous segments, in order
    assert max(len(s) for s in steps) - min(len(s) for s in steps) <= 1


def test_documents_start_on_chunk_boundaries_with_reset():
    lengths = [6, 7, 3]
    starts = {0, 6, 13}
    batches = StreamBatches(_documents(lengths), num_streams=1, bptt=4)
    chunks, _, resets = _stream_contents(batches)
    first_steps = {int(chunk.inputs[0, 0]) for chunk in chunks if chunk.mask[0, 0]}
    reset_steps = {int(chunks[i].inputs[0, 0]) for i in resets[0]}
    assert reset_steps == starts
    # A chunk never holds steps of two documents.
    for chunk in chunks:
        real = chunk.inputs[0][chunk.mask[0]].tolist()
        assert len({next(d for d, start in enumerate(sorted(starts)[::-1]) if s >= start) for s in real}) <= 1
    assert starts <= first_steps
    assert len(chunks) == 2 + 2 + 1  # ceil(6/4) + ceil(7/4) + ceil(3/4)


def test_stream_ranks_split_the_streams_and_agree_on_length():
    documents = _documents([40, 17])
    single = list(StreamBatches(documents, num_streams=4, bptt=5))
    shards = [list(StreamBatches(documents, num_streams=4, bptt=5, rank=r, world_size=2)) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == len(single)
    for index, chunk in enumerate(single):
        for rank in range(2):
            assert torch.equal(shards[rank][index].inputs, chunk.inputs[rank::2])
            assert torch.equal(shards[rank][index].reset, chunk.reset[rank::2])


def test_stream_start_resumes_mid_epoch():
    batches = StreamBatches(_documents([30]), num_streams=2, bptt=4)
    full = list(batches)
    batches.set_epoch(1, start=2)
    rest = list(batches)
    assert len(rest) == len(full) - 2
    assert all(torch.equal(a.inputs, b.inputs) for a, b in zip(rest, full[2:]))


@pytest.mark.parametrize(
    "documents, streams, bptt, message",
    [
        ([], 2, 4, "empty"),
        ([(torch.zeros(0), torch.zeros(0))], 2, 4, "empty"),
        ([(torch.zeros(3), torch.zeros(3))], 5, 4, "exceeds the 3 steps"),
        ([(torch.zeros(3), torch.zeros(4))], 1, 4, "document 0"),
        ([(torch.zeros(9), torch.zeros(9))], 2, 0, "bptt must be positive"),
    ],
)
def test_stream_batches_bad_arguments(documents, streams, bptt, message):
    with pytest.raises(ValueError, match=message):
        StreamBatches(documents, streams, bptt)
