"""The trainer's typed configuration: the ``train:`` section of every task's config.

Each field carries its help text as an attribute docstring (the command line shows
it). Values are checked on construction, so a negative learning rate or an unknown
optimiser fails before any work starts, with a message naming the key.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


def _positive(key: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{key} must be a positive number, got {value!r}")


def _non_negative(key: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{key} must be a number >= 0, got {value!r}")


def _unit_interval(key: str, value: float, *, closed: bool = False) -> None:
    upper_ok = value <= 1 if closed else value < 1
    if not (isinstance(value, (int, float)) and 0 <= value and upper_ok):
        raise ValueError(f"{key} must be in [0, 1{']' if closed else ')'}, got {value!r}")


@dataclass
class OptimizerConfig:
    """Optimiser (torch.optim) and its hyper-parameters."""

    name: Literal["sgd", "adam", "adamw", "rmsprop"] = "adam"
    """Optimiser: sgd (with momentum/nesterov), adam, adamw or rmsprop."""
    lr: float = 1e-3
    """Peak learning rate (> 0)."""
    weight_decay: float = 0.0
    """L2 penalty (sgd, adam, rmsprop) or decoupled weight decay (adamw)."""
    momentum: float = 0.0
    """Momentum factor for sgd and rmsprop."""
    nesterov: bool = False
    """Nesterov momentum (sgd; needs momentum > 0)."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam/AdamW coefficients of the running averages of the gradient and its square."""
    eps: float = 1e-8
    """Term added to the denominator for numerical stability (adam, adamw, rmsprop)."""
    alpha: float = 0.99
    """Smoothing constant of rmsprop's running average of squared gradients."""

    def __post_init__(self) -> None:
        _positive("train.optimizer.lr", self.lr)
        _non_negative("train.optimizer.weight_decay", self.weight_decay)
        _unit_interval("train.optimizer.momentum", self.momentum)
        if self.nesterov and (self.name != "sgd" or self.momentum <= 0):
            raise ValueError("train.optimizer.nesterov needs name: sgd and momentum > 0")
        for index, beta in enumerate(self.betas):
            _unit_interval(f"train.optimizer.betas[{index}]", beta)
        _positive("train.optimizer.eps", self.eps)
        _unit_interval("train.optimizer.alpha", self.alpha)


@dataclass
class ScheduleConfig:
    """Learning-rate schedule, stepped once per optimiser step (plateau: per evaluation)."""

    name: Literal["constant", "step", "cosine", "plateau"] = "constant"
    """constant; step (multiply by gamma every step_size steps); cosine (to min_lr_ratio
    over the run); plateau (multiply by gamma when the monitored metric stalls)."""
    warmup_steps: int = 0
    """Linear warm-up from 0 to the peak rate over this many steps (constant, step, cosine)."""
    step_size: int = 1000
    """step: optimiser steps between decays."""
    gamma: float = 0.5
    """step and plateau: factor the rate is multiplied by at each decay."""
    min_lr_ratio: float = 0.0
    """cosine: final rate as a fraction of the peak rate."""
    patience: int = 2
    """plateau: evaluations without improvement before the rate decays."""

    def __post_init__(self) -> None:
        if self.warmup_steps < 0:
            raise ValueError(f"train.schedule.warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.warmup_steps and self.name == "plateau":
            raise ValueError("train.schedule.warmup_steps is not supported with name: plateau")
        if self.step_size <= 0:
            raise ValueError(f"train.schedule.step_size must be positive, got {self.step_size}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"train.schedule.gamma must be in (0, 1], got {self.gamma}")
        _unit_interval("train.schedule.min_lr_ratio", self.min_lr_ratio, closed=True)
        if self.patience < 0:
            raise ValueError(f"train.schedule.patience must be >= 0, got {self.patience}")


@dataclass
class EarlyStoppingConfig:
    """Stop when the monitored validation metric has not improved for a while."""

    patience: int = 0
    """Evaluations without improvement before training stops; 0 turns early stopping off."""
    min_delta: float = 0.0
    """Smallest change of the metric that counts as an improvement."""
    target: float | None = None
    """Stop as soon as the monitored metric reaches this value (at least it with
    monitor_mode max, at most it with min), e.g. a success rate; null: no target."""

    def __post_init__(self) -> None:
        if self.patience < 0:
            raise ValueError(f"train.early_stopping.patience must be >= 0, got {self.patience}")
        _non_negative("train.early_stopping.min_delta", self.min_delta)


@dataclass
class TrainConfig:
    """The training loop: how long, how batched, how optimised, how often saved."""

    epochs: int = 10
    """Passes over the training data."""
    max_steps: int | None = None
    """Stop after this many optimiser steps (overrides epochs when reached first)."""
    max_time: float | None = None
    """Stop after the first optimiser step that ends this many seconds into the run
    (evaluations included; a resumed run counts its earlier time). A time budget is not
    reproducible step for step; max_steps is."""
    batch_size: int = 32
    """Global batch: sequences (or parallel streams with bptt) per micro-step, summed
    over all processes."""
    bptt: int | None = None
    """Truncated BPTT: chunk length k for stream tasks; the state is carried across
    chunks (detached) and reset at document and epoch boundaries. None: full BPTT."""
    accumulate: int = 1
    """Micro-steps whose gradients are summed before each optimiser step."""
    clip_norm: float | None = 1.0
    """Clip gradients to this global L2 norm; None turns clipping off (the pre-clip
    norm is logged either way)."""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    """Optimiser and its hyper-parameters."""
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    """Learning-rate schedule."""
    monitor: str = "loss"
    """Validation metric for best checkpoint, early stopping and plateau schedule."""
    monitor_mode: Literal["min", "max"] = "min"
    """Whether a lower (min) or higher (max) value of the monitored metric is better."""
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    """Early stopping on the monitored metric."""
    precision: Literal["float32", "bf16"] = "float32"
    """bf16: bfloat16 autocast around the forward pass with float32 master weights
    (the recurrences themselves stay float32)."""
    seed: int = 0
    """Seeds every random number generator (python, numpy, torch, data order)."""
    eval_every: int = 0
    """Evaluate on the validation split every this many optimiser steps; 0: at the end
    of each epoch."""
    checkpoint_every: int = 0
    """Write the 'last' checkpoint every this many optimiser steps; 0: at each evaluation."""
    log_every: int = 50
    """Optimiser steps between log lines (and metrics.csv rows) of the training loss."""
    device: str = "auto"
    """cpu, cuda, cuda:N, or auto (cuda when available)."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default)."""
    init_from: str | None = None
    """Start from the model weights of this checkpoint (the model must have the same shape)."""

    def __post_init__(self) -> None:
        for key in ("epochs", "batch_size", "accumulate"):
            value = getattr(self, key)
            if value <= 0:
                raise ValueError(f"train.{key} must be positive, got {value}")
        for key in ("max_steps", "bptt", "threads"):
            value = getattr(self, key)
            if value is not None and value <= 0:
                raise ValueError(f"train.{key} must be positive or null, got {value}")
        if self.clip_norm is not None:
            _positive("train.clip_norm", self.clip_norm)
        if self.max_time is not None:
            _positive("train.max_time", self.max_time)
        for key in ("eval_every", "checkpoint_every"):
            if getattr(self, key) < 0:
                raise ValueError(f"train.{key} must be >= 0, got {getattr(self, key)}")
        if self.log_every <= 0:
            raise ValueError(f"train.log_every must be positive, got {self.log_every}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ValueError(f"train.device must be auto, cpu, cuda or cuda:N, got {self.device!r}")


@dataclass
class RunConfig:
    """Where a run writes its outputs."""

    root: str = "runs"
    """Folder under which each new run gets its own directory."""
    name: str | None = None
    """Run directory name under root (default: TASK-YYYYmmdd-HHMMSS); must not exist yet."""
    progress: Literal["auto", "bar", "lines", "off"] = "auto"
    """Progress display: a bar on a terminal, log lines otherwise (auto), either one
    forced, or off (nothing printed while training; metrics.csv is still written)."""
    tensorboard: bool = True
    """Write TensorBoard event files (when the tensorboard package is installed)."""
    plots: bool = True
    """Write PNG plots of the loss and metric curves."""
    report: bool = True
    """After training, run the task's final report with the best weights (test metrics
    beside the baselines, samples, plots) into the run directory."""


def config_to_dict(config: Any) -> dict:
    """A config dataclass as plain data (tuples as lists), for YAML and checkpoints."""
    return _plain(asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
