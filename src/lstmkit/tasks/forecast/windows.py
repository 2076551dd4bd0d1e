"""Where the forecast windows of a series lie, and the scaling fitted on training data.

A window at *origin* ``o`` forecasts steps ``o … o+H-1`` from the ``L`` steps before
it (``context``). The last part of the series is the rolling-origin backtest:

    test origins        o = T - H - j·s            for j = 0 … W_test - 1
    validation origins  o = o_test_min - H - j·s   for j = 0 … W_val - 1
    training origins    o = L … o_val_min - H      (every step)

(``T`` the series length, ``s`` the stride between origins). A validation or test
window's targets all lie after every training target, and the scaler is fitted on
``y[: o_val_min]`` only, so nothing from the evaluation periods leaks into training.
Baselines are computed on exactly these windows, each from the history before its
origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowPlan:
    """Origins per split (sorted ascending) for a series of ``length`` steps."""

    context: int
    horizon: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    @property
    def training_end(self) -> int:
        """Steps before this index are training data (the scaler is fitted on them)."""
        return int(self.validation.min())

    def origins(self, split: str) -> np.ndarray:
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be train, validation or test, got {split!r}")
        return getattr(self, split)


def plan_windows(
    length: int, context: int, horizon: int, *, test_windows: int, validation_windows: int,
    stride: int,
) -> WindowPlan:
    """The origins of every split; a ValueError saying how much is missing if the
    series is too short for them."""
    for name, value in (
        ("data.context", context), ("data.horizon", horizon), ("data.test_windows", test_windows),
        ("data.validation_windows", validation_windows), ("data.stride", stride),
    ):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    test = length - horizon - stride * np.arange(test_windows)[::-1]
    validation = test.min() - horizon - stride * np.arange(validation_windows)[::-1]
    last_train = validation.min() - horizon
    needed = context + horizon + (validation_windows - 1) * stride + horizon \
        + (test_windows - 1) * stride + horizon
    if last_train < context:
        raise ValueError(
            f"the series has {length} steps, too short for data.context={context}, "
            f"data.horizon={horizon}, {validation_windows} validation and {test_windows} test "
            f"windows {stride} apart: that needs at least {needed} steps. Use a shorter "
            "context or horizon, or fewer windows"
        )
    train = np.arange(context, last_train + 1)
    return WindowPlan(context, horizon, train, validation, test)


@dataclass(frozen=True)
class Scaler:
    """Per-column standardisation ``(x - mean) / scale`` fitted on training steps.

    A constant column gets scale 1 (it is only shifted), so it cannot divide by zero.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """``values (T, C)`` → the scaler of its columns."""
        mean = values.mean(axis=0)
        scale = values.std(axis=0)
        return cls(mean, np.where(scale > 0, scale, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean) / self.scale

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values * self.scale + self.mean

    def state_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state_dict(cls, state: dict) -> Scaler:
        return cls(np.asarray(state["mean"], dtype=np.float64), np.asarray(state["scale"], dtype=np.float64))


def gather_windows(
    targets: np.ndarray, covariates: np.ndarray, origins: np.ndarray, context: int, horizon: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of the windows at ``origins``.

    Args:
        targets: ``(T, C)``; covariates: ``(T, K)`` (K may be 0).

    Returns:
        ``history (W, L, C)`` the context's targets, ``covariates (W, L+H, K)`` over the
        context and the horizon, ``future (W, H, C)`` the targets to forecast.
    """
    offsets = np.arange(-context, horizon)  # (L+H,)
    index = origins[:, None] + offsets[None, :]  # (W, L+H)
    if index.min() < 0 or index.max() >= len(targets):
        raise ValueError("a window reaches outside the series")
    windows = targets[index]  # (W, L+H, C)
    return windows[:, :context], covariates[index], windows[:, context:]
