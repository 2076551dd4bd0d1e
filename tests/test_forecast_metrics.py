"""Forecast metrics against hand-computed values, and their input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmkit.tasks.forecast.metrics import (
    forecast_metrics,
    interval_coverage,
    mae,
    mase,
    mase_scale,
    rmse,
    smape,
)

ACTUAL = np.array([[1.0, 2.0, 3.0]])
FORECAST = np.array([[2.0, 2.0, 5.0]])
# errors 1, 0, 2
# sMAPE terms: 200*1/(1+2) = 200/3, 200*0/4 = 0, 200*2/(3+5) = 50 -> mean 350/9
SMAPE = (200 / 3 + 0 + 50) / 3


def test_mae_rmse_smape_by_hand():
    assert mae(ACTUAL, FORECAST) == pytest.approx(1.0)
    assert rmse(ACTUAL, FORECAST) == pytest.approx(math.sqrt(5 / 3))
    assert smape(ACTUAL, FORECAST) == pytest.approx(350 / 9)
    assert SMAPE == pytest.approx(350 / 9)


def test_metrics_accept_lists_and_any_matching_shape():
    actual = [[[1.0], [4.0]], [[-2.0], [0.5]]]  # (2, 2, 1)
    forecast = [[[0.0], [4.0]], [[-1.0], [2.5]]]  # errors 1, 0, 1, 2
    assert mae(actual, forecast) == pytest.approx(1.0)
    assert rmse(actual, forecast) == pytest.approx(math.sqrt(6 / 4))
    # 200*1/1, 0, 200*1/3, 200*2/3 -> (200 + 200/3 + 400/3) / 4 = 100
    assert smape(actual, forecast) == pytest.approx(100.0)


def test_smape_zero_over_zero_contributes_zero():
    # element 0: 0/0 -> 0 (still counted), element 1: 200*2/(1+3) = 100 -> mean 50
    assert smape([0.0, 1.0], [0.0, 3.0]) == pytest.approx(50.0)
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0
    # one side zero: the maximum, 200
    assert smape([0.0], [2.0]) == pytest.approx(200.0)
    assert smape([-2.0], [0.0]) == pytest.approx(200.0)


def test_smape_is_symmetric_in_its_arguments():
    a = np.array([1.0, -3.0, 7.0])
    f = np.array([2.0, 1.0, 6.5])
    assert smape(a, f) == pytest.approx(smape(f, a))


def test_mase_scale_by_hand():
    history = np.array([[0.0, 10.0], [1.0, 10.0], [3.0, 13.0], [4.0, 19.0]])
    # season 1: col 0 |1|,|2|,|1| -> 4/3; col 1 0,3,6 -> 3
    np.testing.assert_allclose(mase_scale(history, 1), [4 / 3, 3.0])
    # season 2: col 0 |3-0|,|4-1| -> 3; col 1 |13-10|,|19-10| -> 6
    np.testing.assert_allclose(mase_scale(history, 2), [3.0, 6.0])
    # 1-D history: one column
    np.testing.assert_allclose(mase_scale(history[:, 0], 1), [4 / 3])


def test_mase_by_hand_one_window():
    actual = ACTUAL.reshape(1, 3, 1)
    forecast = FORECAST.reshape(1, 3, 1)
    history = np.array([[0.0], [1.0], [3.0], [4.0]])
    # MAE 1; season-1 scale 4/3 -> 0.75; season-2 scale 3 -> 1/3
    assert mase(actual, forecast, [history], 1) == pytest.approx(0.75)
    assert mase(actual, forecast, [history], 2) == pytest.approx(1 / 3)


def _two_windows():
    histories = [
        np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]]),  # scales: 2, (0+3)/2 = 1.5
        np.array([[0.0, 5.0], [1.0, 1.0], [1.0, 0.0], [1.0, 2.0]]),  # scales: 1/3, 7/3
    ]
    actual = np.array([
        [[1.0, 0.0], [1.0, 0.0]],
        [[0.0, 7.0], [0.0, 0.0]],
    ])
    forecast = np.array([
        [[3.0, 3.0], [-1.0, 0.0]],  # MAE col 0 = 2, col 1 = 1.5
        [[1.0, 0.0], [3.0, 0.0]],  # MAE col 0 = 2, col 1 = 3.5
    ])
    return actual, forecast, histories


def test_mase_uses_each_windows_own_history():
    actual, forecast, histories = _two_windows()
    # ratios: 2/2 = 1, 1.5/1.5 = 1, 2/(1/3) = 6, 3.5/(7/3) = 1.5 -> mean 9.5/4
    assert mase(actual, forecast, histories, 1) == pytest.approx(9.5 / 4)
    # with the histories swapped every ratio changes: 2/(1/3), 1.5/(7/3), 2/2, 3.5/1.5
    swapped = (6 + 1.5 / (7 / 3) + 1 + 3.5 / 1.5) / 4
    assert mase(actual, forecast, histories[::-1], 1) == pytest.approx(swapped)


def test_forecast_metrics_dict():
    actual, forecast, histories = _two_windows()
    out = forecast_metrics(actual, forecast, histories, 1)
    assert set(out) == {"mae", "rmse", "smape", "mase"}
    assert all(isinstance(v, float) for v in out.values())
    assert out["mae"] == pytest.approx(9 / 4)  # errors 2,3,2,0,1,7,3,0 -> 18/8
    assert out["rmse"] == pytest.approx(math.sqrt((4 + 9 + 4 + 0 + 1 + 49 + 9 + 0) / 8))
    assert out["smape"] == pytest.approx(smape(actual, forecast))
    assert out["mase"] == pytest.approx(9.5 / 4)


def test_interval_coverage_by_hand():
    actual = [1.0, 2.0, 3.0, 4.0]
    lower = [0.0, 2.0, 3.5, 5.0]
    upper = [1.0, 3.0, 4.0, 3.0]
    # covered (bounds inclusive), covered (on the lower bound), below, crossed bounds
    assert interval_coverage(actual, lower, upper) == pytest.approx(0.5)
    assert interval_coverage(actual, actual, actual) == 1.0


@pytest.mark.parametrize("metric", [mae, rmse, smape])
def test_shape_mismatch_names_argument_and_shapes(metric):
    with pytest.raises(ValueError, match=r"forecast.*\(3, 2\).*actual.*\(2, 3\)"):
        metric(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("metric", [mae, rmse, smape])
def test_nan_rejected(metric):
    bad = np.array([1.0, np.nan])
    good = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="actual.*NaN"):
        metric(bad, good)
    with pytest.raises(ValueError, match="forecast.*NaN"):
        metric(good, bad)


def test_interval_coverage_checks_shapes_and_nan():
    y = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"upper.*\(3, 2\).*\(2, 3\)"):
        interval_coverage(y, y, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"lower.*\(2,\).*\(2, 3\)"):
        interval_coverage(y, np.zeros(2), y)
    with pytest.raises(ValueError, match="actual.*NaN"):
        interval_coverage(np.full((2, 3), np.nan), y, y)


def test_mase_scale_needs_more_points_than_the_season():
    with pytest.raises(ValueError, match=r"history length 3.*season 3"):
        mase_scale(np.arange(3.0)[:, None], 3)
    assert mase_scale(np.arange(4.0)[:, None], 3) == pytest.approx([3.0])


def test_mase_scale_constant_history_names_the_column():
    history = np.array([[0.0, 2.0, 1.0], [1.0, 2.0, 3.0], [5.0, 2.0, 2.0]])
    with pytest.raises(ValueError, match=r"undefined.*column\(s\) \[1\]"):
        mase_scale(history, 1)


def test_mase_scale_rejects_bad_season_and_nan():
    with pytest.raises(ValueError, match="season"):
        mase_scale(np.arange(5.0), 0)
    with pytest.raises(ValueError, match="history.*NaN"):
        mase_scale(np.array([1.0, np.nan, 2.0]), 1)


def test_mase_input_errors():
    actual, forecast, histories = _two_windows()
    with pytest.raises(ValueError, match=r"histories has 1 entries.*2 windows"):
        mase(actual, forecast, histories[:1], 1)
    with pytest.raises(ValueError, match=r"histories\[1\].*1 column.*2 column"):
        mase(actual, forecast, [histories[0], histories[1][:, :1]], 1)
    with pytest.raises(ValueError, match=r"\(W, H, C\)"):
        mase(actual[0], forecast[0], histories[:1], 1)
    with pytest.raises(ValueError, match=r"forecast.*\(2, 2, 1\).*\(2, 2, 2\)"):
        mase(actual, forecast[..., :1], histories, 1)
    constant = [histories[0], np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]])]
    with pytest.raises(ValueError, match=r"histories\[1\].*column\(s\) \[0\]"):
        mase(actual, forecast, constant, 1)
    with pytest.raises(ValueError, match=r"histories\[0\].*history length 3.*season 3"):
        mase(actual, forecast, histories, 3)
