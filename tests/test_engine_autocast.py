"""Under torch.autocast the recurrence runs in the parameters' dtype (float32)."""

from __future__ import annotations

import pytest
import torch

import lstmkit

CASES = [
    (lstmkit.LSTM, {}, "auto"),
    (lstmkit.LSTM, {}, "vendor"),
    (lstmkit.LSTM, {"peephole": True, "layer_norm": True}, "native"),
    (lstmkit.LSTM, {"zoneout": 0.2, "recurrent_dropout": 0.1, "num_layers": 2}, "native"),
    (lstmkit.LSTM, {"cifg": True}, "reference"),
    (lstmkit.GRU, {"layer_norm": True}, "auto"),
    (lstmkit.RNN, {"bidirectional": True}, "auto"),
]


@pytest.mark.parametrize("cls, options, backend", CASES)
def test_bf16_input_under_autocast_equals_float32_run(cls, options, backend):
    module = cls(3, 6, batch_first=True, backend=backend, **options)
    module.train()
    x = torch.randn(4, 7, 3).to(torch.bfloat16)  # what a bf16 layer before it hands over
    torch.manual_seed(0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, _ = module(x)
    y.sum().backward()
    grads = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    torch.manual_seed(0)
    expected, _ = module(x.float())
    expected.sum().backward()
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    for got, want in zip(grads, (p.grad for p in module.parameters())):
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, want, rtol=0, atol=0)
