"""Data floor: how examples become batches (sharded across processes, or cut into
truncated-BPTT chunks of parallel streams), independent of any one task."""

from .batching import ShardedBatches
from .streams import Chunk, StreamBatches

__all__ = ["Chunk", "ShardedBatches", "StreamBatches"]
