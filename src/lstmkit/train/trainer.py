"""The training loop: read `Trainer.fit` top to bottom.

One optimiser step is::

    for each of `accumulate` micro-batches (or truncated-BPTT chunks):
        out = task.loss(model, batch, carried_state)       # summed loss, item count
        out.total.backward()                                # DDP all-reduces on the last
        carried_state = detach(out.state)
    grads *= world_size / (items of the step, all processes)   # = mean over every item
    norm = clip_grad_norm_(params, clip_norm)               # pre-clip norm is logged
    stop if the loss or the norm is not finite              # last good checkpoint kept
    optimizer.step(); scheduler.step()

then, when due: a log line and ``metrics.csv`` row, a validation pass (best checkpoint,
plateau schedule, early stopping), the ``last`` checkpoint. A SIGINT/SIGTERM finishes the
current step, saves ``last`` and returns.

Everything a resumed run needs to continue exactly is in the checkpoint: weights,
optimiser and scheduler state, every process's RNG state, the data position (epoch and
micro-batches consumed; the epoch's order is a function of the seed), the carried
truncated-BPTT state and the early-stopping bookkeeping. Steps are deterministic
given those, so a run killed at any point and resumed ends with the same parameters as
one never interrupted.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data import Chunk, ShardedBatches, StreamBatches
from .checkpoint import BEST, LAST, load_checkpoint, load_model_state, save_checkpoint
from .config import RunConfig, TrainConfig
from .distributed import Context
from .metrics_log import MetricsLog
from .optim import build_optimizer, build_scheduler, steps_on_evaluation
from .plots import plot_curves
from .progress import Progress
from .rundir import create_run_directory, write_config
from .seeding import rng_state, seed_everything, set_rng_state
from .signals import GracefulStop
from .task import Task, map_tensors, move_to, reset_rows


class TrainingError(RuntimeError):
    """Training cannot go on (for example the loss became NaN); the message says why."""


@dataclass
class TrainResult:
    """How a `Trainer.fit` call ended.

    Attributes:
        run_dir: the run directory (None on processes other than rank 0).
        step, epoch: optimiser steps done, epochs completed.
        reason: ``"completed"``, ``"max_steps"``, ``"max_time"``, ``"early_stopping"``,
            ``"target_reached"`` (``train.early_stopping.target``) or the signal name.
        metrics: the last validation metrics.
        best: the best value of the monitored metric.
        losses: the training loss of every step this call ran (for reproducibility checks).
    """

    run_dir: Path | None
    step: int
    epoch: int
    reason: str
    metrics: dict[str, float] = field(default_factory=dict)
    best: float | None = None
    losses: list[float] = field(default_factory=list)


class Trainer:
    """Train ``task`` with the ``train`` config, writing into a run directory.

    Args:
        task: the application (model, data, loss, metrics).
        config: the ``train:`` section.
        run: the ``run:`` section (output location, progress display, plots).
        full_config: the whole resolved config as plain data, for ``config.yaml`` and
            the checkpoints.
        resume: a loaded checkpoint to continue from, with ``resume_dir`` its run directory.
        context: the process group (default: from the environment, as torchrun sets it).
    """

    def __init__(
        self,
        task: Task,
        config: TrainConfig,
        run: RunConfig,
        *,
        full_config: dict,
        resume: dict | None = None,
        resume_dir: Path | None = None,
        context: Context | None = None,
    ) -> None:
        self.task, self.config, self.run = task, config, run
        self.full_config, self.resume, self.resume_dir = full_config, resume, resume_dir
        self.context = context or Context.from_environment(config.device)

    # -- the loop -------------------------------------------------------------------

    def fit(self) -> TrainResult:
        cfg, ctx = self.config, self.context
        if cfg.threads is not None:
            torch.set_num_threads(cfg.threads)
        seed_everything(cfg.seed)
        model = self.task.build_model().to(ctx.device)
        if cfg.init_from is not None and self.resume is None:
            self._initialise_from(model, cfg.init_from)
        batches = self._batches()
        steps_per_epoch = math.ceil(len(batches) / cfg.accumulate)
        total_steps = cfg.epochs * steps_per_epoch
        if cfg.max_steps is not None:
            total_steps = min(total_steps, cfg.max_steps)
        optimizer = build_optimizer(model.parameters(), cfg.optimizer)
        scheduler = build_scheduler(
            optimizer, cfg.schedule, total_steps=total_steps, mode=cfg.monitor_mode
        )
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.step, self.epoch, self.batch_in_epoch, self.items = 0, 0, 0, 0
        self.best, self.best_step, self.bad_evaluations = None, None, 0
        self.metrics: dict[str, float] = {}
        self._evaluated_step = -1  # the step of the last validation pass
        self.elapsed_before = 0.0
        carried: Any = None
        if self.resume is not None:
            carried = self._restore(self.resume)
        elif ctx.rank:
            # Same weights everywhere (DDP broadcasts rank 0's), different noise per rank.
            seed_everything(cfg.seed + ctx.rank)
        wrapped = ctx.wrap(model)
        run_dir = self._run_directory()
        log = MetricsLog(
            run_dir, tensorboard=self.run.tensorboard,
            resume_step=self.step if self.resume is not None else None,
        ) if ctx.is_main else None
        progress = Progress(
            total_steps=total_steps, start_step=self.step, unit=self.task.unit,
            mode=self.run.progress, enabled=ctx.is_main and self.run.progress != "off",
            time_budget=None if cfg.max_time is None else cfg.max_time - self.elapsed_before,
        )
        self._log, self._progress, self._run_dir = log, progress, run_dir
        self._start = time.perf_counter()
        losses: list[float] = []
        reason = "completed"
        window = _Window()
        model.train()
        with GracefulStop() as stop:
            try:
                while self.epoch < cfg.epochs and reason == "completed":
                    batches.set_epoch(self.epoch, start=self.batch_in_epoch)
                    if self.batch_in_epoch == 0:
                        carried = None
                    for group in _groups(iter(batches), cfg.accumulate):
                        if cfg.max_steps is not None and self.step >= cfg.max_steps:
                            reason = "max_steps"  # e.g. resumed from the final step
                            break
                        loss, count, norm, carried = self._optimizer_step(wrapped, group, carried)
                        self.batch_in_epoch += len(group)
                        self.step += 1
                        self.items += count
                        losses.append(loss)
                        window.add(loss, count, norm)
                        self._after_step(window, carried)
                        reason = self._stop_reason(stop)
                        if reason != "completed":
                            break
                    else:
                        self.epoch, self.batch_in_epoch, carried = self.epoch + 1, 0, None
                        if cfg.eval_every == 0:
                            self._evaluate_and_save(carried)
                            reason = self._early_stop() or reason
                finished = reason in ("completed", "max_steps", "max_time")
                if finished and self._evaluated_step != self.step:
                    self._evaluate_and_save(carried)
                elif reason not in ("completed", "max_steps", "max_time", "early_stopping", "target_reached"):
                    self._save(LAST, carried)  # stopped by a signal
                    progress.message(
                        f"stopped by {reason} at step {self.step}; checkpoint saved"
                    )
            finally:
                progress.close()
                if log is not None:
                    log.close()
                    if self.run.plots:
                        plot_curves(run_dir)
        return TrainResult(
            run_dir=run_dir if ctx.is_main else None, step=self.step, epoch=self.epoch,
            reason=reason, metrics=self.metrics, best=self.best, losses=losses,
        )

    def _optimizer_step(self, wrapped, group: list, carried: Any) -> tuple[float, int, float, Any]:
        """Forward and backward over ``group``'s micro-batches, then one optimiser step."""
        cfg, ctx = self.config, self.context
        total, count = 0.0, 0
        for index, batch in enumerate(group):
            batch = move_to(batch, ctx.device)
            if isinstance(batch, Chunk):
                carried = reset_rows(carried, batch.reset)
            sync = index == len(group) - 1 or not ctx.distributed
            with (contextlib.nullcontext() if sync else wrapped.no_sync()):
                with torch.autocast(
                    ctx.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"
                ):
                    out = self.task.loss(wrapped, batch, carried)
                out.total.backward()
            carried = map_tensors(out.state, torch.Tensor.detach)
            total += float(out.total.detach())
            count += int(out.count)
        global_total, global_count = ctx.all_sum(total), int(ctx.all_sum(count))
        if global_count == 0:
            raise TrainingError(f"step {self.step + 1}: the batch holds no items to train on")
        # Gradients now hold the sum over this process's items (DDP: the mean over
        # processes of those sums); scale to the mean over every item of the step.
        scale = ctx.world_size / global_count
        parameters = [p for p in self.model.parameters() if p.grad is not None]
        for parameter in parameters:
            parameter.grad.mul_(scale)
        max_norm = self.config.clip_norm if self.config.clip_norm is not None else math.inf
        norm = float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))
        loss = global_total / global_count
        if not (math.isfinite(loss) and math.isfinite(norm)):
            what = "loss" if not math.isfinite(loss) else "gradient norm"
            value = loss if not math.isfinite(loss) else norm
            kept = f"; the last good checkpoint is {self._run_dir / LAST}" if (
                self._run_dir is not None and (self._run_dir / LAST).exists()
            ) else ""
            raise TrainingError(
                f"the {what} became {value} at step {self.step + 1} (epoch {self.epoch + 1}); "
                f"training stopped{kept}. Try a lower train.optimizer.lr or train.clip_norm"
            )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if not steps_on_evaluation(self.scheduler):
            self.scheduler.step()
        return loss, global_count, norm, carried

    def _after_step(self, window: _Window, carried: Any) -> None:
        cfg = self.config
        values = window.values(self.optimizer.param_groups[0]["lr"], self.task.unit)
        log_due = self.step % cfg.log_every == 0
        self._progress.update(self.step, values, log_line=log_due)
        if log_due:
            if self._log is not None:
                self._log.log(self.step, self.epoch, "train", values, self._elapsed())
            window.clear()
        paused = time.perf_counter()
        evaluated = False
        if cfg.eval_every and self.step % cfg.eval_every == 0:
            self._evaluate_and_save(carried)
            evaluated = True
        if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0 and not evaluated:
            self._save(LAST, carried)
        # Evaluation and saving are not training: keep them out of the throughput.
        window.started += time.perf_counter() - paused

    def _stop_reason(self, stop: GracefulStop) -> str:
        if self.context.any(stop.requested):
            return signal.Signals(stop.signal).name if stop.signal else "SIGTERM"
        early = self._early_stop() if self.config.eval_every else None
        if early is not None:
            return early
        if self.config.max_steps is not None and self.step >= self.config.max_steps:
            return "max_steps"
        if self.config.max_time is not None and self.context.any(
            self._elapsed() >= self.config.max_time  # any rank out of time stops them all
        ):
            return "max_time"
        return "completed"

    # -- evaluation, best, early stopping -------------------------------------------

    def _evaluate_and_save(self, carried: Any) -> None:
        metrics = self.evaluate("validation")
        self._evaluated_step = self.step
        self.metrics = metrics
        monitor = self.config.monitor
        if monitor not in metrics:
            raise TrainingError(
                f"train.monitor is {monitor!r} but the validation metrics are "
                f"{', '.join(sorted(metrics))}"
            )
        value = metrics[monitor]
        if steps_on_evaluation(self.scheduler):
            self.scheduler.step(value)
        delta = self.config.early_stopping.min_delta
        better = self.best is None or (
            value < self.best - delta if self.config.monitor_mode == "min" else value > self.best + delta
        )
        if better:
            self.best, self.best_step, self.bad_evaluations = value, self.step, 0
        else:
            self.bad_evaluations += 1
        if self._log is not None:
            self._log.log(self.step, self.epoch, "validation", metrics, self._elapsed())
        self._progress.message(
            f"step {self.step} validation: "
            + "  ".join(f"{name} {metric:.4g}" for name, metric in metrics.items())
            + ("  (best)" if better else "")
        )
        self._save(LAST, carried)
        if better:
            self._save(BEST, carried)
        if self._log is not None and self.run.plots:
            plot_curves(self._run_dir)

    def _early_stop(self) -> str | None:
        """``"target_reached"``, ``"early_stopping"`` or None (go on)."""
        rule = self.config.early_stopping
        if rule.target is not None and self.best is not None and (
            self.best >= rule.target if self.config.monitor_mode == "max" else self.best <= rule.target
        ):
            return "target_reached"
        if rule.patience > 0 and self.bad_evaluations >= rule.patience:
            return "early_stopping"
        return None

    def evaluate(self, split: str) -> dict[str, float]:
        """The task's metrics on ``split`` with the current weights (eval mode, no grad)."""
        self.model.eval()
        try:
            with torch.no_grad(), torch.autocast(
                self.context.device.type, dtype=torch.bfloat16,
                enabled=self.config.precision == "bf16",
            ):
                metrics = {name: float(value) for name, value in self.task.evaluate(self.model, split).items()}
        finally:
            self.model.train()
        return metrics

    # -- data -------------------------------------------------------------------------

    def _batches(self):
        cfg, ctx = self.config, self.context
        data = self.task.train_data()
        if cfg.bptt is not None:
            return StreamBatches(
                data, cfg.batch_size, cfg.bptt, rank=ctx.rank, world_size=ctx.world_size,
            )
        if len(data) == 0:
            raise ValueError(f"the {self.task.name} training dataset is empty")
        return _CollatedBatches(
            data, self.task.collate,
            ShardedBatches(
                len(data), cfg.batch_size, seed=cfg.seed, rank=ctx.rank,
                world_size=ctx.world_size,
            ),
        )

    # -- checkpoints ----------------------------------------------------------------

    def _run_directory(self) -> Path | None:
        ctx = self.context
        run_dir = None
        if ctx.is_main:
            if self.resume_dir is not None:
                run_dir = self.resume_dir
            else:
                run_dir = create_run_directory(self.run.root, self.task.name, self.run.name)
                write_config(run_dir, self.full_config)
        return ctx.broadcast_object(run_dir)

    def _save(self, name: str, carried: Any) -> None:
        ctx = self.context
        # Every process contributes its own RNG state and carried state; rank 0 writes.
        rng_states = ctx.gather_objects(rng_state())
        carried_states = ctx.gather_objects(map_tensors(carried, lambda t: t.detach().cpu()))
        if not ctx.is_main:
            return
        payload = {
            "task": self.task.name,
            "config": self.full_config,
            "model_args": self.task.model_arguments(),
            "task_state": self.task.state_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng_states,
            "progress": {
                "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                "items": self.items, "world_size": ctx.world_size,
                "evaluated_step": self._evaluated_step,
                "elapsed_s": self._elapsed(),
            },
            "best": {
                "metric": self.config.monitor, "mode": self.config.monitor_mode,
                "value": self.best, "step": self.best_step,
                "bad_evaluations": self.bad_evaluations,
            },
            "carried_state": carried_states,
            "metrics": self.metrics,
            "versions": {"lstmkit": _lstmkit_version(), "torch": str(torch.__version__)},
        }
        save_checkpoint(self._run_dir / name, payload)

    def _restore(self, checkpoint: dict) -> Any:
        ctx = self.context
        progress = checkpoint["progress"]
        if progress.get("world_size", 1) != ctx.world_size:
            raise ValueError(
                f"the checkpoint was written by {progress.get('world_size', 1)} processes but "
                f"this run has {ctx.world_size}; resume with the same number of processes"
            )
        load_model_state(self.model, checkpoint["model"], "the checkpoint")
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.step, self.epoch = progress["step"], progress["epoch"]
        self.batch_in_epoch, self.items = progress["batch_in_epoch"], progress["items"]
        self.elapsed_before = progress.get("elapsed_s", 0.0)
        best = checkpoint["best"]
        self.best, self.best_step = best["value"], best["step"]
        self.bad_evaluations = best["bad_evaluations"]
        self.metrics = dict(checkpoint.get("metrics") or {})
        self._evaluated_step = progress.get("evaluated_step", -1)
        set_rng_state(checkpoint["rng"][ctx.rank])
        carried = checkpoint["carried_state"][ctx.rank]
        return map_tensors(carried, lambda t: t.to(ctx.device))

    def _initialise_from(self, model: torch.nn.Module, path: str) -> None:
        load_model_state(model, load_checkpoint(path)["model"], f"train.init_from {path}")

    def _elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self._start


class _CollatedBatches:
    """`ShardedBatches` of indices turned into collated batches of dataset items."""

    def __init__(self, dataset, collate, indices: ShardedBatches) -> None:
        self.dataset, self.collate, self.indices = dataset, collate, indices

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.indices.set_epoch(epoch, start)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[Any]:
        for batch in self.indices:
            yield self.collate([self.dataset[i] for i in batch])


class _Window:
    """Running sums between log lines."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.total, self.count, self.norm, self.steps = 0.0, 0, 0.0, 0
        self.started = time.perf_counter()

    def add(self, loss: float, count: int, norm: float) -> None:
        self.total += loss * count
        self.count += count
        self.norm, self.steps = norm, self.steps + 1

    def values(self, lr: float, unit: str) -> dict[str, float]:
        seconds = max(time.perf_counter() - self.started, 1e-9)
        return {
            "loss": self.total / max(self.count, 1), "lr": lr, "grad_norm": self.norm,
            f"{unit}/s": self.count / seconds,
        }


def _lstmkit_version() -> str:
    # From the installed distribution, not ``lstmkit.__version__``: the train floor
    # does not import the package's top (which imports every floor).
    try:
        return importlib.metadata.version("lstmkit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _groups(batches: Iterator[Any], size: int) -> Iterator[list[Any]]:
    group: list[Any] = []
    for batch in batches:
        group.append(batch)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group

