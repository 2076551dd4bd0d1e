"""Bad input: every validation path raises the right exception type, and its message
names the argument, what was expected and what was got. Nothing is clamped silently."""

from __future__ import annotations

import re
import warnings

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lstmkit import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

I, H, N, L = 3, 4, 2, 5  # input size, hidden size, batch, length


def msg(*parts: str) -> str:
    """A regex matching the literal ``parts`` in this order (anything in between)."""
    return ".*".join(re.escape(p) for p in parts)


# --------------------------------------------------------------------------- construction
# (class, positional args, keyword args, exception, message parts)
CONSTRUCTION = [
    # sizes
    pytest.param(LSTM, (I, 0), {}, ValueError, ("hidden_size", "greater than zero", "got 0"), id="lstm-hidden0"),
    pytest.param(GRU, (I, -2), {}, ValueError, ("hidden_size", "greater than zero", "got -2"), id="gru-hidden-neg"),
    pytest.param(RNN, (I, 0), {}, ValueError, ("hidden_size", "got 0"), id="rnn-hidden0"),
    pytest.param(LSTM, (I, 2.5), {}, TypeError, ("hidden_size", "int", "got: float"), id="lstm-hidden-float"),
    pytest.param(GRU, (I, "4"), {}, TypeError, ("hidden_size", "int", "got: str"), id="gru-hidden-str"),
    pytest.param(LSTM, (I, True), {}, TypeError, ("hidden_size", "int", "got: bool"), id="lstm-hidden-bool"),
    pytest.param(LSTMCell, (I, 0), {}, ValueError, ("hidden_size", "got 0"), id="lstmcell-hidden0"),
    pytest.param(GRUCell, (I, 4.0), {}, TypeError, ("hidden_size", "got: float"), id="grucell-hidden-float"),
    pytest.param(RNNCell, (I, 0), {}, ValueError, ("hidden_size", "got 0"), id="rnncell-hidden0"),
    pytest.param(LSTM, (0, H), {}, ValueError, ("input_size", "greater than zero", "got 0"), id="lstm-input0"),
    pytest.param(RNN, (0, H), {}, ValueError, ("input_size", "got 0"), id="rnn-input0"),
    pytest.param(LSTMCell, (0, H), {}, ValueError, ("input_size", "got 0"), id="lstmcell-input0"),
    pytest.param(GRU, (None, H), {}, TypeError, ("input_size", "got: NoneType"), id="gru-input-none"),
    pytest.param(LSTM, (I, H, 0), {}, ValueError, ("num_layers", "greater than zero", "got 0"), id="lstm-layers0"),
    pytest.param(GRU, (I, H, -1), {}, ValueError, ("num_layers", "got -1"), id="gru-layers-neg"),
    pytest.param(RNN, (I, H), {"num_layers": 1.0}, TypeError, ("num_layers", "got: float"), id="rnn-layers-float"),
    # flags of torch's signature
    pytest.param(LSTM, (I, H), {"bias": "yes"}, TypeError, ("bias", "bool", "got: str"), id="bias-str"),
    pytest.param(GRU, (I, H), {"batch_first": 1}, TypeError, ("batch_first", "bool", "got: int"), id="batch_first-int"),
    pytest.param(RNN, (I, H), {"bidirectional": None}, TypeError, ("bidirectional", "got: NoneType"), id="bidirectional-none"),
    pytest.param(LSTMCell, (I, H), {"bias": 0}, TypeError, ("bias", "got: int"), id="cell-bias-int"),
    # proj_size
    pytest.param(LSTM, (I, H), {"proj_size": H}, ValueError, ("proj_size", "smaller than hidden_size", "proj_size=4", "hidden_size=4"), id="proj-eq-hidden"),
    pytest.param(LSTM, (I, H), {"proj_size": H + 3}, ValueError, ("proj_size", "smaller than hidden_size", "proj_size=7"), id="proj-gt-hidden"),
    pytest.param(LSTM, (I, H), {"proj_size": -1}, ValueError, ("proj_size", "positive integer or zero", "got -1"), id="proj-neg"),
    pytest.param(LSTM, (I, H), {"proj_size": 2.0}, TypeError, ("proj_size", "int", "got: float"), id="proj-float"),
    pytest.param(LSTM, (I, H), {"proj_size": True}, TypeError, ("proj_size", "got: bool"), id="proj-bool"),
    pytest.param(LSTMCell, (I, H), {"proj_size": H}, ValueError, ("proj_size", "smaller than hidden_size", "proj_size=4"), id="cell-proj-eq-hidden"),
    pytest.param(LSTMCell, (I, H), {"proj_size": -2}, ValueError, ("proj_size", "got -2"), id="cell-proj-neg"),
    pytest.param(GRU, (I, H), {"proj_size": 2}, TypeError, ("unexpected keyword argument 'proj_size'",), id="gru-proj"),
    pytest.param(RNN, (I, H), {"proj_size": 2}, TypeError, ("unexpected keyword argument 'proj_size'",), id="rnn-proj"),
    pytest.param(GRUCell, (I, H), {"proj_size": 2}, TypeError, ("unexpected keyword argument 'proj_size'",), id="grucell-proj"),
    # dropout (torch's rule)
    pytest.param(LSTM, (I, H, 2), {"dropout": -0.1}, ValueError, ("dropout", "[0, 1]", "got -0.1"), id="dropout-neg"),
    pytest.param(LSTM, (I, H, 2), {"dropout": 1.5}, ValueError, ("dropout", "[0, 1]", "got 1.5"), id="dropout-gt1"),
    pytest.param(GRU, (I, H, 2), {"dropout": True}, ValueError, ("dropout", "got True"), id="dropout-bool"),
    pytest.param(RNN, (I, H, 2), {"dropout": "0.5"}, ValueError, ("dropout", "got '0.5'"), id="dropout-str"),
    pytest.param(LSTM, (I, H, 2), {"dropout": float("nan")}, ValueError, ("dropout", "got nan"), id="dropout-nan"),
    # recurrent_dropout: [0, 1)
    pytest.param(LSTM, (I, H), {"recurrent_dropout": 1.0}, ValueError, ("recurrent_dropout", "[0, 1)", "got 1.0"), id="recdrop-1"),
    pytest.param(GRU, (I, H), {"recurrent_dropout": 1}, ValueError, ("recurrent_dropout", "[0, 1)", "got 1"), id="recdrop-int1"),
    pytest.param(RNN, (I, H), {"recurrent_dropout": -0.2}, ValueError, ("recurrent_dropout", "got -0.2"), id="recdrop-neg"),
    pytest.param(LSTM, (I, H), {"recurrent_dropout": "0.1"}, TypeError, ("recurrent_dropout", "number", "got str"), id="recdrop-str"),
    pytest.param(LSTM, (I, H), {"recurrent_dropout": False}, TypeError, ("recurrent_dropout", "got bool"), id="recdrop-bool"),
    # weight_drop: [0, 1)
    pytest.param(LSTM, (I, H), {"weight_drop": 1.0}, ValueError, ("weight_drop", "[0, 1)", "got 1.0"), id="wdrop-1"),
    pytest.param(GRU, (I, H), {"weight_drop": -0.5}, ValueError, ("weight_drop", "got -0.5"), id="wdrop-neg"),
    pytest.param(RNN, (I, H), {"weight_drop": 2.0}, ValueError, ("weight_drop", "got 2.0"), id="wdrop-gt1"),
    pytest.param(LSTM, (I, H), {"weight_drop": None}, TypeError, ("weight_drop", "got NoneType"), id="wdrop-none"),
    # zoneout: [0, 1], or a pair (hidden, cell) for an LSTM
    pytest.param(LSTM, (I, H), {"zoneout": 1.5}, ValueError, ("zoneout", "[0, 1]", "got 1.5"), id="zoneout-gt1"),
    pytest.param(GRU, (I, H), {"zoneout": -0.1}, ValueError, ("zoneout", "[0, 1]", "got -0.1"), id="zoneout-neg"),
    pytest.param(RNN, (I, H), {"zoneout": "0.1"}, TypeError, ("zoneout", "got str"), id="zoneout-str"),
    pytest.param(LSTM, (I, H), {"zoneout": (0.1,)}, ValueError, ("zoneout", "pair (hidden, cell)", "got (0.1,)"), id="zoneout-pair-short"),
    pytest.param(LSTM, (I, H), {"zoneout": (0.1, 0.2, 0.3)}, ValueError, ("zoneout", "pair", "got (0.1, 0.2, 0.3)"), id="zoneout-pair-long"),
    pytest.param(LSTM, (I, H), {"zoneout": (0.1, 1.5)}, ValueError, ("zoneout[1] (cell)", "[0, 1]", "got 1.5"), id="zoneout-pair-cell"),
    pytest.param(LSTM, (I, H), {"zoneout": (-0.1, 0.0)}, ValueError, ("zoneout[0] (hidden)", "got -0.1"), id="zoneout-pair-hidden"),
    pytest.param(LSTM, (I, H), {"zoneout": ("a", 0.1)}, TypeError, ("zoneout[0] (hidden)", "got str"), id="zoneout-pair-str"),
    pytest.param(GRU, (I, H), {"zoneout": (0.1, 0.1)}, ValueError, ("zoneout should be a number", "got (0.1, 0.1)"), id="gru-zoneout-pair"),
    pytest.param(RNN, (I, H), {"zoneout": [0.1, 0.1]}, ValueError, ("zoneout should be a number", "got [0.1, 0.1]"), id="rnn-zoneout-pair"),
    # contradictory variant options
    pytest.param(LSTM, (I, H), {"cifg": True, "variant": "NIG"}, ValueError, ("cifg=True contradicts variant='NIG'",), id="cifg-NIG"),
    pytest.param(LSTM, (I, H), {"cifg": True, "variant": "NFG"}, ValueError, ("cifg=True contradicts variant='NFG'",), id="cifg-NFG"),
    pytest.param(LSTM, (I, H), {"cifg": True, "variant": "CIFG"}, ValueError, ("cifg=True contradicts variant='CIFG'",), id="cifg-CIFG"),
    pytest.param(LSTMCell, (I, H), {"cifg": True, "variant": "NFG"}, ValueError, ("cifg=True contradicts variant='NFG'",), id="cell-cifg-NFG"),
    pytest.param(LSTM, (I, H), {"peephole": True, "variant": "NP"}, ValueError, ("peephole=True contradicts variant='NP'",), id="peephole-NP"),
    pytest.param(LSTMCell, (I, H), {"peephole": True, "variant": "NP"}, ValueError, ("peephole=True contradicts variant='NP'",), id="cell-peephole-NP"),
    # unknown variants
    pytest.param(LSTM, (I, H), {"variant": "nig"}, ValueError, ("variant must be None or one of", "'NIG'", "got 'nig'"), id="variant-lowercase"),
    pytest.param(LSTM, (I, H), {"variant": "XYZ"}, ValueError, ("variant", "got 'XYZ'"), id="variant-unknown"),
    pytest.param(LSTM, (I, H), {"variant": 3}, TypeError, ("variant", "got int 3"), id="variant-int"),
    pytest.param(LSTM, (I, H), {"variant": ""}, ValueError, ("variant", "got ''"), id="variant-empty"),
    pytest.param(LSTMCell, (I, H), {"variant": "vanilla"}, ValueError, ("variant", "got 'vanilla'"), id="cell-variant-unknown"),
    # non-bool flags
    pytest.param(LSTM, (I, H), {"peephole": 1}, TypeError, ("peephole", "bool or None", "got int 1"), id="peephole-int"),
    pytest.param(LSTM, (I, H), {"peephole": "yes"}, TypeError, ("peephole", "got str 'yes'"), id="peephole-str"),
    pytest.param(LSTM, (I, H), {"cifg": 0}, TypeError, ("cifg", "bool or None", "got int 0"), id="cifg-int"),
    pytest.param(LSTM, (I, H), {"layer_norm": None}, TypeError, ("layer_norm", "bool", "got NoneType"), id="lstm-ln-none"),
    pytest.param(LSTM, (I, H), {"layer_norm": 1}, TypeError, ("layer_norm", "bool", "got int"), id="lstm-ln-int"),
    pytest.param(GRU, (I, H), {"layer_norm": "True"}, TypeError, ("layer_norm", "bool", "got: str"), id="gru-ln-str"),
    pytest.param(RNN, (I, H), {"layer_norm": 1}, TypeError, ("layer_norm", "bool", "got: int"), id="rnn-ln-int"),
    pytest.param(GRU, (I, H), {"reset_after": "no"}, TypeError, ("reset_after", "bool", "got: str"), id="gru-reset_after-str"),
    pytest.param(GRUCell, (I, H), {"reset_after": 0}, TypeError, ("reset_after", "got: int"), id="grucell-reset_after-int"),
    pytest.param(LSTMCell, (I, H), {"peephole": 1.0}, TypeError, ("peephole", "got float"), id="cell-peephole-float"),
    pytest.param(RNNCell, (I, H), {"layer_norm": None}, TypeError, ("layer_norm", "got: NoneType"), id="rnncell-ln-none"),
    # clips
    pytest.param(LSTM, (I, H), {"proj_clip": 1.0}, ValueError, ("proj_clip needs a projection", "got proj_size=0"), id="proj_clip-no-proj"),
    pytest.param(LSTMCell, (I, H), {"proj_clip": 1.0}, ValueError, ("proj_clip needs a projection", "got proj_size=0"), id="cell-proj_clip-no-proj"),
    pytest.param(LSTM, (I, H), {"proj_size": 2, "proj_clip": 0}, ValueError, ("proj_clip", "positive number", "got 0.0"), id="proj_clip-0"),
    pytest.param(LSTM, (I, H), {"proj_size": 2, "proj_clip": "1"}, TypeError, ("proj_clip", "number", "got str"), id="proj_clip-str"),
    pytest.param(LSTM, (I, H), {"cell_clip": 0}, ValueError, ("cell_clip", "positive number", "got 0.0"), id="cell_clip-0"),
    pytest.param(LSTM, (I, H), {"cell_clip": -3.0}, ValueError, ("cell_clip", "positive number", "got -3.0"), id="cell_clip-neg"),
    pytest.param(LSTM, (I, H), {"cell_clip": float("nan")}, ValueError, ("cell_clip", "got nan"), id="cell_clip-nan"),
    pytest.param(LSTM, (I, H), {"cell_clip": "big"}, TypeError, ("cell_clip", "None or a number", "got str"), id="cell_clip-str"),
    pytest.param(LSTM, (I, H), {"cell_clip": True}, TypeError, ("cell_clip", "got bool"), id="cell_clip-bool"),
    pytest.param(LSTMCell, (I, H), {"cell_clip": -1}, ValueError, ("cell_clip", "got -1.0"), id="cell-cell_clip-neg"),
    # forget_bias
    pytest.param(LSTM, (I, H), {"bias": False, "forget_bias": 1.0}, ValueError, ("forget_bias=1.0", "needs bias=True", "got bias=False"), id="fbias-no-bias"),
    pytest.param(LSTMCell, (I, H), {"bias": False, "forget_bias": 1.0}, ValueError, ("forget_bias=1.0", "got bias=False"), id="cell-fbias-no-bias"),
    pytest.param(LSTM, (I, H), {"variant": "NFG", "forget_bias": 1.0}, ValueError, ("forget_bias=1.0", "learned forget gate", "forget_gate='none'"), id="fbias-NFG"),
    pytest.param(LSTM, (I, H), {"variant": "CIFG", "forget_bias": 1.0}, ValueError, ("forget_bias=1.0", "learned forget gate", "forget_gate='coupled'"), id="fbias-CIFG"),
    pytest.param(LSTMCell, (I, H), {"variant": "NFG", "forget_bias": 2.0}, ValueError, ("forget_bias=2.0", "forget_gate='none'"), id="cell-fbias-NFG"),
    pytest.param(LSTM, (I, H), {"forget_bias": "1"}, TypeError, ("forget_bias", "None or a number", "got str"), id="fbias-str"),
    pytest.param(LSTM, (I, H), {"forget_bias": True}, TypeError, ("forget_bias", "got bool"), id="fbias-bool"),
    pytest.param(LSTM, (I, H), {"forget_bias": float("inf")}, ValueError, ("forget_bias", "finite", "got inf"), id="fbias-inf"),
    pytest.param(LSTM, (I, H), {"forget_bias": float("nan")}, ValueError, ("forget_bias", "finite", "got nan"), id="fbias-nan"),
    pytest.param(GRU, (I, H), {"forget_bias": 1.0}, TypeError, ("unexpected keyword argument 'forget_bias'",), id="gru-fbias"),
    # init
    pytest.param(LSTM, (I, H), {"init": "he"}, ValueError, ("init must be None or one of", "'orthogonal'", "got 'he'"), id="init-unknown"),
    pytest.param(GRU, (I, H), {"init": "Orthogonal"}, ValueError, ("init", "got 'Orthogonal'"), id="init-case"),
    pytest.param(RNN, (I, H), {"init": 0}, ValueError, ("init", "got 0"), id="init-int"),
    pytest.param(GRUCell, (I, H), {"init": "uniform"}, ValueError, ("init", "got 'uniform'"), id="cell-init-unknown"),
    # backend
    pytest.param(LSTM, (I, H), {"backend": "cuda"}, ValueError, ("backend must be one of", "'reference'", "got 'cuda'"), id="backend-unknown"),
    pytest.param(GRU, (I, H), {"backend": None}, ValueError, ("backend", "got None"), id="backend-none"),
    # nonlinearity
    pytest.param(RNN, (I, H), {"nonlinearity": "sigmoid"}, ValueError, ("Unknown nonlinearity 'sigmoid'", "'tanh' or 'relu'"), id="rnn-nonlin"),
    pytest.param(RNN, (I, H), {"nonlinearity": "Tanh"}, ValueError, ("nonlinearity 'Tanh'",), id="rnn-nonlin-case"),
    pytest.param(RNNCell, (I, H), {"nonlinearity": "gelu"}, ValueError, ("Unknown nonlinearity 'gelu'",), id="rnncell-nonlin"),
]


@pytest.mark.parametrize("cls, args, kwargs, exc, parts", CONSTRUCTION)
def test_construction_rejects(cls, args, kwargs, exc, parts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout with one layer may warn before raising
        with pytest.raises(exc, match=msg(*parts)):
            cls(*args, **kwargs)


# Boundaries that must be accepted, so the checks above are not off by one.
ACCEPTED = [
    pytest.param(LSTM, (I, H), {"proj_size": H - 1}, id="proj-hidden-minus-1"),
    pytest.param(LSTM, (I, H, 2), {"dropout": 1.0}, id="dropout-1"),
    pytest.param(LSTM, (I, H, 2), {"dropout": 0}, id="dropout-int0"),
    pytest.param(LSTM, (I, H), {"recurrent_dropout": 0.999}, id="recdrop-0.999"),
    pytest.param(LSTM, (I, H), {"weight_drop": 0.999}, id="wdrop-0.999"),
    pytest.param(LSTM, (I, H), {"zoneout": 1.0}, id="zoneout-1"),
    pytest.param(LSTM, (I, H), {"zoneout": [0.0, 1.0]}, id="zoneout-list-pair"),
    pytest.param(LSTM, (I, H), {"cifg": True, "variant": "NOG"}, id="cifg-NOG"),
    pytest.param(LSTM, (I, H), {"cifg": False, "variant": "CIFG"}, id="cifg-false-CIFG"),
    pytest.param(LSTM, (I, H), {"peephole": False, "variant": "NP"}, id="no-peephole-NP"),
    pytest.param(LSTM, (I, H), {"peephole": False, "variant": "V"}, id="no-peephole-V"),
    pytest.param(LSTM, (I, H), {"forget_bias": 0}, id="fbias-int0"),
    pytest.param(LSTM, (I, H), {"cell_clip": 1}, id="cell_clip-int"),
    pytest.param(LSTM, (I, H), {"backend": "reference"}, id="backend-reference"),
    pytest.param(RNN, (I, H), {"nonlinearity": "relu"}, id="rnn-relu"),
]


@pytest.mark.parametrize("cls, args, kwargs", ACCEPTED)
def test_construction_accepts_boundaries(cls, args, kwargs):
    module = cls(*args, **kwargs)
    module(torch.randn(L, N, I))


# --------------------------------------------------------------------------- dropout warning
@pytest.mark.parametrize("cls", [LSTM, GRU, RNN], ids=lambda c: c.__name__)
def test_dropout_with_one_layer_warns_like_torch(cls):
    with pytest.warns(UserWarning, match=msg("non-zero dropout expects num_layers greater than 1",
                                             "dropout=0.3", "num_layers=1")) as record:
        cls(I, H, 1, dropout=0.3)
    # The warning points at the caller's line, not into lstmkit.
    assert [w.filename for w in record if issubclass(w.category, UserWarning)] == [__file__]


@pytest.mark.parametrize(
    "num_layers, dropout", [(2, 0.3), (1, 0.0), (3, 1.0)], ids=["2layers", "1layer-nodrop", "3layers-p1"]
)
@pytest.mark.parametrize("cls", [LSTM, GRU, RNN], ids=lambda c: c.__name__)
def test_dropout_does_not_warn_when_it_can_act(cls, num_layers, dropout):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cls(I, H, num_layers, dropout=dropout)


# --------------------------------------------------------------------------- forward (layers)
def randn(*shape, **kw):
    return torch.randn(*shape, **kw)


def packed(features=I, dtype=torch.float32):
    return pack_padded_sequence(randn(L, N, features, dtype=dtype), [L, 3])


# Each case: a module factory, a factory of (args, kwargs) for forward, exception, message.
FORWARD = [
    # input
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(I),), {}), ValueError, ("LSTM", "Expected input to be 2D", "got 1D tensor of shape (3,)"), id="input-1d"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, 1, I),), {}), ValueError, ("LSTM", "3D (batched)", "got 4D tensor of shape (5, 2, 1, 3)"), id="input-4d"),
    pytest.param(lambda: GRU(I, H), lambda: ((randn(L, N, 1, I),), {}), ValueError, ("GRU", "got 4D"), id="gru-input-4d"),
    pytest.param(lambda: RNN(I, H), lambda: ((randn(I),), {}), ValueError, ("RNN:", "got 1D"), id="rnn-input-1d"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, 7),), {}), ValueError, ("input.size(-1) must be equal to input_size", "Expected 3", "got 7"), id="input-features"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, 7),), {}), ValueError, ("input_size", "Expected 3", "got 7"), id="input-features-unbatched"),
    pytest.param(lambda: LSTM(I, H, batch_first=True), lambda: ((randn(N, L, 2),), {}), ValueError, ("Expected 3", "got 2"), id="input-features-batch-first"),
    pytest.param(lambda: GRU(I, H), lambda: ((packed(features=5),), {}), ValueError, ("input_size", "Expected 3", "got 5"), id="packed-features"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I, dtype=torch.float64),), {}), TypeError, ("input dtype (torch.float64)", "weight dtype (torch.float32)"), id="input-dtype"),
    pytest.param(lambda: LSTM(I, H, dtype=torch.float64), lambda: ((randn(L, N, I),), {}), TypeError, ("input dtype (torch.float32)", "weight dtype (torch.float64)"), id="input-dtype-f64-model"),
    pytest.param(lambda: RNN(I, H), lambda: ((torch.ones(L, N, I, dtype=torch.int64),), {}), TypeError, ("input dtype (torch.int64)",), id="input-int"),
    pytest.param(lambda: GRU(I, H), lambda: ((packed(dtype=torch.float64),), {}), TypeError, ("input dtype (torch.float64)",), id="packed-dtype"),
    pytest.param(lambda: LSTM(I, H), lambda: (([[0.0] * I] * L,), {}), TypeError, ("input should be a Tensor or PackedSequence", "got list"), id="input-list"),
    pytest.param(lambda: GRU(I, H), lambda: ((None,), {}), TypeError, ("input should be a Tensor", "got NoneType"), id="input-none"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(0, N, I),), {}), ValueError, ("input has length 0",), id="input-empty"),
    # hx: shapes
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, 3, H), randn(1, N, H))), {}), ValueError, ("hx h_0 should have shape (1, 2, 4)", "got (1, 3, 4)"), id="hx-h-batch"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H), randn(1, N, H + 1))), {}), ValueError, ("hx c_0 should have shape (1, 2, 4)", "got (1, 2, 5)"), id="hx-c-size"),
    pytest.param(lambda: LSTM(I, H, 2), lambda: ((randn(L, N, I), (randn(1, N, H), randn(2, N, H))), {}), ValueError, ("hx h_0 should have shape (2, 2, 4)", "got (1, 2, 4)"), id="hx-layers"),
    pytest.param(lambda: LSTM(I, H, bidirectional=True), lambda: ((randn(L, N, I), (randn(1, N, H), randn(1, N, H))), {}), ValueError, ("hx h_0 should have shape (2, 2, 4)", "got (1, 2, 4)"), id="hx-bidirectional"),
    pytest.param(lambda: LSTM(I, H, proj_size=2), lambda: ((randn(L, N, I), (randn(1, N, 2), randn(1, N, 2))), {}), ValueError, ("hx c_0 should have shape (1, 2, 4)", "got (1, 2, 2)"), id="hx-proj-c-size"),
    pytest.param(lambda: LSTM(I, H, proj_size=2), lambda: ((randn(L, N, I), (randn(1, N, H), randn(1, N, H))), {}), ValueError, ("hx h_0 should have shape (1, 2, 2)", "got (1, 2, 4)"), id="hx-proj-h-size"),
    pytest.param(lambda: LSTM(I, H, batch_first=True), lambda: ((randn(N + 1, L, I), (randn(1, N, H), randn(1, N, H))), {}), ValueError, ("hx h_0 should have shape (1, 3, 4)", "got (1, 2, 4)"), id="hx-batch-first"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, I), (randn(1, N, H), randn(1, N, H))), {}), ValueError, ("hx h_0 should have shape (1, 4) for unbatched input", "got (1, 2, 4)"), id="hx-unbatched-given-batched"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, H), randn(1, H))), {}), ValueError, ("hx h_0 should have shape (1, 2, 4)", "got (1, 4)"), id="hx-batched-given-unbatched"),
    pytest.param(lambda: GRU(I, H), lambda: ((randn(L, N, I), randn(N, H)), {}), ValueError, ("GRU", "hx h_0 should have shape (1, 2, 4)", "got (2, 4)"), id="gru-hx-shape"),
    pytest.param(lambda: RNN(I, H), lambda: ((randn(L, I), randn(1, 1, H)), {}), ValueError, ("hx h_0 should have shape (1, 4) for unbatched input", "got (1, 1, 4)"), id="rnn-hx-unbatched"),
    # hx: dtype and device
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H, dtype=torch.float64), randn(1, N, H))), {}), TypeError, ("hx h_0 dtype should match the input's (torch.float32)", "got torch.float64"), id="hx-h-dtype"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H), randn(1, N, H, dtype=torch.float16))), {}), TypeError, ("hx c_0 dtype", "got torch.float16"), id="hx-c-dtype"),
    pytest.param(lambda: GRU(I, H), lambda: ((randn(L, N, I), torch.zeros(1, N, H, dtype=torch.int64)), {}), TypeError, ("hx h_0 dtype", "got torch.int64"), id="gru-hx-dtype"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (torch.zeros(1, N, H, device="meta"), randn(1, N, H))), {}), ValueError, ("hx h_0 should be on the input's device (cpu)", "got meta"), id="hx-h-device"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H), torch.zeros(1, N, H, device="meta"))), {}), ValueError, ("hx c_0 should be on the input's device (cpu)", "got meta"), id="hx-c-device"),
    pytest.param(lambda: RNN(I, H), lambda: ((randn(L, N, I), torch.zeros(1, N, H, device="meta")), {}), ValueError, ("hx h_0 should be on the input's device", "got meta"), id="rnn-hx-device"),
    pytest.param(lambda: LSTM(I, H), lambda: ((torch.zeros(L, N, I, device="meta"),), {}), ValueError, ("input is on device meta", "weights are on cpu"), id="input-device"),
    # hx: structure
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), randn(1, N, H)), {}), TypeError, ("hx should be a tuple of 2 Tensors (h_0, c_0)", "got Tensor"), id="lstm-hx-tensor"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H),)), {}), TypeError, ("tuple of 2 Tensors", "got tuple of length 1"), id="lstm-hx-len1"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H),) * 3), {}), TypeError, ("tuple of 2 Tensors", "got tuple of length 3"), id="lstm-hx-len3"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (randn(1, N, H), [[0.0] * H])), {}), TypeError, ("hx c_0 should be a Tensor", "got list"), id="lstm-hx-c-list"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I), (None, randn(1, N, H))), {}), TypeError, ("hx h_0 should be a Tensor", "got NoneType"), id="lstm-hx-h-none"),
    pytest.param(lambda: GRU(I, H), lambda: ((randn(L, N, I), (randn(1, N, H),)), {}), TypeError, ("GRU", "hx should be a Tensor", "got tuple"), id="gru-hx-tuple"),
    pytest.param(lambda: RNN(I, H), lambda: ((randn(L, N, I), 0.0), {}), TypeError, ("hx should be a Tensor", "got float"), id="rnn-hx-float"),
    # lengths
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [L + 1, 2]}), ValueError, ("lengths must not exceed the sequence length 5", "got 6"), id="lengths-too-long"),
    pytest.param(lambda: GRU(I, H, batch_first=True), lambda: ((randn(N, L, I),), {"lengths": torch.tensor([3, L + 2])}), ValueError, ("lengths must not exceed the sequence length 5", "got 7"), id="lengths-too-long-batch-first"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [0, 3]}), ValueError, ("lengths must be at least 1", "got 0"), id="lengths-zero"),
    pytest.param(lambda: RNN(I, H), lambda: ((randn(L, N, I),), {"lengths": torch.tensor([3, 0])}), ValueError, ("lengths must be at least 1", "got 0"), id="lengths-zero-tensor"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [-1, 3]}), ValueError, ("lengths must be at least 1", "got -1"), id="lengths-negative"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": torch.tensor([5.0, 3.0])}), TypeError, ("lengths should hold integers", "dtype torch.float32"), id="lengths-float-tensor"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": torch.tensor([True, True])}), TypeError, ("lengths should hold integers", "dtype torch.bool"), id="lengths-bool-tensor"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [5, 2.0]}), TypeError, ("lengths should hold integers", "got 2.0 (float)"), id="lengths-float-in-list"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [5, True]}), TypeError, ("lengths should hold integers", "got True (bool)"), id="lengths-bool-in-list"),
    pytest.param(lambda: GRU(I, H), lambda: ((randn(L, N, I),), {"lengths": (5, "3")}), TypeError, ("lengths should hold integers", "got '3' (str)"), id="lengths-str-in-tuple"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": 5}), TypeError, ("lengths should be a 1D integer tensor or a list of ints", "got int"), id="lengths-int"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [5]}), ValueError, ("lengths should have shape (2,)", "got (1,)"), id="lengths-too-few"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": [5, 4, 3]}), ValueError, ("lengths should have shape (2,)", "got (3,)"), id="lengths-too-many"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, N, I),), {"lengths": torch.tensor([[5, 4]])}), ValueError, ("lengths should have shape (2,)", "got (1, 2)"), id="lengths-2d"),
    pytest.param(lambda: LSTM(I, H), lambda: ((packed(),), {"lengths": [L, 3]}), ValueError, ("lengths must be None for a PackedSequence input",), id="lengths-with-packed"),
    pytest.param(lambda: LSTM(I, H), lambda: ((randn(L, I),), {"lengths": [L]}), ValueError, ("lengths is only supported for batched (3D) input", "got a 2D unbatched input"), id="lengths-unbatched"),
]


@pytest.mark.parametrize("make_module, make_call, exc, parts", FORWARD)
def test_forward_rejects(make_module, make_call, exc, parts):
    module = make_module()
    args, kwargs = make_call()
    with pytest.raises(exc, match=msg(*parts)):
        module(*args, **kwargs)


@pytest.mark.parametrize("batch_first", [False, True], ids=["time-major", "batch-first"])
def test_lengths_longer_than_sequence_is_not_truncated(batch_first):
    """lengths > L must raise, not be clamped to L; lengths == L is fine."""
    module = LSTM(I, H, batch_first=batch_first)
    x = randn(N, L, I) if batch_first else randn(L, N, I)
    full, _ = module(x)
    same, _ = module(x, lengths=[L, L])
    torch.testing.assert_close(same, full)
    for lengths in ([L + 1, L], torch.tensor([L, 10 * L])):
        with pytest.raises(ValueError, match=msg("lengths must not exceed the sequence length 5")):
            module(x, lengths=lengths)


# --------------------------------------------------------------------------- cells
CELL_FORWARD = [
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, 1, I),), ValueError, ("LSTMCell", "Expected input to be 1D or 2D", "got 3D"), id="lstmcell-input-3d"),
    pytest.param(lambda: GRUCell(I, H), lambda: (torch.tensor(1.0),), ValueError, ("GRUCell", "1D or 2D", "got 0D"), id="grucell-input-0d"),
    pytest.param(lambda: RNNCell(I, H), lambda: (randn(L, N, I),), ValueError, ("RNNCell", "got 3D"), id="rnncell-input-3d"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, 7),), ValueError, ("input_size", "Expected 3", "got 7"), id="lstmcell-features"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I, dtype=torch.float64),), TypeError, ("input dtype (torch.float64)", "weight dtype (torch.float32)"), id="lstmcell-input-dtype"),
    pytest.param(lambda: GRUCell(I, H), lambda: ([0.0] * I,), TypeError, ("input should be a Tensor", "got list"), id="grucell-input-list"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I), (randn(N + 1, H), randn(N, H))), ValueError, ("hx[0] should have shape (2, 4)", "got (3, 4)"), id="lstmcell-h-shape"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I), (randn(N, H), randn(N, H - 1))), ValueError, ("hx[1] should have shape (2, 4)", "got (2, 3)"), id="lstmcell-c-shape"),
    pytest.param(lambda: LSTMCell(I, H, proj_size=2), lambda: (randn(N, I), (randn(N, H), randn(N, H))), ValueError, ("hx[0] should have shape (2, 2)", "got (2, 4)"), id="lstmcell-proj-h-shape"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(I), (randn(N, H), randn(N, H))), ValueError, ("hx[0] should have shape (4,)", "got (2, 4)"), id="lstmcell-unbatched-hx"),
    pytest.param(lambda: GRUCell(I, H), lambda: (randn(N, I), randn(1, N, H)), ValueError, ("hx[0] should have shape (2, 4)", "got (1, 2, 4)"), id="grucell-hx-shape"),
    pytest.param(lambda: RNNCell(I, H), lambda: (randn(N, I), randn(N, H + 1)), ValueError, ("hx[0] should have shape (2, 4)", "got (2, 5)"), id="rnncell-hx-shape"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I), (randn(N, H), randn(N, H, dtype=torch.float64))), TypeError, ("hx[1] dtype should match the input's (torch.float32)", "got torch.float64"), id="lstmcell-c-dtype"),
    pytest.param(lambda: GRUCell(I, H), lambda: (randn(N, I), torch.zeros(N, H, dtype=torch.int32)), TypeError, ("hx[0] dtype", "got torch.int32"), id="grucell-hx-dtype"),
    pytest.param(lambda: RNNCell(I, H), lambda: (randn(N, I), torch.zeros(N, H, device="meta")), ValueError, ("hx[0] should be on the input's device (cpu)", "got meta"), id="rnncell-hx-device"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (torch.zeros(N, I, device="meta"),), ValueError, ("LSTMCell: input is on device meta", "weights are on cpu"), id="lstmcell-input-device"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I), randn(N, H)), TypeError, ("hx should hold 2 tensors", "got 1"), id="lstmcell-hx-tensor"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I), (randn(N, H),) * 3), TypeError, ("hx should hold 2 tensors", "got 3"), id="lstmcell-hx-len3"),
    pytest.param(lambda: RNNCell(I, H), lambda: (randn(N, I), (randn(N, H),) * 2), TypeError, ("hx should hold 1 tensors", "got 2"), id="rnncell-hx-len2"),
    pytest.param(lambda: LSTMCell(I, H), lambda: (randn(N, I), (randn(N, H), None)), TypeError, ("hx[1] should be a Tensor", "got NoneType"), id="lstmcell-hx-none-element"),
    pytest.param(lambda: GRUCell(I, H), lambda: (randn(N, I), "h"), TypeError, ("hx should be a Tensor or a tuple of Tensors", "got str"), id="grucell-hx-str"),
]


@pytest.mark.parametrize("make_cell, make_args, exc, parts", CELL_FORWARD)
def test_cell_forward_rejects(make_cell, make_args, exc, parts):
    cell = make_cell()
    with pytest.raises(exc, match=msg(*parts)):
        cell(*make_args())
