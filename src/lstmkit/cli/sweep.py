"""``lstmkit sweep``: resolve the sweep's config, run it, print the summary."""

from __future__ import annotations

import sys
from typing import Any

import yaml

from ..tasks.longlag.sweep import SweepConfig, preflight, run_sweep
from ..train.config import config_to_dict
from ..train.rundir import create_run_directory, write_config
from .parsing import dataclass_from_namespace, sweep_parser


def sweep(namespace: Any) -> int:
    """Train every combination into a new sweep directory; print each run and the table."""
    config = dataclass_from_namespace(SweepConfig, sweep_parser(), namespace)
    resolved = config_to_dict(config)
    if namespace.print_config:
        sys.stdout.write(yaml.safe_dump(resolved, sort_keys=False))
        return 0
    preflight(config)  # refuse a combination that cannot run before creating anything
    directory = create_run_directory(config.run.root, f"sweep-{config.task}", config.run.name)
    write_config(directory, resolved)
    settings = config.sweep
    total = len(settings.models) * len(settings.lengths) * len(settings.seeds)
    print(f"sweep directory: {directory} ({total} runs)", flush=True)

    def announce(row: dict, done: int, total: int) -> None:
        outcome = (
            f"solved after {row['sequences_to_solve']:,} sequences" if row["solved"]
            else f"not solved in {row['sequences_seen']:,} sequences ({row['stop_reason']})"
        )
        print(
            f"[{done}/{total}] {row['model']} T={row['length']} seed {row['seed']}: {outcome}; "
            f"test solved {row['test_solved']:.1%}, {row['seconds']:.0f} s",
            flush=True,
        )

    run_sweep(config, directory, announce)
    print((directory / "summary.md").read_text(encoding="utf-8"), end="")
    print(f"wrote {directory / 'results.csv'}, summary.csv, summary.md and sweep.png")
    return 0
