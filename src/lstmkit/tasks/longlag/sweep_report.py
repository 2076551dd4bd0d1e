"""The sweep's table and plot: success rate and sequences-to-solve per model and lag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...files import write_atomic

SUMMARY_COLUMNS = (
    "model", "length", "runs", "solved_runs", "success_rate", "median_sequences_to_solve",
    "mean_sequences_to_solve", "mean_test_solved", "mean_test_loss", "baseline_loss",
    "mean_seconds",
)


def summarise(rows: list[dict]) -> pd.DataFrame:
    """One row per (model, length), models in the order they first appear.

    ``success_rate`` = solved runs / runs; the sequences-to-solve statistics are over
    the solved runs only (NaN when none solved); test figures are over all runs.
    """
    if not rows:
        raise ValueError("rows: the sweep has no finished runs to summarise")
    frame = pd.DataFrame(rows)
    order = list(dict.fromkeys(frame["model"]))
    summary = []
    for (model, length), group in frame.groupby(["model", "length"], sort=False):
        solved = group[group["solved"].astype(bool)]
        to_solve = solved["sequences_to_solve"].astype(float)
        summary.append({
            "model": model, "length": int(length), "runs": len(group), "solved_runs": len(solved),
            "success_rate": len(solved) / len(group),
            "median_sequences_to_solve": float(to_solve.median()) if len(solved) else np.nan,
            "mean_sequences_to_solve": float(to_solve.mean()) if len(solved) else np.nan,
            "mean_test_solved": float(group["test_solved"].astype(float).mean()),
            "mean_test_loss": float(group["test_loss"].astype(float).mean()),
            "baseline_loss": _first(group["baseline_loss"]),
            "mean_seconds": float(group["seconds"].astype(float).mean()),
        })
    result = pd.DataFrame(summary, columns=list(SUMMARY_COLUMNS))
    result["model"] = pd.Categorical(result["model"], categories=order, ordered=True)
    return result.sort_values(["length", "model"]).reset_index(drop=True).astype({"model": str})


def _first(values: pd.Series) -> float:
    present = values.dropna()
    return float(present.iloc[0]) if len(present) else np.nan


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{value:,.0f}"


def summary_markdown(summary: pd.DataFrame, config: Any) -> str:
    """A Markdown table (one row per model and lag) under a line stating the budget."""
    train, data = config.train, config.data
    budget = f"{train.epochs * data.train_size:,} sequences"
    if train.max_time is not None:
        budget += f" or {train.max_time:g} s"
    header = (
        f"{config.task}: solved = {config.sweep.solve_rate:.0%} of {data.validation_size} "
        f"validation sequences meet the criterion; budget per run {budget}; "
        f"batch {train.batch_size}, lr {train.optimizer.lr:g}, "
        f"hidden {config.model.recurrent.hidden_size}, forget bias {config.model.recurrent.forget_bias}."
    )
    lines = [
        header,
        "",
        "| model | T | solved runs | median sequences to solve | test solved | test loss | memoryless loss | s/run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary.itertuples(index=False):
        lines.append(
            f"| {row.model} | {row.length} | {row.solved_runs}/{row.runs} | "
            f"{_number(row.median_sequences_to_solve)} | {row.mean_test_solved:.1%} | "
            f"{row.mean_test_loss:.4g} | "
            f"{'—' if np.isnan(row.baseline_loss) else f'{row.baseline_loss:.4g}'} | {row.mean_seconds:.0f} |"
        )
    return "\n".join(lines) + "\n"


def plot_sweep(summary: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Two panels against the lag T, one line per model: the success rate, and the
    median sequences-to-solve of the solved runs (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rate_axis, cost_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    markers = "osD^v<>ph*XP"
    for index, (model, group) in enumerate(summary.groupby("model", sort=False)):
        # Ten colours, then dashed lines and other markers: every model stays distinct.
        style = {"color": f"C{index % 10}", "marker": markers[index % len(markers)],
                 "linestyle": "-" if index < 10 else "--", "label": model, "alpha": 0.85}
        rate_axis.plot(group["length"], group["success_rate"], **style)
        solved = group.dropna(subset=["median_sequences_to_solve"])
        if len(solved):
            cost_axis.plot(solved["length"], solved["median_sequences_to_solve"], **style)
    lengths = sorted(summary["length"].unique())
    for axis in (rate_axis, cost_axis):
        axis.set_xlabel("sequence length T (lag)")
        axis.set_xscale("log")
        axis.set_xticks(lengths, [str(t) for t in lengths])
        axis.minorticks_off()
        axis.grid(alpha=0.3)
    rate_axis.set_ylabel("fraction of runs that solved it")
    rate_axis.set_ylim(-0.05, 1.05)
    cost_axis.set_ylabel("median training sequences to solve")
    cost_axis.set_yscale("log")
    rate_axis.legend(fontsize=8, loc="best")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = Path(path)
    write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=100))
    plt.close(figure)
    return path
