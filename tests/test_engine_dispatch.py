"""The engine's single entry point: backend names, forced backends, the contract."""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch

import lstmkit
from lstmkit import engine
from lstmkit.cells import NO_MASKS, CellSpec, Masks, lstm_spec
from lstmkit.engine import dispatch


def test_auto_and_reference_give_the_same_results():
    auto = lstmkit.LSTM(3, 4, peephole=True, dtype=torch.float64)
    forced = lstmkit.LSTM(3, 4, peephole=True, dtype=torch.float64, backend="reference")
    forced.load_state_dict(auto.state_dict())
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(auto(x)[0], forced(x)[0], rtol=1e-12, atol=1e-12)


NATIVE_UP = engine.native.is_available()


@pytest.mark.skipif(shutil.which("c++") is None, reason="no C++ compiler on this machine")
def test_the_native_kernels_build_where_a_compiler_exists():
    # Every native test skips when the kernels are unavailable; this one does not, so a
    # broken build on a machine that can compile fails the suite instead of hiding.
    available, why = engine.native.build.availability()
    assert available, why


@pytest.mark.parametrize(
    ("spec", "masks", "expected"),
    [
        pytest.param(lstm_spec(), NO_MASKS, "vendor", id="vanilla-lstm"),
        pytest.param(lstm_spec(projection=True), NO_MASKS, "vendor", id="lstmp"),
        pytest.param(CellSpec(kind="rnn_relu"), NO_MASKS, "vendor", id="rnn"),
        pytest.param(lstm_spec(peephole=True), NO_MASKS, "native", id="peephole"),
        pytest.param(CellSpec(kind="gru", reset_after=False), NO_MASKS, "native", id="gru-cho"),
        pytest.param(lstm_spec(), Masks(zoneout_h=torch.tensor(0.1)), "native", id="zoneout-eval"),
        pytest.param(CellSpec(kind="rnn_tanh", layer_norm=True), NO_MASKS, "reference", id="rnn-ln"),
    ],
)
def test_auto_picks_the_first_backend_that_serves(spec, masks, expected, monkeypatch):
    if expected == "native" and not NATIVE_UP:
        pytest.skip("the native kernels are not available on this machine")
    monkeypatch.setattr(dispatch, "_warned_reference_fallback", True)  # silence the warning
    assert engine.select_backend("auto", spec, torch.zeros(2, 1, 3), masks).NAME == expected


def test_auto_warns_once_when_it_falls_back_to_reference(monkeypatch):
    monkeypatch.setattr(dispatch, "_warned_reference_fallback", False)
    spec = CellSpec(kind="rnn_tanh", layer_norm=True)
    with pytest.warns(UserWarning, match="slow reference engine") as record:
        engine.select_backend("auto", spec, torch.zeros(2, 1, 3))
    assert "native: the native kernels cover LSTM and GRU" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.select_backend("auto", spec, torch.zeros(2, 1, 3))  # no second warning


def test_auto_uses_reference_when_the_native_build_fails(monkeypatch):
    monkeypatch.setattr(
        engine.native.build, "availability", lambda: (False, "the native kernels could not be built (boom)")
    )
    monkeypatch.setattr(dispatch, "_warned_reference_fallback", False)
    with pytest.warns(UserWarning, match=r"native: the native kernels could not be built \(boom\)"):
        module = engine.select_backend("auto", lstm_spec(peephole=True), torch.zeros(2, 1, 3))
    assert module.NAME == "reference"
    with pytest.raises(ValueError, match=r"backend='native' cannot run this configuration: .*boom"):
        engine.select_backend("native", lstm_spec(peephole=True), torch.zeros(2, 1, 3))


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
