"""Optimisers and learning-rate schedules built from their config sections.

Schedules other than plateau are a `torch.optim.lr_scheduler.LambdaLR` whose factor is
a pure function of the optimiser step (`lr_factor`), so a resumed run recomputes the
same rate from the saved step count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial

import torch

from .config import OptimizerConfig, ScheduleConfig


def build_optimizer(parameters: Iterable[torch.nn.Parameter], config: OptimizerConfig) -> torch.optim.Optimizer:
    """The torch optimiser named by ``config.name``."""
    params = list(parameters)
    if config.name == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    if config.name == "adam":
        return torch.optim.Adam(
            params, lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay,
        )
    if config.name == "adamw":
        return torch.optim.AdamW(
            params, lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay,
        )
    if config.name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=config.lr, alpha=config.alpha, eps=config.eps, momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
    raise ValueError(f"train.optimizer.name must be sgd, adam, adamw or rmsprop, got {config.name!r}")


def lr_factor(step: int, *, config: ScheduleConfig, total_steps: int) -> float:
    """Multiplier of the peak rate for optimiser step ``step`` (0-based).

    warm-up:  ``(step + 1) / warmup_steps`` for ``step < warmup_steps``;
    constant: 1;  step: ``gamma ** (step // step_size)``;
    cosine:   ``r + (1 - r) * (1 + cos(pi * p)) / 2`` with ``p`` the fraction of the
    post-warm-up steps done and ``r = min_lr_ratio``.
    """
    warmup = config.warmup_steps
    if step < warmup:
        return (step + 1) / warmup
    if config.name == "step":
        return config.gamma ** ((step - warmup) // config.step_size)
    if config.name == "cosine":
        span = max(total_steps - warmup, 1)
        progress = min((step - warmup) / span, 1.0)
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return 1.0


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: ScheduleConfig, *, total_steps: int, mode: str
) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau:
    """A scheduler; `steps_per_evaluation` tells the trainer which one to step when."""
    if config.name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=mode, factor=config.gamma, patience=config.patience,
        )
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, partial(lr_factor, config=config, total_steps=total_steps)
    )


def steps_on_evaluation(scheduler: object) -> bool:
    """Whether the scheduler is stepped with the validation metric instead of per step."""
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
