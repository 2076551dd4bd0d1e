"""The peephole LSTM a PyTorch user would write by hand: the competitor for lstmkit's variants.

It is deliberately "the natural way" and nothing cleverer: the input projection of all
steps is hoisted into one GEMM, then a Python loop over time does one recurrent GEMM and
the gate arithmetic as separate tensor ops, with autograd recording every one of them.
Its equations are lstmkit's peephole LSTM (Gers & Schmidhuber), gate order ``i, f, g, o``::

    a = x_t W_ih^T + b + h_{t-1} W_hh^T               # (N, 4H), split into a_i, a_f, a_g, a_o
    i = σ(a_i + p_i ⊙ c_{t-1})     f = σ(a_f + p_f ⊙ c_{t-1})     g = tanh(a_g)
    c_t = f ⊙ c_{t-1} + i ⊙ g
    o = σ(a_o + p_o ⊙ c_t)         h_t = o ⊙ tanh(c_t)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


class PlainPeepholeLSTM(torch.nn.Module):
    """One layer, one direction, time-major: ``forward(x (L, N, H_in)) -> (y (L, N, H), (h, c))``.

    Parameters: ``weight_ih (4H, H_in)``, ``weight_hh (4H, H)``, ``bias (4H,)`` (the sum of
    torch's two biases) and ``peephole (3, H)`` with rows ``(i, f, o)``.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = torch.nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = torch.nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = torch.nn.Parameter(torch.empty(4 * hidden_size))
        self.peephole = torch.nn.Parameter(torch.empty(3, hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch.nn.LSTM's ``U(-1/sqrt(H), 1/sqrt(H))`` for every parameter."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            torch.nn.init.uniform_(parameter, -bound, bound)

    @classmethod
    def from_weights(
        cls, weight_ih: Tensor, weight_hh: Tensor, bias: Tensor, peephole: Tensor
    ) -> PlainPeepholeLSTM:
        """A module holding copies of the given tensors (shapes as in the class docstring)."""
        hidden_size = weight_hh.shape[1]
        module = cls(weight_ih.shape[1], hidden_size)
        with torch.no_grad():
            module.weight_ih.copy_(weight_ih)
            module.weight_hh.copy_(weight_hh)
            module.bias.copy_(bias)
            module.peephole.copy_(peephole)
        return module

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        length, batch, _ = x.shape
        if state is None:
            h = x.new_zeros(batch, self.hidden_size)
            c = x.new_zeros(batch, self.hidden_size)
        else:
            h, c = state
        x_proj = x @ self.weight_ih.T + self.bias  # (L, N, 4H): one GEMM for every step
        p_i, p_f, p_o = self.peephole  # each (H,)
        outputs = []
        for t in range(length):
            gates = x_proj[t] + h @ self.weight_hh.T  # (N, 4H)
            a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)  # each (N, H)
            i = torch.sigmoid(a_i + p_i * c)
            f = torch.sigmoid(a_f + p_f * c)
            g = torch.tanh(a_g)
            c = f * c + i * g
            o = torch.sigmoid(a_o + p_o * c)
            h = o * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs), (h, c)  # (L, N, H)
