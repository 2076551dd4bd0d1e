"""Point and interval forecast metrics (pure numpy).

Forecasts are evaluated on ``W`` rolling-origin windows, each ``H`` steps ahead over ``C``
target columns, so the arrays are usually ``(W, H, C)``; the scale-free point metrics (MAE,
RMSE, sMAPE) and the coverage accept any shape as long as the arrays agree. With ``y`` the
actual values, ``ŷ`` the forecast and the mean taken over all ``N`` elements:

- ``MAE   = mean |y - ŷ|``
- ``RMSE  = sqrt(mean (y - ŷ)^2)``
- ``sMAPE = mean 200 |y - ŷ| / (|y| + |ŷ|)`` in percent (the M4 competition's definition);
  an element with ``|y| + |ŷ| == 0`` (both zero: a perfect forecast) contributes 0;
- ``MASE  = mean over (w, c) of MAE_{w,c} / scale_{w,c}`` where
  ``scale_{w,c} = mean_{t=m+1..T_w} |y_t - y_{t-m}|`` is the in-sample MAE of the seasonal
  naive forecast (season ``m``) on window ``w``'s own history, i.e. everything before its
  forecast origin;
- ``coverage = fraction of elements with lower <= y <= upper``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "forecast_metrics", "interval_coverage", "mae", "mase", "mase_scale", "rmse", "smape",
]


def _finite(array, name: str) -> np.ndarray:
    """``array`` as float64, refusing empty arrays and NaN/inf values."""
    out = np.asarray(array, dtype=np.float64)
    if out.size == 0:
        raise ValueError(f"{name} is empty (shape {out.shape})")
    if not np.all(np.isfinite(out)):
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return out


def _pair(actual, forecast, other: str = "forecast") -> tuple[np.ndarray, np.ndarray]:
    y = _finite(actual, "actual")
    f = _finite(forecast, other)
    if y.shape != f.shape:
        raise ValueError(f"{other} has shape {f.shape} but actual has shape {y.shape}")
    return y, f


def _season(season) -> int:
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ValueError(f"season must be a positive integer, got {season!r}")
    return int(season)


def mae(actual, forecast) -> float:
    """Mean absolute error ``mean |y - ŷ|`` over all elements."""
    y, f = _pair(actual, forecast)
    return float(np.mean(np.abs(y - f)))


def rmse(actual, forecast) -> float:
    """Root mean squared error ``sqrt(mean (y - ŷ)^2)`` over all elements."""
    y, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent (M4): ``mean 200 |y - ŷ| / (|y| + |ŷ|)``.

    Ranges over ``[0, 200]``. Elements where ``|y| + |ŷ| == 0`` (both exactly zero) contribute
    0 to the mean (they still count in ``N``).
    """
    y, f = _pair(actual, forecast)
    denominator = np.abs(y) + np.abs(f)
    numerator = 200.0 * np.abs(y - f)
    terms = np.divide(
        numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0
    )
    return float(np.mean(terms))


def mase_scale(history, season: int) -> np.ndarray:
    """MASE denominator per column: ``mean_{t=m+1..T} |y_t - y_{t-m}|`` (``m = season``).

    Args:
        history: ``(T, C)`` in-sample values (a 1-D ``(T,)`` history is one column).
        season: the seasonal period ``m`` (1 for the plain naive scale).

    Returns:
        ``(C,)`` the in-sample mean absolute error of the seasonal naive forecast.

    Raises:
        ValueError: ``history`` has ``T <= m`` points (no seasonal difference exists), or a
            column's scale is 0 (a history that repeats itself exactly every ``m`` steps,
            e.g. a constant one: MASE is undefined), or NaN/inf values.
    """
    m = _season(season)
    h = _finite(history, "history")
    if h.ndim == 1:
        h = h[:, None]
    if h.ndim != 2:
        raise ValueError(f"history must be (T, C) or (T,), got shape {h.shape}")
    if h.shape[0] <= m:
        raise ValueError(
            f"MASE needs a history longer than the season: history length {h.shape[0]} "
            f"<= season {m}"
        )
    scale = np.mean(np.abs(h[m:] - h[:-m]), axis=0)
    zero = np.flatnonzero(scale == 0)
    if zero.size:
        raise ValueError(
            f"MASE is undefined: the in-sample seasonal naive error (season {m}) is 0 for "
            f"column(s) {zero.tolist()} of the history (constant or exactly periodic)"
        )
    return scale


def mase(actual, forecast, histories: Sequence, season: int) -> float:
    """Mean absolute scaled error over windows and columns.

    For window ``w`` and column ``c``: ``MAE_{w,c} = mean_h |y_{w,h,c} - ŷ_{w,h,c}|`` divided
    by ``scale_{w,c} = mase_scale(histories[w], season)[c]``, the scale coming from that
    window's own history (everything before its forecast origin); the result is the mean of
    these ratios over ``w`` and ``c``.

    Args:
        actual: ``(W, H, C)`` values.
        forecast: ``(W, H, C)`` forecasts.
        histories: ``W`` arrays ``(T_w, C)`` (lengths may differ; ``(T_w,)`` when ``C == 1``).
        season: the seasonal period ``m`` of the scale.
    """
    y, f = _pair(actual, forecast)
    if y.ndim != 3:
        raise ValueError(f"actual and forecast must be (W, H, C) for MASE, got shape {y.shape}")
    windows, _, columns = y.shape
    if isinstance(histories, np.ndarray) and histories.ndim == 2:
        raise ValueError(
            f"histories must be a sequence of {windows} arrays (T_w, C), one per window, "
            f"got a single array of shape {histories.shape}"
        )
    if len(histories) != windows:
        raise ValueError(
            f"histories has {len(histories)} entries but actual has {windows} windows "
            f"(shape {y.shape})"
        )
    scales = np.empty((windows, columns))
    for w, history in enumerate(histories):
        try:
            scale = mase_scale(history, season)
        except ValueError as error:
            raise ValueError(f"histories[{w}]: {error}") from error
        if scale.shape != (columns,):
            raise ValueError(
                f"histories[{w}] has shape {np.shape(history)} ({scale.shape[0]} column(s)) "
                f"but actual has shape {y.shape} ({columns} column(s))"
            )
        scales[w] = scale
    errors = np.mean(np.abs(y - f), axis=1)  # (W, C)
    return float(np.mean(errors / scales))


def interval_coverage(actual, lower, upper) -> float:
    """Fraction of elements with ``lower <= y <= upper`` (bounds included).

    An element whose bounds cross (``lower > upper``) is never covered.
    """
    y, lo = _pair(actual, lower, "lower")
    _, hi = _pair(actual, upper, "upper")
    return float(np.mean((lo <= y) & (y <= hi)))


def forecast_metrics(actual, forecast, histories: Sequence, season: int) -> dict[str, float]:
    """``{"mae", "rmse", "smape", "mase"}`` of ``(W, H, C)`` forecasts (see the module doc)."""
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "smape": smape(actual, forecast),
        "mase": mase(actual, forecast, histories, season),
    }
