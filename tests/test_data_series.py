"""lstmkit.data.series: loading CSV and built-in time series, with strict validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.series import (
    BUILTIN_SERIES,
    FILL_METHODS,
    Series,
    builtin_series,
    load_csv,
    load_series,
)


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def dates(*values: str) -> np.ndarray:
    return np.array(values, dtype="datetime64[ns]")


def csv_from(index, columns: dict[str, list], time_name: str = "date") -> str:
    frame = pd.DataFrame({time_name: index, **columns})
    return frame.to_csv(index=False)


# ----------------------------------------------------------------------- happy paths


def test_daily_dates(tmp_path):
    path = write(tmp_path, "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,4\n2020-01-04,8\n",
                 name="daily.csv")
    s = load_csv(path)
    assert isinstance(s, Series)
    assert s.name == "daily"
    assert len(s) == 4
    assert s.time.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(
        s.time, dates("2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04")
    )
    assert s.targets.dtype == np.float64
    np.testing.assert_array_equal(s.targets, [[1.0], [2.0], [4.0], [8.0]])
    assert s.covariates.shape == (4, 0)
    assert s.target_names == ("value",)
    assert s.covariate_names == ()
    assert s.step == "D"
    assert s.season == 7


def test_monthly_dates(tmp_path):
    path = write(tmp_path, "date,y\n2021-01-01,3\n2021-02-01,1\n2021-03-01,2\n2021-04-01,5\n")
    s = load_csv(path)
    assert s.step == "MS"
    assert s.season == 12
    np.testing.assert_array_equal(s.targets[:, 0], [3.0, 1.0, 2.0, 5.0])


def test_weekly_dates(tmp_path):
    # 2020-01-04 is a Saturday.
    path = write(tmp_path, "date,y\n2020-01-04,1\n2020-01-11,2\n2020-01-18,3\n")
    s = load_csv(path)
    assert s.step == "W-SAT"
    assert s.season == 52
    np.testing.assert_array_equal(s.time, dates("2020-01-04", "2020-01-11", "2020-01-18"))


def test_numeric_years(tmp_path):
    path = write(tmp_path, "year,flow\n1990,10\n1991,12.5\n1992,11\n")
    s = load_csv(path)
    assert s.time.dtype == np.float64
    np.testing.assert_array_equal(s.time, [1990.0, 1991.0, 1992.0])
    assert s.step == 1.0 and isinstance(s.step, float)
    assert s.season == 1
    np.testing.assert_array_equal(s.targets[:, 0], [10.0, 12.5, 11.0])


def test_numeric_fractional_step(tmp_path):
    path = write(tmp_path, "time,y\n0.0,1\n0.1,2\n0.2,3\n0.3,4\n")
    s = load_csv(path)
    assert s.step == pytest.approx(0.1)
    np.testing.assert_allclose(s.future_time(2), [0.4, 0.5])


def test_multiple_targets_skip_text_columns(tmp_path):
    path = write(
        tmp_path,
        "date,store,sales,returns\n"
        "2020-01-01,north,1,0.5\n2020-01-02,north,2,\n2020-01-03,north,3,1.5\n",
    )
    with pytest.raises(ValueError, match="returns"):  # the empty cell is still missing
        load_csv(path)
    s = load_csv(path, fill="ffill")
    assert s.target_names == ("sales", "returns")
    np.testing.assert_array_equal(s.targets, [[1.0, 0.5], [2.0, 0.5], [3.0, 1.5]])


def test_covariates_and_explicit_target_order(tmp_path):
    path = write(tmp_path, "ds,a,b,price\n1,1,10,100\n2,2,20,200\n3,3,30,300\n")
    s = load_csv(path, covariate_columns=["price"])
    assert s.target_names == ("a", "b")
    assert s.covariate_names == ("price",)
    np.testing.assert_array_equal(s.targets, [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(s.covariates, [[100], [200], [300]])

    s = load_csv(path, target_columns=["b", "a"], covariate_columns=("price",))
    assert s.target_names == ("b", "a")
    np.testing.assert_array_equal(s.targets, [[10, 1], [20, 2], [30, 3]])


@pytest.mark.parametrize("header", ["Date", "TIME", "timestamp", "Year", "ds"])
def test_time_column_detected_in_any_case(tmp_path, header):
    path = write(tmp_path, f"x,{header}\n5,1\n6,2\n7,3\n")
    s = load_csv(path)
    assert s.target_names == ("x",)
    np.testing.assert_array_equal(s.time, [1.0, 2.0, 3.0])


def test_explicit_time_column(tmp_path):
    path = write(tmp_path, "when,v\n2000,1\n2002,2\n2004,3\n")
    s = load_csv(path, time_column="when")
    assert s.step == 2.0
    np.testing.assert_array_equal(s.future_time(3), [2006.0, 2008.0, 2010.0])


@pytest.mark.parametrize(
    ("freq", "step", "season"),
    [
        ("YS", "YS-JAN", 1),
        ("QS", ("QS-JAN", "QS-APR", "QS-JUL", "QS-OCT"), 4),
        ("MS", "MS", 12),
        ("ME", "ME", 12),
        ("W-SUN", "W-SUN", 52),
        ("D", "D", 7),
        ("h", "h", 24),
        ("30min", "30min", 48),
        ("min", "min", 60),
    ],
)
def test_step_and_season_inferred_from_dates(tmp_path, freq, step, season):
    index = pd.date_range("2021-01-03", periods=6, freq=freq)
    path = write(tmp_path, csv_from(index, {"y": [1, 2, 3, 4, 5, 6]}))
    s = load_csv(path)
    # Quarterly anchors name the same dates (pandas' inference picks one of them, and
    # which one has changed between pandas versions).
    assert s.step in (step if isinstance(step, tuple) else (step,))
    assert s.season == season
    np.testing.assert_array_equal(s.time, index.as_unit("ns").to_numpy())
    regenerated = pd.date_range(index[0], periods=len(index), freq=s.step)
    np.testing.assert_array_equal(regenerated.as_unit("ns").to_numpy(), s.time)


def test_future_time_continues_dates(tmp_path):
    path = write(tmp_path, "date,y\n2020-10-01,1\n2020-11-01,2\n2020-12-01,3\n")
    s = load_csv(path)
    future = s.future_time(3)
    assert future.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(future, dates("2021-01-01", "2021-02-01", "2021-03-01"))

    path = write(tmp_path, "date,y\n2020-01-04,1\n2020-01-11,2\n2020-01-18,3\n")
    np.testing.assert_array_equal(load_csv(path).future_time(2), dates("2020-01-25", "2020-02-01"))


def test_future_time_continues_numbers(tmp_path):
    path = write(tmp_path, "year,y\n1700,1\n1701,2\n1702,3\n")
    future = load_csv(path).future_time(2)
    assert future.dtype == np.float64
    np.testing.assert_array_equal(future, [1703.0, 1704.0])


@pytest.mark.parametrize("horizon", [0, -1])
def test_future_time_needs_positive_horizon(tmp_path, horizon):
    path = write(tmp_path, "year,y\n1700,1\n1701,2\n1702,3\n")
    with pytest.raises(ValueError, match="horizon"):
        load_csv(path).future_time(horizon)


def test_timezone_converted_to_utc(tmp_path):
    path = write(
        tmp_path,
        "time,y\n2020-01-01T01:00+01:00,1\n2020-01-01T02:00+01:00,2\n2020-01-01T03:00+01:00,3\n",
    )
    s = load_csv(path)
    assert s.step == "h"
    np.testing.assert_array_equal(
        s.time, np.array(["2020-01-01T00:00", "2020-01-01T01:00", "2020-01-01T02:00"],
                         dtype="datetime64[ns]")
    )


def test_series_is_frozen_and_checks_shapes(tmp_path):
    path = write(tmp_path, "year,y\n1,1\n2,2\n3,3\n")
    s = load_csv(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.step = 2.0
    with pytest.raises(ValueError, match="targets must be"):
        dataclasses.replace(s, targets=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="covariates must be"):
        dataclasses.replace(s, covariates=np.zeros((3, 1)))


# ----------------------------------------------------------------------- error paths


def test_no_time_column(tmp_path):
    path = write(tmp_path, "when,sales\n1,2\n2,3\n3,4\n")
    with pytest.raises(ValueError, match="no time column: give --data.time_column") as info:
        load_csv(path)
    assert "'when'" in str(info.value) and "'sales'" in str(info.value)


def test_several_time_columns(tmp_path):
    path = write(tmp_path, "date,year,y\n2020-01-01,2020,1\n2020-01-02,2020,2\n2020-01-03,2020,3\n")
    with pytest.raises(ValueError, match="several time columns") as info:
        load_csv(path)
    assert "--data.time_column" in str(info.value)
    assert load_csv(path, time_column="date", target_columns=["y"]).step == "D"


def test_time_column_given_but_absent(tmp_path):
    path = write(tmp_path, "Date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    with pytest.raises(ValueError, match='no column "date"') as info:
        load_csv(path, time_column="date")
    message = str(info.value)
    assert "--data.time_column" in message
    assert "['Date', 'y']" in message
    assert "did you mean 'Date'" in message


def test_bad_date_value_names_row(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2\nsoon,3\n2020-01-04,4\n")
    with pytest.raises(ValueError, match='"soon" at row 3') as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_mixed_date_formats_name_row(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n03/01/2020,4\n")
    with pytest.raises(ValueError, match='"03/01/2020" at row 4'):
        load_csv(path)


def test_bad_number_in_numeric_time(tmp_path):
    path = write(tmp_path, "year,y\n1700,1\n17o1,2\n1702,3\n")
    with pytest.raises(ValueError, match='"17o1" at row 2, which is not a number'):
        load_csv(path)


def test_empty_time_cell(tmp_path):
    path = write(tmp_path, "year,y\n1700,1\n,2\n1702,3\n")
    with pytest.raises(ValueError, match='time column "year" is empty at row 2'):
        load_csv(path)


def test_duplicate_timestamps(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-02,3\n2020-01-03,4\n")
    with pytest.raises(ValueError, match="2020-01-02 twice, at rows 2 and 3"):
        load_csv(path)


def test_out_of_order_rows(tmp_path):
    path = write(tmp_path, "year,y\n2000,1\n2002,2\n2001,3\n2003,4\n")
    with pytest.raises(ValueError, match=r"out of order: row 3 \(2001\) comes after row 2 \(2002\)") \
            as info:
        load_csv(path)
    assert "sort" in str(info.value)


@pytest.mark.parametrize("rows", ["", "2000,1\n", "2000,1\n2001,2\n"])
def test_needs_three_rows(tmp_path, rows):
    path = write(tmp_path, "year,y\n" + rows)
    with pytest.raises(ValueError, match=f"need at least 3 rows.*found {rows.count(chr(10))}"):
        load_csv(path)


def test_gap_in_dates_without_fill(tmp_path):
    path = write(
        tmp_path,
        "date,y\n2020-01-04,1\n2020-01-11,2\n2020-01-18,3\n2020-01-25,4\n2020-02-08,6\n",
    )
    with pytest.raises(ValueError) as info:
        load_csv(path)
    message = str(info.value)
    assert "time is irregular: row 5 (2020-02-08) follows 2020-01-25 after 2 steps of W-SAT" \
        in message
    assert "--data.fill linear or ffill" in message
    assert str(path) in message


def test_gap_in_numbers_without_fill(tmp_path):
    path = write(tmp_path, "year,y\n2000,1\n2001,2\n2002,3\n2005,4\n")
    with pytest.raises(ValueError, match=r"row 4 \(2005\) follows 2002 after 3 steps of 1.0"):
        load_csv(path)


def test_numbers_off_the_grid(tmp_path):
    path = write(tmp_path, "year,y\n2000,1\n2001,2\n2002,3\n2003.5,4\n")
    with pytest.raises(ValueError, match=r"row 4 \(2003.5\) follows 2002 .*not a whole number"):
        load_csv(path, fill="linear")


def test_dates_with_no_regular_step(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-01 00:00,1\n2020-01-02 00:00,2\n2020-01-05 00:00,3\n"
                 "2020-01-12 00:00,4\n2020-01-13 06:00,5\n")
    with pytest.raises(ValueError, match="no regular spacing"):
        load_csv(path, fill="linear")


def test_no_numeric_target(tmp_path):
    path = write(tmp_path, "date,name\n2020-01-01,a\n2020-01-02,b\n2020-01-03,c\n")
    with pytest.raises(ValueError, match="no numeric column to forecast") as info:
        load_csv(path)
    assert "--data.target_columns" in str(info.value)


def test_target_column_absent(tmp_path):
    path = write(tmp_path, "date,sales\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    with pytest.raises(ValueError, match=r'no column "revenue" \(--data.target_columns\)') \
            as info:
        load_csv(path, target_columns=["revenue"])
    assert "['date', 'sales']" in str(info.value)


def test_covariate_column_absent(tmp_path):
    path = write(tmp_path, "date,sales\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    with pytest.raises(ValueError, match=r'no column "price" \(--data.covariate_columns\)'):
        load_csv(path, covariate_columns=["price"])


def test_column_in_two_roles(tmp_path):
    path = write(tmp_path, "date,a,b\n2020-01-01,1,2\n2020-01-02,2,3\n2020-01-03,3,4\n")
    with pytest.raises(ValueError, match='"b" is a covariate and cannot also be a target'):
        load_csv(path, target_columns=["a", "b"], covariate_columns=["b"])
    with pytest.raises(ValueError, match='"date" is the time column'):
        load_csv(path, target_columns=["date"])
    with pytest.raises(ValueError, match="more than once"):
        load_csv(path, target_columns=["a", "a"])


def test_non_numeric_value_names_column_and_row(tmp_path):
    path = write(tmp_path, "date,sales\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n"
                 "2020-01-04,4\n2020-01-05,abc\n")
    with pytest.raises(ValueError, match='column "sales" has a non-numeric value "abc" at row 5'):
        load_csv(path, target_columns=["sales"])


def test_non_numeric_covariate(tmp_path):
    path = write(tmp_path, "year,y,x\n1,1,1\n2,2,n/a?\n3,3,3\n")
    with pytest.raises(ValueError, match='column "x" has a non-numeric value "n/a\\?" at row 2'):
        load_csv(path, covariate_columns=["x"])


def test_infinite_value(tmp_path):
    path = write(tmp_path, "year,y\n1,1\n2,inf\n3,3\n")
    with pytest.raises(ValueError, match='column "y" has an infinite value "inf" at row 2'):
        load_csv(path, fill="linear")


def test_missing_values_without_fill(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,\n2020-01-03,NA\n2020-01-04,4\n")
    with pytest.raises(ValueError) as info:
        load_csv(path)
    message = str(info.value)
    assert 'column "y" has 2 missing values' in message
    assert "row 2, time 2020-01-02" in message
    assert "--data.fill linear or ffill" in message


def test_unknown_fill(tmp_path):
    path = write(tmp_path, "year,y\n1,1\n2,2\n3,3\n")
    with pytest.raises(ValueError, match="unknown fill method 'spline'") as info:
        load_csv(path, fill="spline")
    assert str(FILL_METHODS) in str(info.value)
    with pytest.raises(ValueError, match="unknown fill method"):
        builtin_series("sunspots", fill="bfill")


@pytest.mark.parametrize("fill", FILL_METHODS)
def test_entirely_missing_column(tmp_path, fill):
    path = write(tmp_path, "year,y,x\n1,1,\n2,2,\n3,3,\n")
    with pytest.raises(ValueError, match='column "x" has no values at all'):
        load_csv(path, fill=fill)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.csv"
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        load_csv(path)


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(ValueError, match="is empty") as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_unparseable_csv(tmp_path):
    path = write(tmp_path, "year,y\n1,1\n2,2,3,4\n3,3\n")
    with pytest.raises(ValueError, match="not a readable CSV file") as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_directory_is_not_a_csv(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        load_csv(tmp_path)


# ----------------------------------------------------------------------- fill


def test_fill_linear_values(tmp_path):
    path = write(tmp_path, "year,a,b\n1,,1\n2,2,\n3,4,\n4,,7\n5,10,\n")
    s = load_csv(path, fill="linear")
    # a: leading NaN takes the first valid value; interior linear; b: trailing NaN, last valid.
    np.testing.assert_array_equal(s.targets[:, 0], [2.0, 2.0, 4.0, 7.0, 10.0])
    np.testing.assert_array_equal(s.targets[:, 1], [1.0, 3.0, 5.0, 7.0, 7.0])


def test_fill_ffill_values(tmp_path):
    path = write(tmp_path, "year,a,b\n1,,1\n2,2,\n3,4,\n4,,7\n5,10,\n")
    s = load_csv(path, fill="ffill")
    np.testing.assert_array_equal(s.targets[:, 0], [2.0, 2.0, 4.0, 4.0, 10.0])
    np.testing.assert_array_equal(s.targets[:, 1], [1.0, 1.0, 1.0, 7.0, 7.0])


@pytest.mark.parametrize(
    ("fill", "expected_y", "expected_x"),
    [
        ("linear", [1.0, 2.0, 4.0, 6.0, 8.0, 9.0], [10.0, 17.5, 25.0, 32.5, 40.0, 50.0]),
        ("ffill", [1.0, 2.0, 2.0, 2.0, 8.0, 9.0], [10.0, 10.0, 10.0, 10.0, 40.0, 50.0]),
    ],
)
def test_fill_inserts_missing_dates(tmp_path, fill, expected_y, expected_x):
    path = write(
        tmp_path,
        "date,y,x\n2020-01-01,1,10\n2020-01-02,2,\n2020-01-05,8,40\n2020-01-06,9,50\n",
    )
    s = load_csv(path, covariate_columns=["x"], fill=fill)
    assert s.step == "D"
    np.testing.assert_array_equal(
        s.time,
        dates("2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05", "2020-01-06"),
    )
    np.testing.assert_array_equal(s.targets[:, 0], expected_y)
    np.testing.assert_array_equal(s.covariates[:, 0], expected_x)


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("linear", [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]), ("ffill", [10.0, 20.0, 20.0, 20.0, 50.0, 60.0])],
)
def test_fill_inserts_missing_years(tmp_path, fill, expected):
    path = write(tmp_path, "year,y\n2000,10\n2001,20\n2004,50\n2005,60\n")
    s = load_csv(path, fill=fill)
    assert s.step == 1.0
    np.testing.assert_array_equal(s.time, [2000.0, 2001.0, 2002.0, 2003.0, 2004.0, 2005.0])
    np.testing.assert_array_equal(s.targets[:, 0], expected)


def test_fill_inserts_missing_weeks(tmp_path):
    path = write(
        tmp_path,
        "date,y\n2020-01-04,1\n2020-01-11,2\n2020-01-18,3\n2020-01-25,4\n2020-02-15,7\n"
        "2020-02-22,8\n",
    )
    s = load_csv(path, fill="linear")
    assert s.step == "W-SAT"
    assert s.season == 52
    np.testing.assert_array_equal(
        s.time,
        dates("2020-01-04", "2020-01-11", "2020-01-18", "2020-01-25", "2020-02-01", "2020-02-08",
              "2020-02-15", "2020-02-22"),
    )
    np.testing.assert_array_equal(s.targets[:, 0], [1, 2, 3, 4, 5, 6, 7, 8])
    np.testing.assert_array_equal(s.future_time(1), dates("2020-02-29"))


def test_fill_inserts_missing_months(tmp_path):
    path = write(
        tmp_path,
        "date,y\n2020-01-31,1\n2020-02-29,2\n2020-03-31,3\n2020-06-30,9\n2020-07-31,10\n",
    )
    s = load_csv(path, fill="ffill")
    assert s.step == "ME"
    assert s.season == 12
    np.testing.assert_array_equal(
        s.time,
        dates("2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30", "2020-05-31",
              "2020-06-30", "2020-07-31"),
    )
    np.testing.assert_array_equal(s.targets[:, 0], [1, 2, 3, 3, 3, 9, 10])


def test_fill_prefers_the_finest_grid_that_fits(tmp_path):
    # Steps of 2 and 4 days: the grid of 2 days fits (the 4-day gap is one missing row).
    path = write(tmp_path, "date,y\n2020-01-01,0\n2020-01-03,2\n2020-01-05,4\n2020-01-09,8\n"
                 "2020-01-11,10\n")
    s = load_csv(path, fill="linear")
    assert s.step == "2D"
    np.testing.assert_array_equal(s.targets[:, 0], [0, 2, 4, 6, 8, 10])
    np.testing.assert_array_equal(s.time[3], np.datetime64("2020-01-07", "ns"))


# ----------------------------------------------------------------------- built-ins


def test_builtin_names():
    for name in ("sunspots", "co2", "nile"):
        assert name in BUILTIN_SERIES
        assert BUILTIN_SERIES[name]


def test_sunspots():
    s = builtin_series("sunspots")
    assert s.name == "sunspots"
    assert s.targets.shape == (309, 1)
    np.testing.assert_array_equal(s.targets[:3, 0], [5.0, 11.0, 16.0])
    assert s.time.dtype == np.float64
    assert s.time[0] == 1700.0 and s.time[-1] == 2008.0
    assert s.step == 1.0
    assert s.season == 11
    assert s.target_names == ("SUNACTIVITY",)
    np.testing.assert_array_equal(s.future_time(2), [2009.0, 2010.0])


def test_co2_needs_fill():
    with pytest.raises(ValueError) as info:
        builtin_series("co2")
    message = str(info.value)
    assert "co2" in message and "59 missing values" in message
    assert "--data.fill" in message


def test_co2_with_linear_fill():
    from statsmodels.datasets import co2

    raw = co2.load_pandas().data["co2"].to_numpy()
    s = builtin_series("co2", fill="linear")
    assert len(s) >= 2284
    assert not np.isnan(s.targets).any()
    assert s.step == "W-SAT"
    assert s.season == 52
    assert s.time[0] == np.datetime64("1958-03-29", "ns")
    known = ~np.isnan(raw)
    np.testing.assert_array_equal(s.targets[known, 0], raw[known])
    # The first gap is a single missing week: the midpoint of its neighbours.
    i = int(np.flatnonzero(~known)[0])
    assert known[i - 1] and known[i + 1]
    assert s.targets[i, 0] == pytest.approx((raw[i - 1] + raw[i + 1]) / 2)


def test_nile():
    s = builtin_series("nile")
    assert s.targets.shape == (100, 1)
    assert s.targets[0, 0] == 1120.0
    assert s.time[0] == 1871.0 and s.step == 1.0 and s.season == 1


def test_elnino_is_one_monthly_series():
    s = builtin_series("elnino")
    assert s.targets.shape == (732, 1)
    assert s.step == "MS" and s.season == 12
    assert s.time[0] == np.datetime64("1950-01-01", "ns")
    assert s.time[12] == np.datetime64("1951-01-01", "ns")
    np.testing.assert_array_equal(s.targets[[0, 1, 12], 0], [23.11, 24.20, 24.19])


def test_macrodata_realgdp():
    s = builtin_series("macrodata-realgdp")
    assert s.targets.shape == (203, 1) and s.covariates.shape == (203, 1)
    assert s.target_names == ("realgdp",) and s.covariate_names == ("realcons",)
    assert s.season == 4
    assert s.time[1] == np.datetime64("1959-04-01", "ns")
    assert s.targets[0, 0] == 2710.349 and s.covariates[0, 0] == 1707.4


def test_unknown_builtin():
    with pytest.raises(ValueError, match="unknown built-in series 'sunspot'") as info:
        builtin_series("sunspot")
    for name in BUILTIN_SERIES:
        assert name in str(info.value)


def test_load_series_dispatches(tmp_path):
    s = load_series("sunspots")
    assert s.targets.shape == (309, 1) and s.season == 11
    path = write(tmp_path, "year,y,x\n1,1,5\n2,,6\n3,3,7\n")
    s = load_series(str(path), covariate_columns=["x"], fill="linear")
    np.testing.assert_array_equal(s.targets[:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s.covariates[:, 0], [5.0, 6.0, 7.0])


def test_load_series_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not_there.csv.*sunspots"):
        load_series(str(tmp_path / "not_there.csv"))
    with pytest.raises(ValueError, match="built-in series.*apply only to CSV"):
        load_series("nile", target_columns=["volume"])
    with pytest.raises(ValueError, match="59 missing values"):
        load_series("co2")
