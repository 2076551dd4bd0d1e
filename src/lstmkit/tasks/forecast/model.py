"""The LSTM forecaster: an encoder over the context window, then ``H`` steps of forecast.

Shapes: ``N`` windows, ``L`` context steps, ``H`` horizon, ``C`` target columns, ``K``
covariate columns, ``P`` outputs per forecast value (1 point, 2 Gaussian, Q quantiles).
All values are scaled (the task standardises with training statistics).

Two decoders:

- ``direct`` (multi-output): the stack reads ``[y_t, x_t]`` over the context; its last
  output, with the horizon's covariates, goes through one linear layer to all
  ``H × C × P`` outputs at once.
- ``autoregressive`` (DeepAR-style, Salinas et al. 2020): one stack unrolled over
  context and horizon, input ``z_t = [y_{t-1}, x_t]``, predicting ``y_t`` at each
  horizon step. Training feeds the true ``y_{t-1}`` (teacher forcing, one call over
  all steps); forecasting feeds back its own point forecast step by step.

Outputs (`DISTRIBUTIONS`):

- ``point``: ``ŷ``, trained with squared error;
- ``gaussian``: ``μ`` and ``σ = softplus(s) + 1e-3``, trained with the negative
  log-likelihood ``½ log(2π σ²) + (y − μ)² / (2σ²)``;
- ``quantile``: one value per level ``τ``, trained with the pinball loss
  ``max(τ (y − q), (τ − 1)(y − q))`` summed over the levels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..recurrent import RecurrentConfig, build_recurrent

DECODERS = ("direct", "autoregressive")
DISTRIBUTIONS = ("point", "gaussian", "quantile")
MIN_SIGMA = 1e-3


def outputs_per_value(distribution: str, quantiles: tuple[float, ...]) -> int:
    """``P`` for a distribution."""
    return {"point": 1, "gaussian": 2, "quantile": len(quantiles)}[distribution]


class Forecaster(torch.nn.Module):
    """Context window (+ covariates) → distribution parameters for ``H`` steps ahead."""

    def __init__(
        self, num_targets: int, num_covariates: int, horizon: int, recurrent: RecurrentConfig,
        *, decoder: str = "direct", distribution: str = "point",
        quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    ) -> None:
        super().__init__()
        if decoder not in DECODERS:
            raise ValueError(f"model.decoder must be one of {', '.join(DECODERS)}, got {decoder!r}")
        if distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"model.distribution must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}"
            )
        if decoder == "autoregressive" and recurrent.bidirectional:
            raise ValueError("model.recurrent.bidirectional must be false with the autoregressive decoder")
        self.num_targets, self.num_covariates, self.horizon = num_targets, num_covariates, horizon
        self.decoder, self.distribution = decoder, distribution
        self.register_buffer("quantiles", torch.tensor(quantiles, dtype=torch.float32), persistent=False)
        self.outputs = outputs_per_value(distribution, quantiles)
        self.recurrent = build_recurrent(num_targets + num_covariates, recurrent)
        if decoder == "direct":
            head_in = recurrent.output_size + horizon * num_covariates
            self.head = torch.nn.Linear(head_in, horizon * num_targets * self.outputs)
        else:
            self.head = torch.nn.Linear(recurrent.output_size, num_targets * self.outputs)

    def forward(self, history: Tensor, covariates: Tensor, teacher: Tensor | None = None) -> Tensor:
        """Distribution parameters ``(N, H, C, P)``.

        Args:
            history: ``(N, L, C)`` targets over the context.
            covariates: ``(N, L+H, K)`` over the context and the horizon.
            teacher: ``(N, H, C)`` the true future (autoregressive training only);
                None feeds back the model's own point forecasts.
        """
        n, context, _ = history.shape
        if self.decoder == "direct":
            inputs = torch.cat([history, covariates[:, :context]], dim=-1)  # (N, L, C+K)
            output, _ = self.recurrent(inputs)  # (N, L, H_out)
            features = torch.cat([output[:, -1], covariates[:, context:].flatten(1)], dim=-1)
            return self.head(features).view(n, self.horizon, self.num_targets, self.outputs)
        # Autoregressive: z_t = [y_{t-1}, x_t] for t = 1 … L-1 (context) then the horizon.
        context_inputs = torch.cat([history[:, :-1], covariates[:, 1:context]], dim=-1)
        if teacher is not None:
            previous = torch.cat([history[:, -1:], teacher[:, :-1]], dim=1)  # (N, H, C)
            inputs = torch.cat([context_inputs, torch.cat([previous, covariates[:, context:]], -1)], 1)
            output, _ = self.recurrent(inputs)  # (N, L-1+H, H_out)
            params = self.head(output[:, context - 1 :])  # (N, H, C*P)
            return params.view(n, self.horizon, self.num_targets, self.outputs)
        state = None
        if context > 1:
            _, state = self.recurrent(context_inputs, state)
        previous, steps = history[:, -1], []  # (N, C)
        for h in range(self.horizon):
            step_input = torch.cat([previous, covariates[:, context + h]], dim=-1)[:, None]
            output, state = self.recurrent(step_input, state)  # (N, 1, H_out)
            params = self.head(output[:, 0]).view(n, self.num_targets, self.outputs)
            steps.append(params)
            previous = self.point(params[:, None])[:, 0]
        return torch.stack(steps, dim=1)  # (N, H, C, P)

    # -- reading the parameters -----------------------------------------------------------

    def point(self, params: Tensor) -> Tensor:
        """``(..., P)`` → the point forecast ``(...)``: the value, the mean or the median."""
        if self.distribution == "quantile":
            middle = int(torch.argmin((self.quantiles - 0.5).abs()))
            return params[..., middle]
        return params[..., 0]

    def interval(self, params: Tensor, level: float) -> tuple[Tensor, Tensor]:
        """Lower and upper bounds of the central ``level`` interval (probabilistic outputs):
        ``μ ± z σ`` for a Gaussian, the outermost quantiles otherwise."""
        if self.distribution == "gaussian":
            z = math.sqrt(2.0) * torch.special.erfinv(torch.tensor(level)).item()
            sigma = F.softplus(params[..., 1]) + MIN_SIGMA
            return params[..., 0] - z * sigma, params[..., 0] + z * sigma
        if self.distribution == "quantile":
            return params[..., 0], params[..., -1]
        raise ValueError("prediction intervals need model.distribution gaussian or quantile")

    def loss(self, params: Tensor, target: Tensor) -> Tensor:
        """Summed loss of ``params (N, H, C, P)`` against ``target (N, H, C)``."""
        if self.distribution == "point":
            return ((params[..., 0] - target) ** 2).sum()
        if self.distribution == "gaussian":
            mean, sigma = params[..., 0], F.softplus(params[..., 1]) + MIN_SIGMA
            nll = 0.5 * math.log(2 * math.pi) + torch.log(sigma) + (target - mean) ** 2 / (2 * sigma**2)
            return nll.sum()
        error = target[..., None] - params  # (N, H, C, Q)
        tau = self.quantiles.to(params.dtype)
        return torch.maximum(tau * error, (tau - 1) * error).sum()
