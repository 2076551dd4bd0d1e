"""Multi-process data parallelism: the process group, DDP wrapping, small collectives.

``torchrun --nproc_per_node N -m lstmkit train ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and the rendezvous variables; `Context.from_environment` joins the group
(``gloo`` on CPU, ``nccl`` on GPUs) and everything else is the same code in every
process. A plain ``lstmkit train`` is a world of one, with no process group at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: ``rank`` of ``world_size``, on ``device``."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 logs and writes files; the others only compute."""
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: str = "auto") -> Context:
        """Join torchrun's process group when ``WORLD_SIZE`` > 1, else a world of one."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        resolved = resolve_device(device, local_rank)
        if world_size <= 1:
            return cls(device=resolved)
        if not dist.is_initialized():
            backend = "nccl" if resolved.type == "cuda" else "gloo"
            if resolved.type == "cuda":
                torch.cuda.set_device(resolved)
            dist.init_process_group(backend=backend)
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(), device=resolved)

    def all_sum(self, value: float) -> float:
        """The sum of ``value`` over all processes (float64 on the wire)."""
        if not self.distributed:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self._wire())
        dist.all_reduce(tensor)
        return float(tensor.item())

    def any(self, flag: bool) -> bool:
        """True when ``flag`` is True in any process (e.g. a signal reached one of them)."""
        return self.all_sum(1.0 if flag else 0.0) > 0

    def gather_objects(self, value: object) -> list[object]:
        """``value`` from every process, in rank order (picklable plain data only)."""
        if not self.distributed:
            return [value]
        gathered: list[object] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def broadcast_object(self, value: object) -> object:
        """Rank 0's ``value`` in every process."""
        if not self.distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` in DistributedDataParallel when there are several processes.

        DDP broadcasts rank 0's parameters at construction, so every process starts
        from the same weights, and averages gradients in backward.
        """
        if not self.distributed:
            return model
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()

    def _wire(self) -> torch.device:
        # nccl moves CUDA tensors only; gloo moves CPU tensors.
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """``auto`` → this process's GPU when CUDA is available, else the CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        device = f"cuda:{local_rank}"
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"train.device is {device!r} but no CUDA device is available")
    return resolved
