"""Small helpers for tests that train tiny models or drive the ``lstmkit`` command.

Generic on purpose: a tiny memory-task config (API and command line), running the
command in a subprocess, waiting for a file, and snapshotting a directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lstmkit.cli.parsing import config_to_dict
from lstmkit.tasks import MemoryConfig, MemoryTask, RecurrentConfig
from lstmkit.tasks.memory import MemoryDataConfig, MemoryModelConfig
from lstmkit.train import OptimizerConfig, RunConfig, TrainConfig, Trainer, TrainResult

#: command-line options of a run that takes well under a second (16 steps)
TINY_OPTIONS: dict[str, object] = {
    "data.train_size": 256, "data.length": 8, "data.validation_size": 32, "data.test_size": 32,
    "model.recurrent.hidden_size": 8, "train.epochs": 2, "train.batch_size": 32,
    "run.progress": "lines", "run.plots": False, "run.tensorboard": False,
}


def _option_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def memory_argv(root: Path, name: str | None = None, options: dict | None = None) -> list[str]:
    """``train memory`` arguments: `TINY_OPTIONS` updated with ``options`` (dotted keys)."""
    merged = {**TINY_OPTIONS, **(options or {}), "run.root": root}
    if name is not None:
        merged["run.name"] = name
    argv = ["train", "memory"]
    for key, value in merged.items():
        argv += [f"--{key}", _option_value(value)]
    return argv


def memory_config(
    root: Path, name: str | None = None, *, train: dict | None = None,
    recurrent: dict | None = None, data: dict | None = None,
) -> MemoryConfig:
    """A tiny `MemoryConfig` (16 steps unless ``train`` says otherwise), quiet outputs."""
    train = dict(train or {})
    optimizer = OptimizerConfig(**train.pop("optimizer", {"lr": 1e-2}))
    return MemoryConfig(
        model=MemoryModelConfig(RecurrentConfig(**{"hidden_size": 8, **(recurrent or {})})),
        data=MemoryDataConfig(**{
            "length": 8, "train_size": 256, "validation_size": 32, "test_size": 32, **(data or {}),
        }),
        train=TrainConfig(**{"epochs": 2, "batch_size": 32, "optimizer": optimizer, **train}),
        run=RunConfig(root=str(root), name=name, progress="lines", tensorboard=False, plots=False),
    )


def fit(config, task=None, **kwargs) -> tuple[Trainer, TrainResult]:
    """Train ``task`` (default: `MemoryTask` of ``config``) in this process."""
    task = MemoryTask(config) if task is None else task
    trainer = Trainer(task, config.train, config.run, full_config=config_to_dict(config), **kwargs)
    return trainer, trainer.fit()


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def run_cli(args: list, *, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m lstmkit ARGS`` to completion, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "lstmkit", *map(str, args)], check=False, capture_output=True,
        text=True, env=cli_env(), timeout=timeout, stdin=subprocess.DEVNULL,
    )


def start_cli(args: list, log_dir: Path) -> subprocess.Popen:
    """Start ``python -m lstmkit ARGS``; stdout and stderr go to files in ``log_dir``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "stdout.txt").open("w") as out, (log_dir / "stderr.txt").open("w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "lstmkit", *map(str, args)], stdout=out, stderr=err,
            stdin=subprocess.DEVNULL, env=cli_env(),
        )


def logs(log_dir: Path) -> tuple[str, str]:
    """The (stdout, stderr) a `start_cli` process wrote."""
    return (log_dir / "stdout.txt").read_text(), (log_dir / "stderr.txt").read_text()


def wait_for(
    condition: Callable[[], bool], *, timeout: float = 120, process: subprocess.Popen | None = None,
    interval: float = 0.002,
) -> None:
    """Poll ``condition`` until true; fail if ``process`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the process exited (code {process.returncode}) before the condition held"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def read_tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes)."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(Path(directory).rglob("*")) if path.is_file()
    }


def one_line_error(stderr: str) -> str:
    """The single ``lstmkit: error: ...`` line ``stderr`` must consist of."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one error line, got:\n{stderr}"
    assert lines[0].startswith("lstmkit: error: "), lines[0]
    return lines[0]
