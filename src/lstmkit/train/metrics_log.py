"""``metrics.csv`` (long format: one value per row) and optional TensorBoard events.

Rows are ``step, epoch, split, metric, value, elapsed_s``; ``split`` is ``train`` for
the running training loss, learning rate, gradient norm and throughput, and
``validation`` for evaluations. A resumed run first drops the rows written after its
checkpoint (they are recomputed identically), so the file never holds a step twice.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..files import write_text_atomic

METRICS_FILE = "metrics.csv"
COLUMNS = ("step", "epoch", "split", "metric", "value", "elapsed_s")


class MetricsLog:
    """Append metric rows to ``run_dir/metrics.csv`` and mirror them to TensorBoard."""

    def __init__(self, run_dir: Path, *, tensorboard: bool, resume_step: int | None = None) -> None:
        self.path = run_dir / METRICS_FILE
        if resume_step is not None and self.path.exists():
            self._truncate_after(resume_step)
        if not self.path.exists():
            write_text_atomic(self.path, ",".join(COLUMNS) + "\n")
        self._writer = _tensorboard_writer(run_dir / "tensorboard") if tensorboard else None

    def log(self, step: int, epoch: int, split: str, metrics: dict[str, float], elapsed: float) -> None:
        with self.path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            for name, value in metrics.items():
                writer.writerow([step, epoch, split, name, repr(float(value)), f"{elapsed:.3f}"])
        if self._writer is not None:
            for name, value in metrics.items():
                if math.isfinite(value):
                    self._writer.add_scalar(f"{split}/{name}", value, step)
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def _truncate_after(self, step: int) -> None:
        rows = read_metrics(self.path)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            if int(row["step"]) <= step:
                writer.writerow([row[column] for column in COLUMNS])
        write_text_atomic(self.path, buffer.getvalue())


def read_metrics(path: Path) -> list[dict[str, str]]:
    """The rows of a ``metrics.csv`` as dicts."""
    with Path(path).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _tensorboard_writer(directory: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is an optional extra
        return None
    return SummaryWriter(log_dir=str(directory))
