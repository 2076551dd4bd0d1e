"""Classical forecasting baselines (numpy and statsmodels).

Each baseline forecasts ``H`` steps ahead from a history ``(T, C)`` of ``C`` target columns,
one column at a time, and returns ``(H, C)`` (a 1-D history ``(T,)`` gives ``(H,)``). With
``y_1 .. y_T`` the history of one column:

- ``naive``: ``ŷ_{T+h} = y_T``;
- ``seasonal_naive``: ``ŷ_{T+h} = y_{T+h-m·ceil(h/m)}``, the last observed season repeated
  (``m = 1`` is ``naive``);
- ``ets``: Holt-Winters exponential smoothing (statsmodels ``ExponentialSmoothing``) with an
  additive damped trend, plus additive seasonality of period ``m`` when ``m > 1`` and the
  history holds at least two seasons (``T >= 2m``), parameters fitted by ``fit()``'s defaults;
- ``arima``: statsmodels ``ARIMA(p, d, q)`` with a constant when ``d == 0``, a drift
  (``trend="t"``, linear in the levels) when ``d == 1`` and no trend term when ``d >= 2``,
  fitted by maximum likelihood.

A column that is constant over the history is forecast as that constant by ``ets`` and
``arima`` without fitting (every one of these models forecasts it so; the optimisers only
add noise). statsmodels' convergence and estimation warnings are silenced inside the fits
(locally: no global warning filter is left behind).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = [
    "BASELINES", "arima", "baseline_forecasts", "ets", "naive", "seasonal_naive",
]

BASELINES: tuple[str, ...] = ("naive", "seasonal_naive", "ets", "arima")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _history(history, minimum: int = 1, what: str = "") -> tuple[np.ndarray, bool]:
    """``history`` as float64 ``(T, C)`` and whether it came in 1-D."""
    h = np.asarray(history, dtype=np.float64)
    flat = h.ndim == 1
    if flat:
        h = h[:, None]
    if h.ndim != 2 or h.shape[1] == 0:
        raise ValueError(f"history must be (T, C) or (T,) with C >= 1, got shape {h.shape}")
    if h.shape[0] < minimum:
        why = f" {what}" if what else ""
        raise ValueError(
            f"history has {h.shape[0]} point(s) but at least {minimum} are needed{why}"
        )
    if not np.all(np.isfinite(h)):
        raise ValueError("history contains NaN or infinite values")
    return h, flat


def _shaped(forecast: np.ndarray, flat: bool) -> np.ndarray:
    return forecast[:, 0] if flat else forecast


def _per_column(
    h: np.ndarray, horizon: int, fit: Callable[[np.ndarray], np.ndarray], method: str
) -> np.ndarray:
    """Run ``fit(column) -> (horizon,)`` on every column; constant columns stay constant."""
    out = np.empty((horizon, h.shape[1]))
    for c in range(h.shape[1]):
        column = h[:, c]
        if np.all(column == column[0]):
            out[:, c] = column[0]
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning, ValueWarning, overflow...
            forecast = np.asarray(fit(column), dtype=np.float64)
        if forecast.shape != (horizon,) or not np.all(np.isfinite(forecast)):
            raise RuntimeError(
                f"{method} gave a non-finite forecast for column {c} "
                f"(history of {h.shape[0]} points)"
            )
        out[:, c] = forecast
    return out


def naive(history, horizon: int) -> np.ndarray:
    """The last value repeated: ``ŷ_{T+h} = y_T``. Returns ``(H, C)``."""
    horizon = _positive_int(horizon, "horizon")
    h, flat = _history(history)
    return _shaped(np.repeat(h[-1:], horizon, axis=0), flat)


def seasonal_naive(history, horizon: int, season: int) -> np.ndarray:
    """The last season repeated: ``ŷ_{T+h} = y_{T+h-m·ceil(h/m)}``. Returns ``(H, C)``.

    ``season = 1`` is :func:`naive`; the history needs at least ``season`` points.
    """
    horizon = _positive_int(horizon, "horizon")
    m = _positive_int(season, "season")
    h, flat = _history(history, m, f"for seasonal_naive with season {m}")
    # 0-based: T + h - m*ceil(h/m) - 1 = T - m + (h - 1) mod m for h = 1..H.
    index = h.shape[0] - m + np.arange(horizon) % m
    return _shaped(h[index], flat)


def ets(history, horizon: int, season: int) -> np.ndarray:
    """Damped additive-trend exponential smoothing (plus additive seasonality). ``(H, C)``.

    statsmodels ``ExponentialSmoothing(trend="add", damped_trend=True)``, with
    ``seasonal="add", seasonal_periods=season`` when ``season > 1`` and ``T >= 2 * season``,
    otherwise no seasonal component; ``fit()`` with its defaults. Needs ``T >= 2``.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    horizon = _positive_int(horizon, "horizon")
    m = _positive_int(season, "season")
    h, flat = _history(history, 2, "for ets (damped trend)")
    seasonal = m > 1 and h.shape[0] >= 2 * m

    def fit(column: np.ndarray) -> np.ndarray:
        model = ExponentialSmoothing(
            column,
            trend="add",
            damped_trend=True,
            seasonal="add" if seasonal else None,
            seasonal_periods=m if seasonal else None,
        )
        return model.fit().forecast(horizon)

    return _shaped(_per_column(h, horizon, fit, "ets"), flat)


def _order(order) -> tuple[int, int, int]:
    try:
        values = tuple(order)
    except TypeError:
        values = ()
    if len(values) != 3 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise ValueError(
            f"arima order must be three non-negative integers (p, d, q), got {order!r}"
        )
    return tuple(int(v) for v in values)  # type: ignore[return-value]


def arima(history, horizon: int, order=(2, 0, 1)) -> np.ndarray:
    """ARIMA(p, d, q) fitted by maximum likelihood, then forecast. Returns ``(H, C)``.

    statsmodels ``ARIMA(order=order)`` with ``trend="c"`` (a constant mean) when ``d == 0``,
    ``trend="t"`` (a drift) when ``d == 1`` and ``trend="n"`` when ``d >= 2`` (lower-order
    terms vanish under differencing). Needs ``T >= d + 2``.
    """
    from statsmodels.tsa.arima.model import ARIMA

    horizon = _positive_int(horizon, "horizon")
    p, d, q = _order(order)
    h, flat = _history(history, d + 2, f"for arima with order {(p, d, q)}")
    trend = "c" if d == 0 else ("t" if d == 1 else "n")

    def fit(column: np.ndarray) -> np.ndarray:
        return ARIMA(column, order=(p, d, q), trend=trend).fit().forecast(horizon)

    return _shaped(_per_column(h, horizon, fit, f"arima{(p, d, q)}"), flat)


def baseline_forecasts(
    histories: Sequence,
    horizon: int,
    season: int,
    methods: Sequence[str] = BASELINES,
    arima_order=(2, 0, 1),
) -> dict[str, np.ndarray]:
    """Each method's forecast from each window's history: ``name -> (W, H, C)``.

    Args:
        histories: ``W`` arrays ``(T_w, C)`` (lengths may differ, columns may not), window
            ``w``'s history being everything before its forecast origin.
        horizon: steps ahead ``H``.
        season: the seasonal period ``m`` (used by ``seasonal_naive`` and ``ets``).
        methods: names among :data:`BASELINES` (a single name is accepted too).
        arima_order: ``(p, d, q)`` for ``arima``.
    """
    horizon = _positive_int(horizon, "horizon")
    season = _positive_int(season, "season")
    names = [methods] if isinstance(methods, str) else list(methods)
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; known: {', '.join(BASELINES)}")
    if not names:
        raise ValueError(f"no baseline methods given; known: {', '.join(BASELINES)}")
    if isinstance(histories, np.ndarray) and histories.ndim == 2:
        raise ValueError(
            f"histories must be a sequence of arrays (T_w, C), one per window, got a single "
            f"array of shape {histories.shape}"
        )
    if len(histories) == 0:
        raise ValueError("histories is empty: no windows to forecast")
    arrays = [_history(h)[0] for h in histories]
    columns = {a.shape[1] for a in arrays}
    if len(columns) != 1:
        shapes = [np.shape(h) for h in histories]
        raise ValueError(f"histories must all have the same columns, got shapes {shapes}")
    _order(arima_order)
    run = {
        "naive": lambda a: naive(a, horizon),
        "seasonal_naive": lambda a: seasonal_naive(a, horizon, season),
        "ets": lambda a: ets(a, horizon, season),
        "arima": lambda a: arima(a, horizon, arima_order),
    }
    out: dict[str, np.ndarray] = {}
    # The fits are tiny: BLAS threads only contend (4-40x slower on a busy 2-core box).
    with threadpool_limits(limits=1, user_api="blas"):
        for name in dict.fromkeys(names):
            forecasts = []
            for w, a in enumerate(arrays):
                try:
                    forecasts.append(run[name](a))
                except (ValueError, RuntimeError) as error:
                    raise type(error)(f"{name} on histories[{w}]: {error}") from error
            out[name] = np.stack(forecasts)
    return out
