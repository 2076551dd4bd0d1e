"""Time-series forecasting as a trainable task: ``lstmkit train forecast``, ``lstmkit forecast``.

The series (a built-in from statsmodels or a user CSV, `lstmkit.data.series`) is cut
into windows (`windows.plan_windows`): training windows from the first part, then
validation and test origins rolling over the end. Targets and covariates are
standardised with statistics of the training part only. The model (`model.Forecaster`)
is trained on the training windows; validation metrics pick the best weights.

`report` is the rolling-origin backtest on the test windows: the LSTM beside naive,
seasonal naive, ETS and ARIMA forecasts computed on exactly the same windows (each from
the history before its origin), MAE / RMSE / sMAPE / MASE in the series' own units, the
interval coverage for probabilistic models, a table (``backtest.csv``) and a plot
(``forecast.png``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ...data.series import FILL_METHODS, Series, load_series
from ...files import write_text_atomic
from ...train import LossOutput, OptimizerConfig, RunConfig, Task, TrainConfig
from ..recurrent import RecurrentConfig, recurrent_arguments
from .baselines import BASELINES, baseline_forecasts
from .metrics import forecast_metrics, interval_coverage
from .model import DECODERS, DISTRIBUTIONS, Forecaster
from .plot import plot_backtest
from .windows import Scaler, WindowPlan, gather_windows, plan_windows


@dataclass
class ForecastDataConfig:
    """The series, its columns, and the windows cut from it."""

    series: str = "sunspots"
    """A built-in series (sunspots, co2, nile, ...) or a CSV file path."""
    time_column: str | None = None
    """CSV: the time column (default: the one named time, date, timestamp, year or ds)."""
    target_columns: list[str] | None = None
    """CSV: the columns to forecast (default: every numeric column but time and covariates)."""
    covariate_columns: list[str] = field(default_factory=list)
    """CSV: extra input columns, known over the context and the horizon."""
    fill: Literal["none", "linear", "ffill"] = "none"
    """Missing values and missing timestamps: none (an error), linear interpolation,
    or forward fill."""
    context: int = 44
    """Steps of history each forecast reads (L)."""
    horizon: int = 11
    """Steps forecast at once (H)."""
    season: int | None = None
    """Seasonal period for the seasonal naive, ETS and MASE (default: the series')."""
    test_windows: int = 6
    """Rolling origins of the test backtest at the end of the series."""
    validation_windows: int = 3
    """Rolling origins for validation, just before the test ones."""
    stride: int | None = None
    """Steps between consecutive validation/test origins (default: the horizon)."""
    anchor: Literal["none", "last"] = "none"
    """last: subtract each window's last observed (scaled) value from its history and
    future and add it back to the forecast, so the model learns changes and follows a
    level it never saw in training (trending series); none: absolute scaled values."""

    def __post_init__(self) -> None:
        if self.fill not in FILL_METHODS:
            raise ValueError(f"data.fill must be one of {', '.join(FILL_METHODS)}, got {self.fill!r}")
        for key in ("context", "horizon", "test_windows", "validation_windows"):
            if getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive, got {getattr(self, key)}")
        for key in ("season", "stride"):
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive or null, got {getattr(self, key)}")
        if self.anchor not in ("none", "last"):
            raise ValueError(f"data.anchor must be none or last, got {self.anchor!r}")


@dataclass
class ForecastModelConfig:
    """Encoder over the context, then a direct or autoregressive decoder."""

    recurrent: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=64))
    """The recurrent stack."""
    decoder: Literal["direct", "autoregressive"] = "direct"
    """direct: all H steps from the last state at once; autoregressive: step by step,
    feeding back each forecast (teacher forcing in training)."""
    distribution: Literal["point", "gaussian", "quantile"] = "point"
    """point (squared error), gaussian (likelihood; gives intervals) or quantile
    (pinball loss over model.quantiles; gives intervals)."""
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])
    """Quantile levels (ascending, in (0, 1), including 0.5, the point forecast)."""
    interval: float = 0.8
    """Central probability of the Gaussian prediction interval."""
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    """Baselines computed on the test windows beside the LSTM."""
    arima_order: list[int] = field(default_factory=lambda: [2, 0, 1])
    """(p, d, q) of the ARIMA baseline."""

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise ValueError(f"model.decoder must be one of {', '.join(DECODERS)}, got {self.decoder!r}")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"model.distribution must be one of {', '.join(DISTRIBUTIONS)}, got {self.distribution!r}"
            )
        q = self.quantiles
        if not q or any(not 0 < v < 1 for v in q) or list(q) != sorted(set(q)) or 0.5 not in q:
            raise ValueError(
                f"model.quantiles must be ascending distinct levels in (0, 1) including 0.5, got {q}"
            )
        if not 0 < self.interval < 1:
            raise ValueError(f"model.interval must be in (0, 1), got {self.interval}")
        unknown = [name for name in self.baselines if name not in BASELINES]
        if unknown:
            raise ValueError(
                f"model.baselines: unknown baseline {unknown[0]!r}; known: {', '.join(BASELINES)}"
            )
        if len(self.arima_order) != 3 or any(v < 0 for v in self.arima_order):
            raise ValueError(f"model.arima_order must be three non-negative ints, got {self.arima_order}")


@dataclass
class ForecastConfig:
    """``lstmkit train forecast``: multi-step time-series forecasting."""

    model: ForecastModelConfig = field(default_factory=ForecastModelConfig)
    """The model."""
    data: ForecastDataConfig = field(default_factory=ForecastDataConfig)
    """The series and its windows."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=60, batch_size=32, optimizer=OptimizerConfig(name="adam", lr=3e-3),
        )
    )
    """The training loop."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""


class ForecastTask(Task):
    """Multi-step forecasting of one or more target columns."""

    name = "forecast"
    unit = "windows"

    def __init__(self, config: ForecastConfig) -> None:
        if config.train.bptt is not None:
            raise ValueError(
                "train.bptt must be null for forecast: each window is one short sequence "
                "trained with full BPTT (use data.context to change its length)"
            )
        super().__init__(config)
        self._series: Series | None = None
        self.scalers: tuple[Scaler, Scaler] | None = None

    # -- data -------------------------------------------------------------------------

    def series(self) -> Series:
        if self._series is None:
            data = self.config.data
            self._series = load_series(
                data.series, time_column=data.time_column, target_columns=data.target_columns,
                covariate_columns=data.covariate_columns, fill=data.fill,
            )
        return self._series

    @property
    def season(self) -> int:
        return self.config.data.season or self.series().season

    def plan(self) -> WindowPlan:
        data = self.config.data
        return plan_windows(
            len(self.series()), data.context, data.horizon, test_windows=data.test_windows,
            validation_windows=data.validation_windows, stride=data.stride or data.horizon,
        )

    def _scalers(self) -> tuple[Scaler, Scaler]:
        if self.scalers is None:
            series, end = self.series(), self.plan().training_end
            self.scalers = (Scaler.fit(series.targets[:end]), Scaler.fit(series.covariates[:end]))
        return self.scalers

    def scaled(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole series' targets ``(T, C)`` and covariates ``(T, K)``, standardised."""
        series = self.series()
        targets, covariates = self._scalers()
        return targets.transform(series.targets), covariates.transform(series.covariates)

    def windows(self, origins: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Scaled ``history (W, L, C)``, ``covariates (W, L+H, K)``, ``future (W, H, C)``."""
        targets, covariates = self.scaled()
        data = self.config.data
        arrays = gather_windows(targets, covariates, origins, data.context, data.horizon)
        return tuple(torch.from_numpy(a).float() for a in arrays)

    def anchors(self, history: torch.Tensor) -> torch.Tensor:
        """``(W, 1, C)``: what ``data.anchor`` subtracts from a window (zeros for none)."""
        if self.config.data.anchor == "last":
            return history[:, -1:, :]
        return torch.zeros_like(history[:, :1, :])

    def train_data(self) -> torch.utils.data.Dataset:
        history, covariates, future = self.windows(self.plan().train)
        anchor = self.anchors(history)
        return torch.utils.data.TensorDataset(history - anchor, covariates, future - anchor)

    # -- model and loss ---------------------------------------------------------------

    def build_model(self) -> Forecaster:
        series, model = self.series(), self.config.model
        return Forecaster(
            series.targets.shape[1], series.covariates.shape[1], self.config.data.horizon,
            model.recurrent, decoder=model.decoder, distribution=model.distribution,
            quantiles=tuple(model.quantiles),
        )

    def loss(self, model, batch, state=None) -> LossOutput:
        history, covariates, future = batch
        params = model(history, covariates, teacher=future)
        core = getattr(model, "module", model)  # under DDP the heads live on .module
        return LossOutput(core.loss(params.float(), future), future.numel())

    def predict(self, model, origins: np.ndarray) -> dict[str, np.ndarray]:
        """Forecasts at ``origins`` in the series' units: ``point (W, H, C)`` and, for
        probabilistic models, ``lower``/``upper`` ``(W, H, C)``."""
        history, covariates, _ = self.windows(origins)
        return self._forecast(model, history, covariates)

    def _params(self, model, history, covariates) -> tuple[torch.Tensor, torch.Tensor]:
        """The model's distribution parameters ``(W, H, C, P)`` (CPU) on anchored inputs,
        and the anchor ``(W, 1, C)`` they are relative to."""
        device = next(model.parameters()).device
        anchor = self.anchors(history)
        with torch.no_grad():
            params = model((history - anchor).to(device), covariates.to(device)).float().cpu()
        return params, anchor

    def _forecast(self, model, history, covariates, computed=None) -> dict[str, np.ndarray]:
        """Point forecast (and interval) in the series' units; ``computed`` reuses a
        `_params` result."""
        params, anchor = computed or self._params(model, history, covariates)
        scaler = self._scalers()[0]

        def unscale(values: torch.Tensor) -> np.ndarray:
            return scaler.inverse((values + anchor).double().numpy())

        out = {"point": unscale(model.point(params))}
        if model.distribution != "point":
            lower, upper = model.interval(params, self.config.model.interval)
            out["lower"], out["upper"] = unscale(lower), unscale(upper)
        return out

    def _actual_and_histories(self, origins: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        targets, horizon = self.series().targets, self.config.data.horizon
        actual = np.stack([targets[o : o + horizon] for o in origins])  # (W, H, C)
        return actual, [targets[:o] for o in origins]

    def evaluate(self, model, split: str) -> dict[str, float]:
        origins = self.plan().origins(split)
        history, covariates, future = self.windows(origins)
        params, anchor = computed = self._params(model, history, covariates)
        metrics = {"loss": float(model.loss(params, future - anchor)) / future.numel()}
        forecast = self._forecast(model, history, covariates, computed)
        actual, histories = self._actual_and_histories(origins)
        metrics.update(forecast_metrics(actual, forecast["point"], histories, self.season))
        if "lower" in forecast:
            metrics["coverage"] = interval_coverage(actual, forecast["lower"], forecast["upper"])
        return metrics

    # -- what a checkpoint must carry ----------------------------------------------------

    def state_dict(self) -> dict:
        targets, covariates = self._scalers()
        return {"target_scaler": targets.state_dict(), "covariate_scaler": covariates.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "target_scaler" in state:
            self.scalers = (
                Scaler.from_state_dict(state["target_scaler"]),
                Scaler.from_state_dict(state["covariate_scaler"]),
            )

    def model_arguments(self) -> dict:
        series, model = self.series(), self.config.model
        return {
            "num_targets": series.targets.shape[1], "num_covariates": series.covariates.shape[1],
            "horizon": self.config.data.horizon, "decoder": model.decoder,
            "distribution": model.distribution, "quantiles": list(model.quantiles),
            "recurrent": recurrent_arguments(model.recurrent),
        }

    # -- the backtest -------------------------------------------------------------------

    def backtest(self, model) -> dict:
        """The LSTM and every baseline on the test windows: forecasts and metrics."""
        origins = self.plan().test
        actual, histories = self._actual_and_histories(origins)
        lstm = self.predict(model, origins)
        forecasts = {"lstm": lstm["point"]}
        order = tuple(self.config.model.arima_order)
        forecasts.update(baseline_forecasts(
            histories, self.config.data.horizon, self.season,
            methods=tuple(self.config.model.baselines), arima_order=order,
        ))
        table = {name: forecast_metrics(actual, f, histories, self.season) for name, f in forecasts.items()}
        if "lower" in lstm:
            table["lstm"]["coverage"] = interval_coverage(actual, lstm["lower"], lstm["upper"])
        return {"origins": origins, "actual": actual, "forecasts": forecasts, "lstm": lstm, "table": table}

    def report(self, model, run_dir: Path) -> list[str]:
        result = self.backtest(model)
        series, table = self.series(), result["table"]
        metric_names = ["mae", "rmse", "smape", "mase"]
        rows = ["method," + ",".join(metric_names + ["coverage"])]
        lines = [
            (f"backtest on {series.name}: {len(result['origins'])} origins, horizon "
            f"{self.config.data.horizon}, season {self.season}"),
            f"  {'method':<16}" + "".join(f"{m:>10}" for m in metric_names),
        ]
        for name, metrics in table.items():
            rows.append(",".join([name] + [f"{metrics.get(m, float('nan')):.6g}" for m in metric_names + ["coverage"]]))
            lines.append(f"  {name:<16}" + "".join(f"{metrics[m]:>10.4g}" for m in metric_names))
        if "coverage" in table["lstm"]:
            level = self._interval_level()
            lines.append(f"  LSTM {level:.0%} interval coverage: {table['lstm']['coverage']:.1%}")
        write_text_atomic(run_dir / "backtest.csv", "\n".join(rows) + "\n")
        write_text_atomic(run_dir / "backtest.json", json.dumps(
            {"series": series.name, "origins": [int(o) for o in result["origins"]],
             "horizon": self.config.data.horizon, "season": self.season, "metrics": table},
            indent=2,
        ) + "\n")
        plot_backtest(
            run_dir / "forecast.png", series, result["origins"], result["lstm"],
            {k: v for k, v in result["forecasts"].items() if k != "lstm"},
            interval_level=self._interval_level() if "lower" in result["lstm"] else None,
        )
        lines.append(f"plot: {run_dir / 'forecast.png'}")
        return lines

    def _interval_level(self) -> float:
        model = self.config.model
        if model.distribution == "quantile":
            return model.quantiles[-1] - model.quantiles[0]
        return model.interval

    # -- forecasting the future ---------------------------------------------------------

    def forecast_future(self, model) -> dict[str, np.ndarray]:
        """Forecast the ``H`` steps after the series' end (covariates, if any, must be
        known there: the series must then hold ``H`` more covariate rows — not
        supported yet, so covariate models raise)."""
        series, data = self.series(), self.config.data
        if series.covariates.shape[1]:
            raise ValueError(
                "forecasting past the end of a series with covariates needs their future "
                "values, which a CSV cannot give yet; use a model without covariates"
            )
        if len(series) < data.context:
            raise ValueError(f"the series has {len(series)} steps, fewer than data.context={data.context}")
        targets, _covariates = self.scaled()
        history = torch.from_numpy(targets[-data.context :]).float()[None]  # (1, L, C)
        future_covariates = torch.zeros(1, data.context + data.horizon, 0)
        out = self._forecast(model, history, future_covariates)
        return {key: value[0] for key, value in out.items()} | {"time": series.future_time(data.horizon)}
