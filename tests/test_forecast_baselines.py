"""Classical forecasting baselines: exact numbers for the naive ones, recovery of simple
signals for ETS and ARIMA, and the per-window bookkeeping of ``baseline_forecasts``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lstmkit.tasks.forecast.baselines import (
    BASELINES,
    arima,
    baseline_forecasts,
    ets,
    naive,
    seasonal_naive,
)


def _ar1(n: int, mean: float, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = np.empty(n)
    z[0] = mean
    for t in range(1, n):
        z[t] = mean + phi * (z[t - 1] - mean) + rng.standard_normal()
    return z


def test_baselines_names():
    assert BASELINES == ("naive", "seasonal_naive", "ets", "arima")


def test_naive_repeats_the_last_value():
    history = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, -30.0]])
    np.testing.assert_array_equal(naive(history, 4), [[3.0, -30.0]] * 4)
    out = naive([5.0, 7.0], 2)  # 1-D history -> (H,)
    assert out.shape == (2,)
    np.testing.assert_array_equal(out, [7.0, 7.0])


def test_seasonal_naive_repeats_the_last_season():
    y = np.arange(1.0, 8.0)  # 1..7, last season (m = 3) is 5, 6, 7
    # h = 1..5: y_{T+h-3*ceil(h/3)} = y_5, y_6, y_7, y_5, y_6
    np.testing.assert_array_equal(seasonal_naive(y, 5, 3), [5.0, 6.0, 7.0, 5.0, 6.0])
    two = np.stack([y, -10 * y], axis=1)
    np.testing.assert_array_equal(
        seasonal_naive(two, 4, 3), [[5.0, -50.0], [6.0, -60.0], [7.0, -70.0], [5.0, -50.0]]
    )
    # a history of exactly one season is enough
    np.testing.assert_array_equal(seasonal_naive([4.0, 9.0], 3, 2), [4.0, 9.0, 4.0])


def test_seasonal_naive_season_one_is_naive():
    history = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 8.0]])
    np.testing.assert_array_equal(seasonal_naive(history, 3, 1), naive(history, 3))


def test_seasonal_naive_needs_a_full_season():
    with pytest.raises(ValueError, match=r"2 point.*season 3"):
        seasonal_naive([1.0, 2.0], 3, 3)


@pytest.mark.parametrize("horizon", [0, -2, 1.5, True, "3"])
def test_horizon_must_be_a_positive_int(horizon):
    for call in (
        lambda: naive([1.0, 2.0], horizon),
        lambda: seasonal_naive([1.0, 2.0], horizon, 1),
        lambda: ets([1.0, 2.0, 3.0], horizon, 1),
        lambda: arima([1.0, 2.0, 3.0], horizon),
        lambda: baseline_forecasts([np.ones((3, 1))], horizon, 1, methods=("naive",)),
    ):
        with pytest.raises(ValueError, match="horizon must be a positive integer"):
            call()


def test_numpy_integer_horizon_accepted():
    assert naive([1.0, 2.0], np.int64(3)).shape == (3,)


def test_nan_history_rejected():
    with pytest.raises(ValueError, match="NaN"):
        naive([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="NaN"):
        arima(np.array([1.0, 2.0, np.nan, 3.0, 5.0]), 2)


def test_ets_follows_a_linear_trend():
    t = np.arange(70.0)
    y = 2.0 + 0.5 * t
    forecast = ets(y[:60], 10, 1)
    # a naive forecast would be up to 5 off at h = 10; the damped trend stays close
    np.testing.assert_allclose(forecast, y[60:], atol=0.5)
    # damped: the steps shrink by the same factor phi < 1 (an undamped trend keeps them equal)
    steps = np.diff(forecast)
    ratios = steps[1:] / steps[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert ratios[0] < 0.999


def test_ets_recovers_a_clean_seasonal_sine():
    t = np.arange(132.0)
    y = 10.0 + np.sin(2 * np.pi * t / 12)
    forecast = ets(y[:120], 12, 12)
    np.testing.assert_allclose(forecast, y[120:], atol=1e-3)
    # without the seasonal component the sine cannot be followed
    assert np.abs(ets(y[:120], 12, 1) - y[120:]).max() > 0.5


def test_ets_uses_seasonality_only_with_two_full_seasons():
    rng = np.random.default_rng(0)
    short = rng.standard_normal(23).cumsum()  # < 2 * 12: no seasonal component
    np.testing.assert_array_equal(ets(short, 5, 12), ets(short, 5, 1))
    long = rng.standard_normal(24).cumsum()  # = 2 * 12: seasonal
    assert np.abs(ets(long, 5, 12) - ets(long, 5, 1)).max() > 1e-3


def test_arima_ar1_reverts_to_the_mean():
    z = _ar1(1000, mean=5.0, phi=0.7, seed=1)
    assert abs(z[-1] - 5.0) > 1.0  # the last value is far enough from the mean to tell
    expected = 5.0 + 0.7 ** np.arange(1, 9) * (z[-1] - 5.0)
    np.testing.assert_allclose(arima(z, 8, order=(1, 0, 0)), expected, atol=0.3)
    np.testing.assert_allclose(arima(z, 8), expected, atol=0.3)  # default (2, 0, 1)


def test_arima_d1_has_a_drift():
    rng = np.random.default_rng(3)
    y = 3.0 + 2.0 * np.arange(100.0) + rng.standard_normal(100)
    drift = np.diff(y).mean()  # MLE of the drift of a random walk with drift
    expected = y[-1] + np.arange(1, 6) * drift
    np.testing.assert_allclose(arima(y, 5, order=(0, 1, 0)), expected, atol=1e-3)


def test_arima_d2_extrapolates_the_last_slope():
    rng = np.random.default_rng(4)
    y = 0.05 * np.arange(80.0) ** 2 + rng.standard_normal(80)
    # ARIMA(0, 2, 0) without trend: second differences are zero-mean noise
    expected = y[-1] + np.arange(1, 6) * (y[-1] - y[-2])
    np.testing.assert_allclose(arima(y, 5, order=(0, 2, 0)), expected, atol=1e-6)


def test_arima_and_ets_handle_columns_separately():
    a = _ar1(200, mean=5.0, phi=0.7, seed=2)
    b = 10.0 + np.sin(2 * np.pi * np.arange(200.0) / 12)
    history = np.stack([a, b], axis=1)
    for method, one in (
        (lambda h: arima(h, 6, (1, 0, 0)), lambda h: arima(h, 6, (1, 0, 0))),
        (lambda h: ets(h, 6, 12), lambda h: ets(h, 6, 12)),
    ):
        out = method(history)
        assert out.shape == (6, 2)
        np.testing.assert_allclose(out[:, 0], one(a), rtol=1e-6)
        np.testing.assert_allclose(out[:, 1], one(b), rtol=1e-6)
        assert one(a).shape == (6,)


def test_constant_columns_are_forecast_exactly():
    history = np.stack([np.full(30, 4.5), np.arange(30.0)], axis=1)
    for out in (ets(history, 3, 1), arima(history, 3), arima(history, 3, (1, 1, 0))):
        np.testing.assert_array_equal(out[:, 0], [4.5, 4.5, 4.5])


def test_short_histories_rejected_clearly():
    with pytest.raises(ValueError, match="1 point.*ets"):
        ets([1.0], 3, 1)
    with pytest.raises(ValueError, match=r"2 point.*arima.*\(1, 1, 1\)"):
        arima([1.0, 2.0], 3, (1, 1, 1))
    with pytest.raises(ValueError, match="order"):
        arima([1.0, 2.0, 4.0], 3, (1, -1, 0))
    with pytest.raises(ValueError, match="order"):
        arima([1.0, 2.0, 4.0], 3, (1, 0))


def test_statsmodels_warnings_silenced_locally():
    from statsmodels.tsa.arima.model import ARIMA

    y = np.arange(10.0) + np.random.default_rng(0).random(10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ARIMA(y, order=(2, 0, 1), trend="c").fit()  # 10 points: statsmodels itself warns
    assert caught, "precondition: this fit should warn when not silenced"
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        arima(y, 3)
        ets(y, 3, 4)
        baseline_forecasts([y[:8], y], 3, 2)
    assert [str(w.message) for w in caught] == []
    assert list(warnings.filters) == filters


def _histories():
    rng = np.random.default_rng(7)
    series = np.stack(
        [10 + np.sin(2 * np.pi * np.arange(60) / 6), rng.standard_normal(60).cumsum()], axis=1
    )
    return [series[:40], series[:47], series[:55]]


def test_baseline_forecasts_shapes_and_windows():
    histories = _histories()
    out = baseline_forecasts(histories, 5, 6)
    assert list(out) == list(BASELINES)
    for name, forecasts in out.items():
        assert forecasts.shape == (3, 5, 2), name
    for w, history in enumerate(histories):
        # each window only sees its own history
        np.testing.assert_array_equal(out["naive"][w], np.repeat(history[-1:], 5, axis=0))
        np.testing.assert_array_equal(out["seasonal_naive"][w], seasonal_naive(history, 5, 6))
        np.testing.assert_allclose(out["ets"][w], ets(history, 5, 6), rtol=1e-6)
        np.testing.assert_allclose(out["arima"][w], arima(history, 5), rtol=1e-6)
    assert not np.array_equal(out["naive"][0], out["naive"][1])


def test_baseline_forecasts_methods_and_arima_order():
    histories = _histories()
    out = baseline_forecasts(histories, 4, 6, methods=("arima",), arima_order=(0, 2, 0))
    assert list(out) == ["arima"]
    for w, h in enumerate(histories):
        expected = h[-1] + np.arange(1, 5)[:, None] * (h[-1] - h[-2])
        np.testing.assert_allclose(out["arima"][w], expected, atol=1e-6)
    single = baseline_forecasts(histories, 2, 6, methods="naive")
    assert list(single) == ["naive"]


def test_baseline_forecasts_unknown_method_lists_known_ones():
    with pytest.raises(ValueError, match="prophet.*naive, seasonal_naive, ets, arima"):
        baseline_forecasts(_histories(), 3, 6, methods=("naive", "prophet"))


def test_baseline_forecasts_input_errors():
    histories = _histories()
    with pytest.raises(ValueError, match="same columns"):
        baseline_forecasts([histories[0], histories[1][:, :1]], 3, 6, methods=("naive",))
    with pytest.raises(ValueError, match="empty"):
        baseline_forecasts([], 3, 6)
    with pytest.raises(ValueError, match=r"seasonal_naive on histories\[0\].*season 6"):
        baseline_forecasts([histories[0][:5], histories[1]], 3, 6, methods=("seasonal_naive",))
