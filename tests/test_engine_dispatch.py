"""The engine's single entry point: backend names, forced backends, the contract."""

from __future__ import annotations

import pytest
import torch

import lstmkit
from lstmkit import engine
from lstmkit.cells import NO_MASKS, lstm_spec


def test_auto_and_reference_give_identical_results():
    auto = lstmkit.LSTM(3, 4, peephole=True, dtype=torch.float64)
    forced = lstmkit.LSTM(3, 4, peephole=True, dtype=torch.float64, backend="reference")
    forced.load_state_dict(auto.state_dict())
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(auto(x)[0], forced(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["native", "vendor"])
def test_backends_of_later_versions_are_refused_by_name(name):
    with pytest.raises(ValueError, match=f"backend='{name}' is not available"):
        lstmkit.LSTM(3, 4, backend=name)
    spec = lstm_spec()
    with pytest.raises(ValueError, match=f"backend='{name}'"):
        engine.select_backend(name, spec, torch.zeros(1))


@pytest.mark.parametrize("name", ["fast", "", None, "Reference"])
def test_unknown_backend_names_are_refused(name):
    with pytest.raises(ValueError, match="backend must be one of"):
        engine.check_backend(name)


def test_run_layer_contract_shapes_and_reverse():
    layer = lstmkit.LSTM(3, 4, dtype=torch.float64)
    params = layer.layer_params(0)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    state0 = (torch.zeros(2, 4, dtype=torch.float64),) * 2
    y, (h, c) = engine.run_layer(x, state0, params, layer.spec, masks=NO_MASKS)
    assert y.shape == (5, 2, 4) and h.shape == (2, 4) and c.shape == (2, 4)
    torch.testing.assert_close(y[-1], h)
    y_rev, (h_rev, _) = engine.run_layer(x.flip(0), state0, params, layer.spec, reverse=True)
    # Reversing the input and the direction visits the same steps in the same order.
    torch.testing.assert_close(y_rev.flip(0), y)
    torch.testing.assert_close(h_rev, h)
