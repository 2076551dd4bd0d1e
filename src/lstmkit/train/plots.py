"""PNG plots of a run's curves, drawn from its ``metrics.csv``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..files import write_atomic
from .metrics_log import read_metrics

PLOT_FILE = "curves.png"
# Training-side series worth a panel; the rest (throughput) stays in the CSV.
_TRAIN_PANELS = ("loss", "lr", "grad_norm")


def plot_curves(run_dir: Path) -> Path | None:
    """Draw one panel per metric (training and validation loss share one) to ``curves.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[tuple[str, str], tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for row in read_metrics(run_dir / "metrics.csv"):
        key = (row["split"], row["metric"])
        series[key][0].append(int(row["step"]))
        series[key][1].append(float(row["value"]))
    panels = ["loss"] + [name for name in _TRAIN_PANELS[1:] if ("train", name) in series]
    panels += sorted({name for split, name in series if split != "train" and name != "loss"})
    if not series:
        return None
    figure, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), squeeze=False)
    for axis, name in zip(axes[:, 0], panels):
        for split in ("train", "validation"):
            if (split, name) in series:
                steps, values = series[(split, name)]
                axis.plot(steps, values, label=split, marker="o" if split != "train" else None, markersize=3)
        axis.set_ylabel(name)
        if name in ("loss", "lr") and all(v > 0 for s in ("train", "validation") for v in series.get((s, name), ([], []))[1]):
            axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend(loc="best", fontsize=8)
    axes[-1, 0].set_xlabel("optimiser step")
    figure.tight_layout()
    path = run_dir / PLOT_FILE
    write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=100))
    plt.close(figure)
    return path
