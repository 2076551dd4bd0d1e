"""A few seconds of training that show an lstmkit LSTM learning: the adding problem.

Each sequence has ``T`` steps of two features: a random value in ``[0, 1)`` and a
marker that is 1 at exactly two steps. The target is the sum of the two marked
values. Predicting the mean (1.0) scores an MSE of 1/6 ≈ 0.167; an LSTM that has
learned to gate the marked values in drives it towards 0.

Run it with ``python -m lstmkit.demo`` (the README's first command does).
"""

from __future__ import annotations

import argparse
import time

import torch

import lstmkit

MEAN_PREDICTOR_MSE = 1.0 / 6.0  # Var(U1 + U2) for two independent U(0, 1) values


def adding_batch(batch: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``x (N, T, 2)`` values and markers, ``y (N,)`` the sum of the two marked values."""
    values = torch.rand(batch, length, generator=generator)
    first = torch.randint(0, length // 2, (batch,), generator=generator)
    second = torch.randint(length // 2, length, (batch,), generator=generator)
    markers = torch.zeros(batch, length)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)  # (N, T, 2)
    return x, (values * markers).sum(dim=1)


class AddingModel(torch.nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.lstm = lstmkit.LSTM(2, hidden, batch_first=True, peephole=True, forget_bias=1.0)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1]).squeeze(-1)  # (N,)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20, help="sequence length T")
    parser.add_argument("--hidden", type=int, default=32, help="LSTM hidden size")
    parser.add_argument("--steps", type=int, default=500, help="optimiser steps")
    parser.add_argument("--batch", type=int, default=64, help="sequences per step")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = AddingModel(args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x_val, y_val = adding_batch(512, args.length, generator)
    print(f"adding problem, T={args.length}: peephole LSTM({args.hidden}) from lstmkit")
    print(f"predicting the mean scores MSE {MEAN_PREDICTOR_MSE:.3f}")
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = adding_batch(args.batch, args.length, generator)
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 25 == 0 or step == 1:
            with torch.no_grad():
                val = torch.nn.functional.mse_loss(model(x_val), y_val).item()
            print(f"step {step:4d}  train MSE {loss.item():.4f}  validation MSE {val:.4f}"
                  f"  ({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
