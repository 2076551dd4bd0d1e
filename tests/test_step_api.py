"""Streaming ``module.step(x_t, state) -> (y_t, state)``: stepping through a sequence
one step at a time equals running it whole, and bad input is refused.

``x_t`` is ``(N, H_in)`` (or ``(H_in,)`` unbatched, giving ``y_t (H_out,)``); ``state``
is ``None`` at the start, then what ``step`` returned, in ``forward``'s ``hx`` format:
LSTM ``(h (num_layers, N, H_out), c (num_layers, N, H_cell))``, GRU/RNN
``h (num_layers, N, H)`` (no ``N`` axis unbatched). Compared in ``eval()`` under
``torch.no_grad()``, float64, rtol=atol=1e-10, per step and for the final state, on
every backend that serves the module.
"""

from __future__ import annotations

import functools

import pytest
import torch
from shared_cases import PROJ, randomise
from torch.testing import assert_close

import lstmkit

L, N, H_IN, H = 5, 3, 3, 4
BAD_SIZE = 7  # a feature size that is no other size here, to find in the message

# name -> (class, options); every case runs on "auto" and "reference", LSTM/GRU on "native"
STEP_CASES = {
    "lstm": (lstmkit.LSTM, {}),
    "lstm_peephole": (lstmkit.LSTM, {"peephole": True}),
    "lstm_cifg": (lstmkit.LSTM, {"cifg": True}),
    "lstm_layer_norm": (lstmkit.LSTM, {"layer_norm": True}),
    "lstm_proj": (lstmkit.LSTM, {"proj_size": PROJ}),
    "lstm_NOAF_nobias": (lstmkit.LSTM, {"variant": "NOAF", "bias": False}),
    "lstm_two_layers_dropout": (lstmkit.LSTM, {"num_layers": 2, "dropout": 0.3, "variant": "V"}),
    "lstm_zoneout": (lstmkit.LSTM, {"zoneout": (0.3, 0.2), "peephole": True}),
    "lstm_batch_first_ln_proj_clips": (
        lstmkit.LSTM,
        {"batch_first": True, "layer_norm": True, "proj_size": PROJ, "cell_clip": 0.3,
         "proj_clip": 0.1, "num_layers": 2},
    ),
    "gru": (lstmkit.GRU, {}),
    "gru_cho_ln": (lstmkit.GRU, {"reset_after": False, "layer_norm": True}),
    "gru_two_layers_zoneout": (lstmkit.GRU, {"num_layers": 2, "zoneout": 0.3}),
    "rnn_tanh": (lstmkit.RNN, {}),
    "rnn_relu_ln_two_layers": (lstmkit.RNN, {"nonlinearity": "relu", "layer_norm": True,
                                             "num_layers": 2}),
}
# how the sequence is given: batched from state None, batched from a given hx, unbatched
FORMS = ("batched_from_none", "batched_from_hx", "unbatched_from_hx")


@functools.cache
def native_available() -> bool:
    try:
        from lstmkit.engine.native import is_available
    except ImportError:
        return False
    return is_available()


def _cases():
    for name, (cls, kw) in STEP_CASES.items():
        backends = ["auto", "reference"] + (["native"] if cls is not lstmkit.RNN else [])
        for backend in backends:
            for form in FORMS:
                yield pytest.param(cls, kw, backend, form, id=f"{name}-{backend}-{form}")


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("cls,kw,backend,form", list(_cases()))
def test_stepping_equals_the_whole_sequence(cls, kw, backend, form, tolerances):
    if backend == "native" and not native_available():
        pytest.skip("the native backend is not available here")
    tol = tolerances[torch.float64]
    module = randomise(cls(H_IN, H, dtype=torch.float64, backend=backend, **kw)).eval()
    batched = form != "unbatched_from_hx"
    x = torch.randn(L, N, H_IN, dtype=torch.float64) if batched else torch.randn(
        L, H_IN, dtype=torch.float64
    )  # time-major: x[t] is x_t
    hx = None
    if form != "batched_from_none":
        shapes = [(module.num_layers, *((N,) if batched else ()), size)
                  for size in module.state_sizes]
        hx = tuple(torch.randn(shape, dtype=torch.float64) for shape in shapes)
        hx = hx if len(hx) > 1 else hx[0]
    with torch.no_grad():
        whole = x.transpose(0, 1) if (batched and module.batch_first) else x
        out, final = module(whole, hx)
        if batched and module.batch_first:
            out = out.transpose(0, 1)  # (L, N, H_out)
        state = hx
        for t in range(L):
            y_t, state = module.step(x[t], state)
            assert y_t.shape == out[t].shape, t
            assert_close(y_t, out[t], **tol, msg=lambda m, t=t: f"step {t}: {m}")
    assert isinstance(state, tuple) == isinstance(final, tuple)
    for got, want in zip(_as_tuple(state), _as_tuple(final), strict=True):
        assert got.shape == want.shape
        assert_close(got, want, **tol)


def test_step_state_can_be_fed_back_from_forward(tolerances):
    """forward's final state continues with step as if the sequence had gone on."""
    module = randomise(lstmkit.LSTM(H_IN, H, num_layers=2, peephole=True, dtype=torch.float64))
    module.eval()
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    with torch.no_grad():
        out, final = module(x)
        _, state = module(x[:-1])
        y_last, state = module.step(x[-1], state)
    assert_close(y_last, out[-1], **tolerances[torch.float64])
    for got, want in zip(state, final, strict=True):
        assert_close(got, want, **tolerances[torch.float64])


# --------------------------------------------------------------------------- bad input
KINDS = {
    "LSTM": lstmkit.LSTM,
    "GRU": lstmkit.GRU,
    "RNN": lstmkit.RNN,
}


@pytest.mark.parametrize("cls", list(KINDS.values()), ids=list(KINDS))
def test_step_refuses_bidirectional_modules(cls):
    module = cls(H_IN, H, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        module.step(torch.randn(N, H_IN))


@pytest.mark.parametrize("shape", [(N, BAD_SIZE), (BAD_SIZE,)], ids=["batched", "unbatched"])
@pytest.mark.parametrize("cls", list(KINDS.values()), ids=list(KINDS))
def test_step_refuses_the_wrong_feature_size(cls, shape):
    module = cls(H_IN, H)
    with pytest.raises(ValueError, match=str(BAD_SIZE)):
        module.step(torch.randn(shape))


@pytest.mark.parametrize("shape", [(1, N, H_IN), ()], ids=["3d", "0d"])
@pytest.mark.parametrize("cls", list(KINDS.values()), ids=list(KINDS))
def test_step_refuses_inputs_that_are_not_one_step(cls, shape):
    module = cls(H_IN, H)
    with pytest.raises(ValueError):
        module.step(torch.randn(shape))


@pytest.mark.parametrize("cls", list(KINDS.values()), ids=list(KINDS))
def test_step_refuses_a_state_of_the_wrong_shape(cls):
    module = cls(H_IN, H, num_layers=2)
    sizes = module.state_sizes
    wrong = tuple(torch.randn(1, N, size) for size in sizes)  # num_layers=2 wants 2 stacks
    with pytest.raises(ValueError):
        module.step(torch.randn(N, H_IN), wrong if len(wrong) > 1 else wrong[0])


def test_step_refuses_full_gate_recurrence():
    """FGR needs the previous gate activations, which the hx-format state does not carry."""
    module = lstmkit.LSTM(H_IN, H, variant="FGR")
    with pytest.raises(ValueError, match="(?i)FGR|gate"):
        module.step(torch.randn(N, H_IN))
