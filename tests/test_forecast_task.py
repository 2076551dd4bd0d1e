"""The forecasting task: windows without leakage, forecasters' shapes and decoders,
baselines on the LSTM's own windows, the backtest report and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_helpers import fit, one_line_error, run_cli

from lstmkit.tasks import ForecastConfig, ForecastTask, RecurrentConfig
from lstmkit.tasks.forecast.baselines import baseline_forecasts
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.model import Forecaster
from lstmkit.tasks.forecast.task import ForecastDataConfig, ForecastModelConfig
from lstmkit.tasks.forecast.windows import Scaler, gather_windows, plan_windows
from lstmkit.train import OptimizerConfig, RunConfig, TrainConfig


def write_series(path, n=160, covariate=False):
    """A noisy daily sine with period 8 (and a covariate that leads it)."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    days = np.datetime64("2020-01-01") + t
    lines = ["date,sales" + (",promo" if covariate else "")]
    for i in range(n):
        value = 10 + 3 * np.sin(2 * np.pi * i / 8) + 0.1 * rng.standard_normal()
        row = f"{days[i]},{value:.4f}"
        if covariate:
            row += f",{np.cos(2 * np.pi * i / 8):.4f}"
        lines.append(row)
    path.write_text("\n".join(lines) + "\n")
    return path


def forecast_config(series, root, *, epochs=30, model=None, **data) -> ForecastConfig:
    return ForecastConfig(
        model=ForecastModelConfig(**{
            "recurrent": RecurrentConfig(hidden_size=16), "baselines": ["naive", "seasonal_naive"],
            **(model or {}),
        }),
        data=ForecastDataConfig(**{
            "series": str(series), "context": 16, "horizon": 4, "season": 8, "test_windows": 3,
            "validation_windows": 2, **data,
        }),
        train=TrainConfig(epochs=epochs, batch_size=16, optimizer=OptimizerConfig(name="adam", lr=1e-2)),
        run=RunConfig(root=str(root), progress="lines", tensorboard=False, plots=False),
    )


# -- windows ------------------------------------------------------------------------------


def test_window_plan_places_origins_and_never_leaks():
    plan = plan_windows(100, 10, 5, test_windows=3, validation_windows=2, stride=5)
    assert plan.test.tolist() == [85, 90, 95]
    assert plan.validation.tolist() == [75, 80]
    assert plan.train.tolist() == list(range(10, 71))
    # Every training target (origin + H - 1) lies before the first validation origin.
    assert plan.train.max() + 5 - 1 < plan.validation.min() == plan.training_end
    assert plan.validation.max() + 5 - 1 < plan.test.min()
    assert plan.test.max() + 5 == 100  # the last window ends with the series


def test_too_short_a_series_says_how_much_is_needed():
    with pytest.raises(ValueError, match="the series has 49 steps, too short .* needs at least 50 steps"):
        plan_windows(49, 20, 5, test_windows=3, validation_windows=2, stride=5)
    assert plan_windows(50, 20, 5, test_windows=3, validation_windows=2, stride=5).train.tolist() == [20]


def test_gather_windows_cuts_context_and_future():
    targets = np.arange(20, dtype=float)[:, None]  # (T, 1)
    covariates = np.arange(20, dtype=float)[:, None] * 10
    history, cov, future = gather_windows(targets, covariates, np.array([5, 12]), 3, 2)
    assert history[:, :, 0].tolist() == [[2, 3, 4], [9, 10, 11]]
    assert future[:, :, 0].tolist() == [[5, 6], [12, 13]]
    assert cov[:, :, 0].tolist() == [[20, 30, 40, 50, 60], [90, 100, 110, 120, 130]]


def test_scaler_is_fitted_on_training_steps_only(tmp_path):
    path = write_series(tmp_path / "s.csv")
    task = ForecastTask(forecast_config(path, tmp_path))
    end = task.plan().training_end
    expected = task.series().targets[:end]
    scaler = task._scalers()[0]
    np.testing.assert_allclose(scaler.mean, expected.mean(0))
    np.testing.assert_allclose(scaler.scale, expected.std(0))
    constant = Scaler.fit(np.ones((5, 1)))
    assert constant.scale.tolist() == [1.0]  # no division by zero


# -- the model ------------------------------------------------------------------------------


@pytest.mark.parametrize("decoder", ["direct", "autoregressive"])
@pytest.mark.parametrize("distribution", ["point", "gaussian", "quantile"])
def test_forecaster_shapes(decoder, distribution):
    model = Forecaster(2, 1, 5, RecurrentConfig(hidden_size=8), decoder=decoder, distribution=distribution)
    history, covariates = torch.randn(3, 7, 2), torch.randn(3, 12, 1)
    params = model(history, covariates)
    assert params.shape == (3, 5, 2, {"point": 1, "gaussian": 2, "quantile": 3}[distribution])
    assert model.point(params).shape == (3, 5, 2)


def test_autoregressive_teacher_forcing_with_its_own_forecasts_equals_free_running():
    model = Forecaster(1, 1, 6, RecurrentConfig(hidden_size=8), decoder="autoregressive")
    history, covariates = torch.randn(2, 9, 1), torch.randn(2, 15, 1)
    free = model(history, covariates)  # (N, H, C, 1)
    forced = model(history, covariates, teacher=model.point(free))
    torch.testing.assert_close(forced, free)
    # And the teacher really is what feeds the decoder.
    other = model(history, covariates, teacher=model.point(free) + 1.0)
    assert not torch.allclose(other[:, 1:], free[:, 1:])
    torch.testing.assert_close(other[:, 0], free[:, 0])  # step 0 sees only the context


def test_direct_decoder_reads_the_future_covariates():
    model = Forecaster(1, 1, 3, RecurrentConfig(hidden_size=8))
    history, covariates = torch.randn(2, 5, 1), torch.randn(2, 8, 1)
    changed = covariates.clone()
    changed[:, 6] += 1.0  # a horizon step's covariate
    assert not torch.allclose(model(history, covariates), model(history, changed))


def test_losses_match_their_definitions():
    target = torch.tensor([[[1.0]], [[2.0]]])  # (N=2, H=1, C=1)
    point = Forecaster(1, 0, 1, RecurrentConfig(hidden_size=4))
    assert point.loss(torch.tensor([[[[0.5]]], [[[3.0]]]]), target).item() == pytest.approx(0.25 + 1.0)
    gaussian = Forecaster(1, 0, 1, RecurrentConfig(hidden_size=4), distribution="gaussian")
    raw = torch.tensor([[[[0.0, 0.3]]], [[[2.5, -1.0]]]])
    sigma = torch.nn.functional.softplus(raw[..., 1]) + 1e-3
    mean = raw[..., 0]
    nll = 0.5 * np.log(2 * np.pi) + torch.log(sigma) + (target - mean) ** 2 / (2 * sigma**2)
    assert gaussian.loss(raw, target).item() == pytest.approx(nll.sum().item(), rel=1e-6)
    quantile = Forecaster(1, 0, 1, RecurrentConfig(hidden_size=4), distribution="quantile")
    q = torch.tensor([[[[0.0, 1.0, 3.0]]], [[[2.0, 2.0, 2.0]]]])
    # pinball max(τe, (τ-1)e) with e = y - q: y=1 gives e = (1, 0, -2) → 0.1 + 0 + 0.2; y=2 gives 0
    expected = (0.1 * 1 + 0.5 * 0 + 0.1 * 2) + 0.0
    assert quantile.loss(q, target).item() == pytest.approx(expected)


def test_intervals_bracket_the_point_forecast():
    model = Forecaster(1, 0, 4, RecurrentConfig(hidden_size=4), distribution="gaussian")
    params = model(torch.randn(3, 6, 1), torch.zeros(3, 10, 0))
    lower, upper = model.interval(params, 0.8)
    sigma = torch.nn.functional.softplus(params[..., 1]) + 1e-3
    torch.testing.assert_close(upper - model.point(params), 1.2815516 * sigma, rtol=1e-5, atol=1e-6)
    assert bool((lower < model.point(params)).all())
    with pytest.raises(ValueError, match="intervals need model.distribution gaussian or quantile"):
        Forecaster(1, 0, 4, RecurrentConfig(hidden_size=4)).interval(params, 0.8)


# -- training, evaluation and the backtest -----------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("forecast")
    path = write_series(root / "s.csv")
    config = forecast_config(path, root, model={"distribution": "gaussian"})
    task = ForecastTask(config)
    trainer, result = fit(config, task)
    return task, trainer.model.eval(), result


def test_training_lowers_the_loss_and_beats_naive(trained):
    task, model, result = trained
    first, last = np.mean(result.losses[:3]), np.mean(result.losses[-3:])
    assert last < first - 0.5, (first, last)
    backtest = task.backtest(model)
    assert backtest["table"]["lstm"]["mae"] < backtest["table"]["naive"]["mae"]


def test_backtest_forecasts_have_the_horizon_and_baselines_use_the_same_windows(trained):
    task, model, _ = trained
    result = task.backtest(model)
    origins = task.plan().test
    assert result["forecasts"]["lstm"].shape == (3, 4, 1)
    assert result["lstm"]["lower"].shape == result["lstm"]["upper"].shape == (3, 4, 1)
    targets = task.series().targets
    # The baselines are forecast from exactly the histories before the LSTM's origins...
    for w, origin in enumerate(origins):
        np.testing.assert_array_equal(result["forecasts"]["naive"][w], np.repeat(targets[origin - 1 : origin], 4, 0))
    histories = [targets[:o] for o in origins]
    expected = baseline_forecasts(histories, 4, 8, methods=("seasonal_naive",))
    np.testing.assert_array_equal(result["forecasts"]["seasonal_naive"], expected["seasonal_naive"])
    # ...and scored against the same actual values.
    actual = np.stack([targets[o : o + 4] for o in origins])
    np.testing.assert_array_equal(result["actual"], actual)
    assert result["table"]["naive"] == forecast_metrics(actual, result["forecasts"]["naive"], histories, 8)


def test_report_writes_table_json_and_plot(trained, tmp_path):
    task, model, _ = trained
    lines = task.report(model, tmp_path)
    assert any("lstm" in line for line in lines)
    csv = (tmp_path / "backtest.csv").read_text().splitlines()
    assert csv[0] == "method,mae,rmse,smape,mase,coverage"
    assert [row.split(",")[0] for row in csv[1:]] == ["lstm", "naive", "seasonal_naive"]
    data = json.loads((tmp_path / "backtest.json").read_text())
    assert 0.0 <= data["metrics"]["lstm"]["coverage"] <= 1.0
    assert (tmp_path / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predictions_are_in_the_series_units(trained):
    task, model, _ = trained
    forecast = task.predict(model, task.plan().test)["point"]
    assert 5 < forecast.mean() < 15  # the series lives around 10, the scaled one around 0


def test_future_forecast_continues_the_dates(trained):
    task, model, _ = trained
    future = task.forecast_future(model)
    assert future["point"].shape == (4, 1)
    assert [str(t)[:10] for t in future["time"]] == ["2020-06-09", "2020-06-10", "2020-06-11", "2020-06-12"]


# -- configuration and bad input ------------------------------------------------------------


def test_model_config_errors():
    with pytest.raises(ValueError, match="model.quantiles must be ascending distinct levels .* including 0.5"):
        ForecastModelConfig(quantiles=[0.1, 0.9])
    with pytest.raises(ValueError, match="model.baselines: unknown baseline 'prophet'"):
        ForecastModelConfig(baselines=["prophet"])
    with pytest.raises(ValueError, match="model.arima_order must be three non-negative ints"):
        ForecastModelConfig(arima_order=[1, 2])


def _train_argv(series, root, *extra):
    return [
        "train", "forecast", "--data.series", series, "--data.context", "16", "--data.horizon", "4",
        "--data.season", "8", "--data.test_windows", "3", "--data.validation_windows", "2",
        "--model.recurrent.hidden_size", "8", "--model.baselines", '["naive","seasonal_naive"]',
        "--train.epochs", "2", "--run.root", root, "--run.progress", "lines",
        "--run.plots", "false", "--run.tensorboard", "false", *extra,
    ]


def test_cli_train_then_forecast(tmp_path):
    series = write_series(tmp_path / "s.csv")
    train = run_cli(_train_argv(series, tmp_path / "runs", "--run.name", "f"))
    assert train.returncode == 0, train.stderr
    assert "backtest on s: 3 origins, horizon 4, season 8" in train.stdout
    assert (tmp_path / "runs" / "f" / "forecast.png").exists()
    out = run_cli(["forecast", tmp_path / "runs" / "f", "--json", "--output", tmp_path / "out"])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[0])
    assert result["columns"] == ["time", "sales"]
    assert [row[0][:10] for row in result["rows"]] == ["2020-06-09", "2020-06-10", "2020-06-11", "2020-06-12"]
    assert (tmp_path / "out" / "forecast.csv").read_text().startswith("time,sales\n")
    again = run_cli(["forecast", tmp_path / "runs" / "f", "--output", tmp_path / "out"])
    assert again.returncode == 1
    assert "forecast.csv already exists" in one_line_error(again.stderr)
    longer = write_series(tmp_path / "longer.csv", n=170)  # ten more days of the same columns
    other = run_cli(["forecast", tmp_path / "runs" / "f", "--series", longer, "--json"])
    assert other.returncode == 0, other.stderr
    rows = json.loads(other.stdout.splitlines()[0])["rows"]
    assert [row[0][:10] for row in rows] == ["2020-06-19", "2020-06-20", "2020-06-21", "2020-06-22"]
    assert rows != result["rows"]
    bad_fill = run_cli(["forecast", tmp_path / "runs" / "f", "--fill", "guess"])
    assert bad_fill.returncode == 2
    assert "--fill must be one of none, linear, ffill, got 'guess'" in one_line_error(bad_fill.stderr)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("when,sales\n1,2\n2,3\n3,4\n", "no time column"),
        ("date,sales\n2020-01-01,1\n2020-01-02,abc\n2020-01-03,2\n", 'column "sales" has a non-numeric value "abc"'),
        ("date,sales\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in range(1, 21)), "too short for data.context=16"),
        ("date,sales\n2020-01-01,1\n2020-01-02,\n2020-01-03,2\n", "missing value"),
    ],
    ids=["no-time-column", "non-numeric-target", "too-short", "missing-value"],
)
def test_bad_csv_gives_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = run_cli(_train_argv(path, tmp_path / "runs"))
    assert result.returncode != 0
    assert message in one_line_error(result.stderr)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_forecast_refuses_truncated_bptt(tmp_path):
    config = forecast_config(tmp_path / "unused.csv", tmp_path)
    config.train.bptt = 10
    with pytest.raises(ValueError, match="train.bptt must be null for forecast"):
        ForecastTask(config)


def test_anchor_last_makes_forecasts_follow_the_level(tmp_path):
    path = write_series(tmp_path / "s.csv")
    task = ForecastTask(forecast_config(path, tmp_path, anchor="last"))
    model = task.build_model().eval()
    history, covariates, _ = task.windows(task.plan().test)
    scale = task._scalers()[0].scale
    base = task._forecast(model, history, covariates)["point"]
    shifted = task._forecast(model, history + 2.0, covariates)["point"]
    np.testing.assert_allclose(shifted - base, np.broadcast_to(2.0 * scale, base.shape), rtol=1e-5)
    # Without the anchor the model sees the shift: not a plain translation.
    plain = ForecastTask(forecast_config(path, tmp_path))
    plain_model = plain.build_model().eval()
    moved = plain._forecast(plain_model, history + 2.0, covariates)["point"]
    assert not np.allclose(moved - plain._forecast(plain_model, history, covariates)["point"], 2.0 * scale)
    anchors = task.anchors(history)
    torch.testing.assert_close(anchors[:, 0], history[:, -1])
    dataset = task.train_data()
    assert torch.all(dataset.tensors[0][:, -1] == 0)  # every training history ends at 0
