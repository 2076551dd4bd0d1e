"""A sweep over models × lags × seeds on one long-lag problem (``lstmkit sweep``).

For every combination it trains a `MemoryTask` run on line until the validation
success rate reaches ``sweep.solve_rate`` (the run *solved* the problem, and the
sequences it had trained on are its *sequences-to-solve*) or the per-run budget
(``train.epochs × data.train_size`` sequences, ``train.max_time`` seconds) runs out.
This is the shape of the tables of Hochreiter & Schmidhuber 1997: per model and lag,
the fraction of runs that succeeded and how many training sequences success took.

Everything goes into one sweep directory: ``runs/`` (one ordinary run directory per
combination: config, metrics, checkpoints), ``results.csv`` (one row per run, rewritten
after each so an interrupted sweep keeps what it finished), ``summary.csv`` and
``summary.md`` (per model and lag) and ``sweep.png``.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from ...files import write_text_atomic
from ...train import OptimizerConfig, RunConfig, TrainConfig, Trainer
from ...train.config import config_to_dict
from ..memory import MemoryConfig, MemoryDataConfig, MemoryModelConfig, MemoryTask, ProblemName
from ..recurrent import RecurrentConfig
from .models import check_model_names, recurrent_for
from .sweep_report import plot_sweep, summarise, summary_markdown

# The comparison: plain RNN, GRU, the LSTM without and with peepholes, both couplings
# of the input and forget gates, and Greff et al.'s variants. Greff's V and NP are left
# out because they are lstm-peephole and lstm under other names (same parameters, same
# initialisation: identical runs).
DEFAULT_MODELS = (
    "rnn_tanh", "gru", "lstm", "lstm-peephole", "lstm-cifg", "NIG", "NFG", "NOG", "NIAF",
    "NOAF", "CIFG", "FGR",
)

RESULT_COLUMNS = (
    "model", "length", "seed", "solved", "sequences_to_solve", "sequences_seen", "steps",
    "seconds", "stop_reason", "validation_loss", "validation_solved", "test_loss",
    "test_solved", "baseline_loss",
)


@dataclass
class SweepSettings:
    """What to sweep over and what counts as solved."""

    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    """Models: rnn_tanh, rnn_relu, gru, lstm, lstm-peephole, lstm-cifg, or a Greff et al.
    2017 variant (V, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR)."""
    lengths: list[int] = field(default_factory=lambda: [50, 100, 200])
    """Sequence lengths (lags) T."""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Training seeds (initialisation and data order; the data itself follows data.seed)."""
    solve_rate: float = 0.99
    """A run has solved the problem once this fraction of the validation sequences
    meets the problem's success criterion."""
    workers: int = 2
    """Runs trained at the same time, each in its own process (one torch thread each
    unless train.threads says otherwise); 1 trains them one after another in this process."""

    def __post_init__(self) -> None:
        check_model_names(self.models, "sweep.models")
        for key in ("lengths", "seeds"):
            if not getattr(self, key):
                raise ValueError(f"sweep.{key} must not be empty")
        if any(length <= 0 for length in self.lengths):
            raise ValueError(f"sweep.lengths must be positive, got {self.lengths}")
        if not 0 < self.solve_rate <= 1:
            raise ValueError(f"sweep.solve_rate must be in (0, 1], got {self.solve_rate}")
        if self.workers < 1:
            raise ValueError(f"sweep.workers must be at least 1, got {self.workers}")


def _sweep_train() -> TrainConfig:
    return TrainConfig(
        epochs=1, max_time=90.0, batch_size=16, optimizer=OptimizerConfig(lr=3e-3),
        eval_every=250, log_every=250, monitor="solved", monitor_mode="max",
    )


@dataclass
class SweepConfig:
    """``lstmkit sweep``: train every model at every lag with every seed."""

    task: ProblemName = "adding"
    """The problem (see 'lstmkit train memory --help')."""
    sweep: SweepSettings = field(default_factory=SweepSettings)
    """Models, lags, seeds and the success rate."""
    model: MemoryModelConfig = field(default_factory=lambda: MemoryModelConfig(
        RecurrentConfig(hidden_size=32, forget_bias=5.0)
    ))
    """The base model; sweep.models changes the cell (forget_bias applies to the LSTMs
    with a learned forget gate)."""
    data: MemoryDataConfig = field(default_factory=lambda: MemoryDataConfig(
        train_size=150_000, validation_size=500, test_size=1_000
    ))
    """Amount of data per run (data.length is set by sweep.lengths); with one epoch every
    training sequence is new, as in the 1997 paper's on-line training."""
    train: TrainConfig = field(default_factory=_sweep_train)
    """The training loop of every run: its budget is train.epochs × data.train_size
    sequences and train.max_time seconds; it stops early once solved."""
    run: RunConfig = field(default_factory=lambda: RunConfig(progress="off", tensorboard=False, plots=False))
    """Where the sweep directory goes (run.root/run.name) and how runs report progress."""

    def __post_init__(self) -> None:
        if self.train.monitor != "solved" or self.train.monitor_mode != "max":
            raise ValueError(
                "a sweep measures success: train.monitor must be 'solved' with "
                f"train.monitor_mode 'max', got {self.train.monitor!r} ({self.train.monitor_mode})"
            )
        for length in self.sweep.lengths:  # every combination must be valid before any runs
            self.run_config(self.sweep.models[0], length, self.sweep.seeds[0], Path("."))

    def run_config(self, model: str, length: int, seed: int, root: Path) -> MemoryConfig:
        """The `MemoryConfig` of one combination, writing under ``root``."""
        train = replace(
            self.train, seed=seed,
            early_stopping=replace(self.train.early_stopping, target=self.sweep.solve_rate),
        )
        return MemoryConfig(
            task=self.task,
            model=MemoryModelConfig(recurrent_for(model, self.model.recurrent)),
            data=replace(self.data, length=length),
            train=train,
            run=replace(self.run, root=str(root), name=f"{model}-T{length}-seed{seed}", report=False),
        )


def train_one(model_name: str, config: MemoryConfig) -> dict:
    """Train one combination (model ``model_name``); its row of ``results.csv``."""
    if config.train.threads is None and multiprocessing.parent_process() is not None:
        torch.set_num_threads(1)  # a worker process: leave the other cores to the others
    task = MemoryTask(config)
    started = time.perf_counter()
    trainer = Trainer(task, config.train, config.run, full_config=config_to_dict(config))
    result = trainer.fit()
    seconds = time.perf_counter() - started
    model = trainer.model.eval()
    with torch.no_grad():
        test = task.evaluate(model, "test")
    seen = result.step * config.train.batch_size * config.train.accumulate
    solved = result.reason == "target_reached"
    return {
        "model": model_name, "length": config.length, "seed": config.train.seed,
        "solved": solved, "sequences_to_solve": seen if solved else None, "sequences_seen": seen,
        "steps": result.step, "seconds": round(seconds, 2), "stop_reason": result.reason,
        "validation_loss": result.metrics.get("loss"), "validation_solved": result.metrics.get("solved"),
        "test_loss": test["loss"], "test_solved": test["solved"], "baseline_loss": task.baseline(),
    }


def preflight(config: SweepConfig) -> None:
    """Build every model and run it on one sequence of the shortest length, so that a
    combination that cannot run (say, a forced backend that lacks a variant) is refused
    before anything is trained or written."""
    length = min(config.sweep.lengths)
    for model in config.sweep.models:
        task = MemoryTask(config.run_config(model, length, config.sweep.seeds[0], Path(".")))
        try:
            with torch.no_grad():
                task.loss(task.build_model(), task.collate([task.train_data()[0]]))
        except ValueError as error:
            raise ValueError(f"sweep.models: {model} cannot run with this configuration: {error}") from None


def run_sweep(config: SweepConfig, directory: Path,
              announce: Callable[[dict, int, int], None] | None = None) -> list[dict]:
    """Train every combination into ``directory``; write results, summary and plot.

    ``announce(row, done, total)`` is called as each run finishes (progress display).
    """
    preflight(config)
    settings = config.sweep
    runs_root = directory / "runs"
    combinations = [
        (model, config.run_config(model, length, seed, runs_root))
        for length in settings.lengths for model in settings.models for seed in settings.seeds
    ]
    rows: list[dict] = []

    def finished(row: dict) -> None:
        rows.append(row)
        write_text_atomic(directory / "results.csv", _csv(rows))
        if announce is not None:
            announce(row, len(rows), len(combinations))

    if settings.workers == 1:
        for model, run in combinations:
            finished(train_one(model, run))
    else:
        context = multiprocessing.get_context("spawn")  # no forked torch thread pools
        with ProcessPoolExecutor(settings.workers, mp_context=context) as pool:
            for row in pool.map(train_one, *zip(*combinations)):
                finished(row)
    summary = summarise(rows)
    write_text_atomic(directory / "summary.csv", summary.to_csv(index=False))
    write_text_atomic(directory / "summary.md", summary_markdown(summary, config))
    plot_sweep(summary, directory / "sweep.png", title=f"{config.task}: success and sequences to solve")
    return rows


def _csv(rows: list[dict]) -> str:
    lines = [",".join(RESULT_COLUMNS)]
    for row in rows:
        lines.append(",".join("" if row[key] is None else str(row[key]) for key in RESULT_COLUMNS))
    return "\n".join(lines) + "\n"


__all__ = [
    "DEFAULT_MODELS", "RESULT_COLUMNS", "SweepConfig", "SweepSettings", "preflight",
    "run_sweep", "train_one",
]

