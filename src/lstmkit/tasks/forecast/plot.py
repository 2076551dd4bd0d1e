"""PNG plots of forecasts: the backtest (history, each window's forecast and interval,
the baselines) and a forecast past the end of the series."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...data.series import Series
from ...files import write_atomic

_BASELINE_STYLES = {"naive": ":", "seasonal_naive": "-.", "ets": "--", "arima": (0, (5, 1, 1, 1))}


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend, imported when a plot is drawn
    (it costs about 0.3 s, which every lstmkit command would pay at start-up)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> None:
    write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=110))
    _pyplot().close(figure)


def plot_backtest(
    path: Path, series: Series, origins: np.ndarray, lstm: dict[str, np.ndarray],
    baselines: dict[str, np.ndarray], *, interval_level: float | None = None,
    column: int = 0,
) -> Path:
    """History around the test period in black; at each origin the LSTM forecast (blue,
    with its interval band when given) and the baselines (grey line styles).

    Args:
        origins: ``(W,)`` test origins; ``lstm["point"]`` (and ``lower``/``upper``)
            ``(W, H, C)``; ``baselines``: name → ``(W, H, C)``.
    """
    horizon = lstm["point"].shape[1]
    start = max(0, int(origins.min()) - 4 * horizon)
    time, values = series.time, series.targets[:, column]
    figure, axes = _pyplot().subplots(figsize=(11, 4.5))
    axes.plot(time[start:], values[start:], color="black", linewidth=1.2, label="observed")
    for w, origin in enumerate(origins):
        span = time[origin : origin + horizon]
        first = w == 0
        axes.plot(span, lstm["point"][w, :, column], color="tab:blue", linewidth=1.6,
                  label="LSTM" if first else None)
        if interval_level is not None:
            axes.fill_between(span, lstm["lower"][w, :, column], lstm["upper"][w, :, column],
                              color="tab:blue", alpha=0.2,
                              label=f"LSTM {interval_level:.0%} interval" if first else None)
        for name, forecast in baselines.items():
            axes.plot(span, forecast[w, :, column], color="grey", linewidth=1.0,
                      linestyle=_BASELINE_STYLES.get(name, "--"), label=name if first else None)
        axes.axvline(time[origin], color="lightgrey", linewidth=0.8, zorder=0)
    axes.set_title(
        f"{series.name}: rolling-origin backtest, {len(origins)} origins × {horizon} steps"
    )
    axes.set_ylabel(series.target_names[column])
    axes.legend(loc="upper left", fontsize=8, ncol=3)
    figure.tight_layout()
    _save(figure, path)
    return path


def plot_future(path: Path, series: Series, forecast: dict[str, np.ndarray], column: int = 0) -> Path:
    """The last part of the series and the forecast past its end (with interval)."""
    horizon = forecast["point"].shape[0]
    start = max(0, len(series) - 6 * horizon)
    figure, axes = _pyplot().subplots(figsize=(11, 4.5))
    axes.plot(series.time[start:], series.targets[start:, column], color="black", label="observed")
    axes.plot(forecast["time"], forecast["point"][:, column], color="tab:blue", label="forecast")
    if "lower" in forecast:
        axes.fill_between(forecast["time"], forecast["lower"][:, column], forecast["upper"][:, column],
                          color="tab:blue", alpha=0.2, label="interval")
    axes.set_title(f"{series.name}: forecast of the next {horizon} steps")
    axes.set_ylabel(series.target_names[column])
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    _save(figure, path)
    return path
