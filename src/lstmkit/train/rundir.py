"""Run directories: one per run, created fresh, with a ``config.yaml`` never overwritten."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from ..files import write_new_text

CONFIG_FILE = "config.yaml"


def create_run_directory(root: str | Path, task: str, name: str | None = None) -> Path:
    """Create and return a new, empty run directory under ``root``.

    ``name`` (a user's choice) must not exist yet, or must be an empty directory;
    without it the name is ``TASK-YYYYmmdd-HHMMSS`` with ``-2``, ``-3``... appended when
    that exists already. Creation is ``mkdir`` without ``exist_ok``, so two runs started
    in the same second still get different directories.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if name is not None:
        path = root / name
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise FileExistsError(
                f"run directory {path} already exists and is not empty; choose another "
                "run.name, or continue that run with --resume"
            )
        path.mkdir(exist_ok=True)
        return path
    stem = f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in range(1, 1000):
        path = root / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a new run directory named {stem}-N under {root}")


def write_config(run_dir: Path, config: dict) -> Path:
    """Write the resolved config as ``config.yaml``; refuses to replace an existing one."""
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    return write_new_text(run_dir / CONFIG_FILE, text)
