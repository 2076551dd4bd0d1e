"""Time series for forecasting: from a user's CSV file or a built-in data set, strictly checked.

A CSV file has a header row, one time column and one or more numeric columns:

    date,sales,price
    2020-01-04,12.0,3.5
    2020-01-11,15.5,3.5

Time values are either all numbers (numeric time, such as years) or all dates in one
format (parsed by ``pandas.to_datetime``; dates with a time zone are converted to UTC and
stored without it). They must be strictly increasing and lie on a regular grid:

* dates: the step is what ``pandas.infer_freq`` reports for the whole column (``"D"``,
  ``"W-SAT"``, ``"MS"``, ...). When that fails because timestamps are missing, the
  candidate steps are the frequencies pandas infers for runs of three consecutive rows
  (the first 1,000 runs), plus the most common difference between rows; a candidate fits
  when every timestamp lies on the grid it draws from the first timestamp. The fitting
  candidate with the fewest grid points wins. Grids more than ten times longer than the
  data are not considered (that would be mostly invented rows).
* numbers: the step is the most common difference; every difference must be a whole
  number of steps.

Rows are counted from 1, the header not included ("row 1" is the first line of data).
Missing timestamps (gaps) and missing values (empty cells, ``NA``, ``nan``) are errors
unless ``fill`` is ``"linear"`` or ``"ffill"``; see :func:`load_csv`.

This module is on the data floor: numpy, pandas and statsmodels only.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from .validation import check_positive_int

__all__ = [
    "BUILTIN_SERIES",
    "FILL_METHODS",
    "Series",
    "builtin_series",
    "load_csv",
    "load_series",
]

FILL_METHODS = ("none", "linear", "ffill")

TIME_COLUMN_NAMES = ("time", "date", "timestamp", "year", "ds")

_FILL_HINT = "pass --data.fill linear or ffill"
_MAX_TRIPLES = 1000  # runs of three rows tried when pandas cannot infer the whole column's step
_MAX_GRID_RATIO = 10  # a candidate grid may be at most this many times longer than the data


@dataclass(frozen=True, eq=False)
class Series:
    """A regularly spaced (multivariate) time series.

    Attributes:
        name: the built-in's name, or the CSV file's stem.
        time: ``(T,)`` ``datetime64[ns]`` for dates, ``float64`` for numeric time (years).
        targets: ``(T, C)`` float64, the values to forecast, with no NaN.
        covariates: ``(T, K)`` float64 (``K`` may be 0), other inputs, with no NaN.
        target_names: the ``C`` target column names.
        covariate_names: the ``K`` covariate column names.
        step: the spacing: a pandas frequency string (``"D"``, ``"W-SAT"``, ``"MS"``) for
            dates, a float for numeric time.
        season: the default seasonal period in steps (from the built-in's definition, or
            inferred from the step; see :func:`season_for_step`).
    """

    name: str
    time: np.ndarray
    targets: np.ndarray
    covariates: np.ndarray
    target_names: tuple[str, ...]
    covariate_names: tuple[str, ...]
    step: object
    season: int

    def __post_init__(self) -> None:
        n = self.time.shape[0]
        if self.time.ndim != 1 or self.targets.shape != (n, len(self.target_names)):
            raise ValueError(
                f"Series {self.name!r}: targets must be (T, C) = ({n}, "
                f"{len(self.target_names)}) to match time and target_names, got "
                f"{self.targets.shape}"
            )
        if self.covariates.shape != (n, len(self.covariate_names)):
            raise ValueError(
                f"Series {self.name!r}: covariates must be (T, K) = ({n}, "
                f"{len(self.covariate_names)}) to match time and covariate_names, got "
                f"{self.covariates.shape}"
            )

    def __len__(self) -> int:
        """The number of time steps ``T``."""
        return int(self.time.shape[0])

    def future_time(self, horizon: int) -> np.ndarray:
        """The ``horizon`` timestamps after the last one, continuing the regular step.

        Returns ``(horizon,)`` ``datetime64[ns]`` for dates, ``float64`` for numeric time.
        """
        check_positive_int("horizon", horizon)
        if isinstance(self.step, str):
            dates = pd.date_range(self.time[-1], periods=horizon + 1, freq=self.step)
            return dates[1:].as_unit("ns").to_numpy()
        return self.time[-1] + float(self.step) * np.arange(1, horizon + 1, dtype=np.float64)


def season_for_step(step: object) -> int:
    """The seasonal period implied by a step, in steps.

    Numeric time: 1. Dates: yearly 1, quarterly 4, monthly 12, weekly 52 (divided by the
    multiple when it divides evenly, e.g. ``"2MS"`` gives 6, else 1); daily 7, business
    daily 5; sub-daily steps of 15 minutes or more: steps per day (hourly 24, half-hourly
    48); shorter steps: steps per hour (minutely 60). Anything else: 1.
    """
    if not isinstance(step, str):
        return 1
    offset = to_offset(step)
    per_year = (
        ((pd.offsets.YearBegin, pd.offsets.YearEnd, pd.offsets.BYearBegin,
          pd.offsets.BYearEnd), 1),
        ((pd.offsets.QuarterBegin, pd.offsets.QuarterEnd, pd.offsets.BQuarterBegin,
          pd.offsets.BQuarterEnd), 4),
        ((pd.offsets.MonthBegin, pd.offsets.MonthEnd, pd.offsets.BusinessMonthBegin,
          pd.offsets.BusinessMonthEnd), 12),
        ((pd.offsets.Week,), 52),
    )
    for classes, count in per_year:
        if isinstance(offset, classes):
            return count // offset.n if count % offset.n == 0 else 1
    if isinstance(offset, pd.offsets.Day):  # before Tick: Day is a Tick in pandas 2
        return 7 if offset.n == 1 else 1
    if isinstance(offset, pd.offsets.BusinessDay):
        return 5 if offset.n == 1 else 1
    if isinstance(offset, pd.offsets.Tick):
        nanos = offset.nanos
        hour = 3_600_000_000_000
        span = 24 * hour if nanos >= hour // 4 else hour
        if span % nanos == 0:
            return span // nanos
    return 1


# --------------------------------------------------------------------------- loading


def load_csv(
    path: str | Path,
    *,
    time_column: str | None = None,
    target_columns: Sequence[str] | None = None,
    covariate_columns: Sequence[str] = (),
    fill: str = "none",
) -> Series:
    """Load a series from a CSV file with a header row.

    Args:
        path: the CSV file.
        time_column: the time column; ``None`` picks the one column named time, date,
            timestamp, year or ds (any case).
        target_columns: the columns to forecast; ``None`` takes every numeric column other
            than the time and the covariates.
        covariate_columns: extra input columns (may be empty).
        fill: what to do with missing timestamps (gaps in the regular grid, which are
            inserted as rows) and missing values: ``"none"`` raises; ``"linear"``
            interpolates linearly along the regular grid (each step counts the same, so for
            fixed-length steps this is linear in time), and fills leading (trailing)
            missing values with the first (last) valid value; ``"ffill"`` carries the last
            valid value forward, and fills leading missing values with the first valid one.

    Returns:
        a :class:`Series` with ``time`` ``(T,)``, ``targets`` ``(T, C)`` and ``covariates``
        ``(T, K)``; ``T`` counts inserted rows.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: anything wrong with the file or the arguments; the message names the
            file, column and row, and suggests the fix.
    """
    _check_fill(fill)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}; give the path to a CSV file")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory; give the path to a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise ValueError(
            f"{str(path)!r} is empty; expected a CSV file with a header row and rows of data"
        ) from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(
            f"{str(path)!r} is not a readable CSV file ({error}); expected comma-separated "
            "text with a header row and the same number of fields on every line"
        ) from error
    return _build(
        frame,
        source=repr(str(path)),
        name=path.stem,
        time_column=time_column,
        target_columns=target_columns,
        covariate_columns=covariate_columns,
        fill=fill,
    )


def _sunspots() -> tuple[pd.DataFrame, str, list[str], list[str]]:
    from statsmodels.datasets import sunspots

    return sunspots.load_pandas().data, "YEAR", ["SUNACTIVITY"], []


def _co2() -> tuple[pd.DataFrame, str, list[str], list[str]]:
    from statsmodels.datasets import co2

    data = co2.load_pandas().data
    frame = pd.DataFrame({"date": data.index, "co2": data["co2"].to_numpy()})
    return frame, "date", ["co2"], []


def _nile() -> tuple[pd.DataFrame, str, list[str], list[str]]:
    from statsmodels.datasets import nile

    return nile.load_pandas().data, "year", ["volume"], []


def _elnino() -> tuple[pd.DataFrame, str, list[str], list[str]]:
    from statsmodels.datasets import elnino

    data = elnino.load_pandas().data  # one row per year: YEAR, JAN, ..., DEC
    sst = data.drop(columns="YEAR").to_numpy(dtype=np.float64).ravel()  # year by year
    start = pd.Timestamp(year=int(data["YEAR"].iloc[0]), month=1, day=1)
    frame = pd.DataFrame({"date": pd.date_range(start, periods=sst.size, freq="MS"), "sst": sst})
    return frame, "date", ["sst"], []


def _macrodata() -> tuple[pd.DataFrame, str, list[str], list[str]]:
    from statsmodels.datasets import macrodata

    data = macrodata.load_pandas().data
    date = pd.to_datetime(
        {"year": data["year"].astype(int), "month": 3 * data["quarter"].astype(int) - 2, "day": 1}
    )
    frame = pd.DataFrame({"date": date, "realgdp": data["realgdp"], "realcons": data["realcons"]})
    return frame, "date", ["realgdp"], ["realcons"]


BUILTIN_SERIES: dict[str, str] = {
    "sunspots": "yearly sunspot activity 1700-2008 (statsmodels), numeric years, target "
    "SUNACTIVITY, season 11 (the solar cycle)",
    "co2": "weekly Mauna Loa atmospheric CO2 in ppm 1958-2001 (statsmodels), 59 missing "
    "values (needs --data.fill), season 52",
    "nile": "yearly flow volume of the Nile at Aswan 1871-1970 (statsmodels), numeric years, "
    "season 1",
    "elnino": "monthly sea surface temperature (Celsius) off Peru, the El Nino region, "
    "1950-2010 (statsmodels), target sst, season 12",
    "macrodata-realgdp": "quarterly US real GDP 1959-2009 (statsmodels macrodata), target "
    "realgdp, covariate realcons (real consumption, same quarter), season 4",
}

# name -> (loader, season)
_BUILTINS = {
    "sunspots": (_sunspots, 11),
    "co2": (_co2, 52),
    "nile": (_nile, 1),
    "elnino": (_elnino, 12),
    "macrodata-realgdp": (_macrodata, 4),
}


def builtin_series(name: str, fill: str = "none") -> Series:
    """Load a built-in series (shipped with statsmodels, no network); see ``BUILTIN_SERIES``.

    ``fill`` is as in :func:`load_csv` (``"co2"`` has missing values and needs one).
    Returns a :class:`Series`, with ``season`` from the built-in's definition.
    """
    _check_fill(fill)
    if name not in _BUILTINS:
        raise ValueError(
            f"unknown built-in series {name!r}; the built-ins are: {', '.join(BUILTIN_SERIES)} "
            "(or give the path to a CSV file)"
        )
    loader, season = _BUILTINS[name]
    frame, time_column, targets, covariates = loader()
    return _build(
        frame,
        source=f"built-in series {name!r}",
        name=name,
        time_column=time_column,
        target_columns=targets,
        covariate_columns=covariates,
        fill=fill,
        season=season,
    )


def load_series(
    source: str | Path,
    *,
    time_column: str | None = None,
    target_columns: Sequence[str] | None = None,
    covariate_columns: Sequence[str] = (),
    fill: str = "none",
) -> Series:
    """Load a built-in series by name (see ``BUILTIN_SERIES``) or a CSV file by path.

    A built-in name wins over a file of the same name (write ``./co2`` for the file). The
    column options apply only to CSV files. Returns a :class:`Series` (see :func:`load_csv`).
    """
    if str(source) in _BUILTINS:
        if time_column is not None or target_columns is not None or len(covariate_columns):
            raise ValueError(
                f"{str(source)!r} is a built-in series, which defines its own columns; "
                "--data.time_column, --data.target_columns and --data.covariate_columns "
                "apply only to CSV files"
            )
        return builtin_series(str(source), fill)
    if not Path(source).exists():
        raise FileNotFoundError(
            f"no such file: {str(source)!r}, and not a built-in series either; give the path "
            f"to a CSV file or one of: {', '.join(BUILTIN_SERIES)}"
        )
    return load_csv(
        source,
        time_column=time_column,
        target_columns=target_columns,
        covariate_columns=covariate_columns,
        fill=fill,
    )


# --------------------------------------------------------------------------- checks


def _check_fill(fill: object) -> None:
    if fill not in FILL_METHODS:
        raise ValueError(
            f"unknown fill method {fill!r} (--data.fill); expected one of {FILL_METHODS}"
        )


def _names(values: Sequence[str] | str, option: str) -> list[str]:
    names = [values] if isinstance(values, str) else [str(v) for v in values]
    repeated = sorted({v for v in names if names.count(v) > 1})
    if repeated:
        raise ValueError(f"{option} names {repeated} more than once; name each column once")
    return names


def _no_column(source: str, name: str, option: str, columns: list[str]) -> ValueError:
    close = [c for c in columns if c.strip().lower() == name.strip().lower()]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(
        f'{source}: no column "{name}" ({option}){hint}; the columns are {columns}'
    )


def _pick_time_column(source: str, given: str | None, columns: list[str]) -> str:
    if given is not None:
        if given not in columns:
            raise _no_column(source, given, "--data.time_column", columns)
        return given
    found = [c for c in columns if c.strip().lower() in TIME_COLUMN_NAMES]
    if len(found) != 1:
        what = "no time column" if not found else f"several time columns {found}"
        raise ValueError(
            f"{source}: {what}: give --data.time_column; columns are {columns} (a column "
            f"named one of {list(TIME_COLUMN_NAMES)}, any case, is found when it is the only one)"
        )
    return found[0]


def _to_numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(values, bad)``: float64 values with NaN where missing or not a number, and a mask
    of the cells that hold something that is not a number."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    ):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.zeros(values.shape, dtype=bool)
    text = column.astype(object).where(column.notna(), None)
    stripped = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    numbers = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = stripped.notna().to_numpy() & np.isnan(numbers)
    return numbers, bad


def _mostly_numbers(column: pd.Series) -> bool:
    """No text at all (an empty column is reported as such later), or more numbers than text."""
    values, bad = _to_numbers(column)
    text = int(bad.sum())
    return text == 0 or int((~np.isnan(values)).sum()) > text


def _value_column(source: str, column: pd.Series, name: str) -> np.ndarray:
    values, bad = _to_numbers(column)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f'{source}: column "{name}" has a non-numeric value "{column.iloc[row]}" at row '
            f"{row + 1}; expected numbers (empty cells count as missing) — fix the cell, or "
            "leave it out with --data.target_columns / --data.covariate_columns"
        )
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise ValueError(
            f'{source}: column "{name}" has an infinite value "{column.iloc[row]}" at row '
            f"{row + 1}; expected finite numbers — fix the cell or leave it empty (missing)"
        )
    return values


def _parse_time(source: str, column: pd.Series, name: str) -> np.ndarray | pd.DatetimeIndex:
    """Float64 array for numeric time, a ``datetime64[ns]`` DatetimeIndex for dates."""
    missing = column.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f'{source}: time column "{name}" is empty at row {row + 1}; every row needs a time'
        )
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        dates = pd.to_datetime(column, utc=True)
    elif pd.api.types.is_numeric_dtype(column.dtype):
        dates = None
        numbers, bad = column.to_numpy(dtype=np.float64), np.zeros(len(column), dtype=bool)
    else:
        numbers, bad = _to_numbers(column)
        dates = None
        if bad.any():
            text = column.astype(str).str.strip()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dates = pd.to_datetime(text, errors="coerce", utc=True)
            if dates.isna().any():
                # Report against the kind of the first row: a number or a date.
                wrong = bad if not bad[0] else dates.isna().to_numpy()
                kind = "a number like" if not bad[0] else "a date in the format of"
                row = int(np.flatnonzero(wrong)[0])
                raise ValueError(
                    f'{source}: time column "{name}" has "{column.iloc[row]}" at row {row + 1}, '
                    f'which is not {kind} row 1 ("{column.iloc[0]}"); time values must be all '
                    "numbers (such as years) or all dates in one format"
                )
    if dates is not None:
        return pd.DatetimeIndex(dates).tz_convert(None).as_unit("ns")
    if np.isinf(numbers).any():
        row = int(np.flatnonzero(np.isinf(numbers))[0])
        raise ValueError(
            f'{source}: time column "{name}" has an infinite value at row {row + 1}; '
            "expected finite numbers"
        )
    return numbers


def _label(time: np.ndarray | pd.DatetimeIndex, row: int) -> str:
    if isinstance(time, pd.DatetimeIndex):
        stamp = time[row]
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    return f"{time[row]:.15g}"


def _check_increasing(source: str, time: np.ndarray | pd.DatetimeIndex, name: str) -> None:
    ticks = time.asi8 if isinstance(time, pd.DatetimeIndex) else time
    diff = np.diff(ticks)
    wrong = np.flatnonzero(diff <= 0)
    if wrong.size == 0:
        return
    i = int(wrong[0])
    if diff[i] == 0:
        raise ValueError(
            f'{source}: time column "{name}" has {_label(time, i)} twice, at rows {i + 1} and '
            f"{i + 2}; each time must appear once — remove or merge the duplicate rows"
        )
    raise ValueError(
        f'{source}: time column "{name}" is out of order: row {i + 2} ({_label(time, i + 1)}) '
        f"comes after row {i + 1} ({_label(time, i)}); time must increase — sort the rows "
        "by time"
    )


def _freq_string(freq: object) -> str | None:
    if freq is None:
        return None
    return to_offset(freq).freqstr


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _freq_string(pd.infer_freq(index))
        except (TypeError, ValueError):
            return None


def _date_grid(
    source: str, time: pd.DatetimeIndex, name: str
) -> tuple[str, np.ndarray, pd.DatetimeIndex]:
    """``(step, positions, grid)``: each row's position on the regular grid of dates."""
    freq = _infer_freq(time)
    if freq is not None:
        return freq, np.arange(len(time)), time
    counts: Counter[str] = Counter()
    for i in range(min(len(time) - 2, _MAX_TRIPLES)):
        found = _infer_freq(time[i : i + 3])
        if found is not None:
            counts[found] += 1
    diffs = pd.Series(np.diff(time.asi8))
    common = pd.Timedelta(int(diffs.value_counts().index[0]), unit="ns")
    whole_days = common.value % pd.Timedelta(days=1).value == 0
    counts[to_offset(f"{common.days}D" if whole_days else common).freqstr] += 0
    best: tuple[int, int, str, np.ndarray, pd.DatetimeIndex] | None = None
    for order, (candidate, _) in enumerate(counts.most_common()):
        offset = to_offset(candidate)
        rough = (time[0] + offset) - time[0]
        if rough <= pd.Timedelta(0):
            continue
        if (time[-1] - time[0]) / rough + 1 > _MAX_GRID_RATIO * len(time):
            continue
        grid = pd.date_range(time[0], time[-1], freq=offset).as_unit("ns")
        positions = grid.get_indexer(time)
        if len(grid) and grid[0] == time[0] and (positions >= 0).all():
            key = (len(grid), order)
            if best is None or key < best[:2]:
                best = (len(grid), order, candidate, positions, grid)
    if best is None:
        seen = ", ".join(str(pd.Timedelta(int(d), unit="ns")) for d in diffs.unique()[:5])
        raise ValueError(
            f'{source}: time column "{name}" has no regular spacing that fits every row '
            f"(spacings seen: {seen}, ...); expected dates on a regular grid such as every "
            "hour, day, week, month start or month end"
        )
    return best[2], best[3], best[4]


def _number_grid(source: str, time: np.ndarray, name: str) -> tuple[float, np.ndarray, np.ndarray]:
    """``(step, positions, grid)``: each row's position on the regular grid of numbers."""
    diff = np.diff(time)
    step = Counter(float(f"{d:.9g}") for d in diff).most_common(1)[0][0]
    steps = diff / step
    whole = np.rint(steps)
    wrong = np.flatnonzero(np.abs(steps - whole) > 1e-6)
    if wrong.size:
        i = int(wrong[0])
        raise ValueError(
            f'{source}: time column "{name}" is irregular: row {i + 2} ({_label(time, i + 1)}) '
            f"follows {_label(time, i)} after {diff[i]:.9g}, which is not a whole number of "
            f"steps of {step:.9g} (the most common spacing); expected times on a regular grid"
        )
    positions = np.concatenate([[0], np.cumsum(whole)]).astype(np.int64)
    grid = time[0] + step * np.arange(positions[-1] + 1, dtype=np.float64)
    grid[positions] = time
    return step, positions, grid


def _fill_column(values: np.ndarray, method: str) -> np.ndarray:
    valid = ~np.isnan(values)
    if valid.all():
        return values
    if method == "linear":
        x = np.arange(values.size, dtype=np.float64)
        return np.interp(x, x[valid], values[valid])
    return pd.Series(values).ffill().bfill().to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------- assembly


def _build(
    frame: pd.DataFrame,
    *,
    source: str,
    name: str,
    time_column: str | None,
    target_columns: Sequence[str] | None,
    covariate_columns: Sequence[str],
    fill: str,
    season: int | None = None,
) -> Series:
    frame = frame.rename(columns=str)
    columns = list(frame.columns)
    time_name = _pick_time_column(source, time_column, columns)
    covariates = _names(covariate_columns, "--data.covariate_columns")
    for column in covariates:
        if column not in columns:
            raise _no_column(source, column, "--data.covariate_columns", columns)
        if column == time_name:
            raise ValueError(
                f'{source}: column "{column}" is the time column and cannot be a covariate; '
                "remove it from --data.covariate_columns"
            )
    if target_columns is None:
        # A column that is mostly numbers is a target even with a stray bad cell, so
        # that the cell is reported (below) instead of the column silently dropped;
        # text columns (labels, notes) are left out.
        targets = [
            c for c in columns
            if c != time_name and c not in covariates and _mostly_numbers(frame[c])
        ]
        if not targets:
            raise ValueError(
                f"{source}: no numeric column to forecast besides the time ({time_name!r}) and "
                f"covariates {covariates}; the columns are {columns} — add a numeric column or "
                "name one with --data.target_columns"
            )
    else:
        targets = _names(target_columns, "--data.target_columns")
        if not targets:
            raise ValueError(f"{source}: --data.target_columns is empty; name at least one column")
        for column in targets:
            if column not in columns:
                raise _no_column(source, column, "--data.target_columns", columns)
            if column == time_name or column in covariates:
                role = "the time column" if column == time_name else "a covariate"
                raise ValueError(
                    f'{source}: column "{column}" is {role} and cannot also be a target; '
                    "name each column in one role only"
                )
    if len(frame) < 3:
        raise ValueError(
            f"{source}: need at least 3 rows of data to find the time step, found {len(frame)}"
        )

    values = np.stack(
        [_value_column(source, frame[c], c) for c in targets + covariates], axis=1
    )
    time = _parse_time(source, frame[time_name], time_name)
    _check_increasing(source, time, time_name)
    if isinstance(time, pd.DatetimeIndex):
        step, positions, grid = _date_grid(source, time, time_name)
        times = grid.to_numpy()
    else:
        step, positions, times = _number_grid(source, time, time_name)

    gaps = np.flatnonzero(np.diff(positions) > 1)
    if gaps.size:
        if fill == "none":
            i = int(gaps[0])
            raise ValueError(
                f"{source}: time is irregular: row {i + 2} ({_label(time, i + 1)}) follows "
                f"{_label(time, i)} after {positions[i + 1] - positions[i]} steps of {step} "
                f"({len(times) - len(time)} timestamps missing in all); {_FILL_HINT} to "
                "insert the missing timestamps"
            )
        full = np.full((len(times), values.shape[1]), np.nan)
        full[positions] = values
        values = full

    for j, column in enumerate(targets + covariates):
        missing = np.isnan(values[:, j])
        if missing.all():
            raise ValueError(
                f'{source}: column "{column}" has no values at all; drop it from '
                "--data.target_columns / --data.covariate_columns or fill it in"
            )
    if fill == "none":
        counts = np.isnan(values).sum(axis=0)
        if counts.any():
            j = int(np.flatnonzero(counts)[0])
            row = int(np.flatnonzero(np.isnan(values[:, j]))[0])
            others = [c for c, k in zip(targets + covariates, counts) if k][1:]
            also = f" (also missing in {others})" if others else ""
            raise ValueError(
                f'{source}: column "{(targets + covariates)[j]}" has {counts[j]} missing values '
                f"(the first at row {row + 1}, time {_label(time, row)}){also}; {_FILL_HINT} "
                "to fill them"
            )
    else:
        values = np.stack([_fill_column(values[:, j], fill) for j in range(values.shape[1])], 1)

    if isinstance(step, str):
        times = times.astype("datetime64[ns]")
    return Series(
        name=name,
        time=times,
        targets=np.ascontiguousarray(values[:, : len(targets)], dtype=np.float64),
        covariates=np.ascontiguousarray(values[:, len(targets) :], dtype=np.float64),
        target_names=tuple(targets),
        covariate_names=tuple(covariates),
        step=step,
        season=season_for_step(step) if season is None else season,
    )
