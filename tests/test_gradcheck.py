"""``torch.autograd.gradcheck`` in float64 on tiny sizes for every variant and option.

Inputs, initial states and every parameter are checked together: the parameters are
passed to gradcheck as inputs and put back into the module with
``torch.func.functional_call``. Training-mode noise (recurrent dropout, zoneout,
weight drop, inter-layer dropout) is made deterministic by re-seeding inside the
checked function, so each evaluation draws the same masks.
"""

from __future__ import annotations

import pytest
import torch
from shared_cases import GREFF, LSTM_OPTIONS, randomise
from torch.autograd import gradcheck
from torch.func import functional_call

import lstmkit

L, N, H_IN, H, P = 3, 2, 2, 3, 2  # length, batch, input, hidden (cell), projection
LENGTHS = [3, 2]
NOISE_SEED = 2024




def leaf(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def flatten(result):
    flat = []
    for part in as_tuple(result):
        flat.extend(as_tuple(part))
    return tuple(flat)


def make_fn(module, names, num_states, *, seed=None, kwargs=None):
    """``f(x, *states, *params) -> (output, *final states)`` for gradcheck.

    The parameters named ``names`` replace the module's through ``functional_call``.
    With ``seed`` every call draws the same noise from a freshly seeded generator
    (the global generator is restored afterwards).
    """

    def fn(x, *rest):
        states, values = rest[:num_states], rest[num_states:]
        hx = tuple(states) if num_states > 1 else states[0]
        params = dict(zip(names, values))
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            return flatten(functional_call(module, params, (x, hx), kwargs or {}))

    return fn


def parameter_leaves(module):
    names, values = [], []
    for name, p in module.named_parameters():
        names.append(name)
        values.append(p.detach().clone().requires_grad_(True))
    return names, values


def run_gradcheck(fn, inputs, *, fast_mode=False):
    """Full Jacobians by default; ``fast_mode`` (a random projection of the Jacobian,
    numerically vs analytically) for the two-layer stacks, whose every code path the
    one-layer cases already check entry by entry."""
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5, fast_mode=fast_mode)


STRUCTURES = {
    "hx": {"num_layers": 1, "bidirectional": False, "lengths": False},
    "bidir_lengths": {"num_layers": 1, "bidirectional": True, "lengths": True},
    "deep_bidir_lengths": {"num_layers": 2, "bidirectional": True, "lengths": True},
}


def check_layer(cls, kw, structure, *, seed=None):
    s = STRUCTURES[structure]
    module = randomise(cls(H_IN, H, num_layers=s["num_layers"],
                           bidirectional=s["bidirectional"], dtype=torch.float64, **kw))
    if seed is not None:
        module.train()
    else:
        module.eval()
    stacks = s["num_layers"] * (2 if s["bidirectional"] else 1)
    x = leaf(L, N, H_IN)
    sizes = module.state_sizes
    states = [leaf(stacks, N, size) for size in sizes]
    names, values = parameter_leaves(module)
    lengths = torch.tensor(LENGTHS) if s["lengths"] else None
    fn = make_fn(module, names, len(states), seed=seed, kwargs={"lengths": lengths})
    inputs = (x, *states, *values)
    run_gradcheck(fn, inputs, fast_mode=s["num_layers"] > 1)
    assert_clips_act(kw, fn(*inputs))
    return module, fn, inputs


def assert_clips_act(kw, outputs):
    """A clip option must hold some value at its bound, or its gradient went unchecked."""
    if kw.get("proj_clip") is not None:  # every step's projected output is in ``output``
        assert (outputs[0].abs() == kw["proj_clip"]).any(), "proj_clip never acted"
    if kw.get("cell_clip") is not None:  # the last cell state is ``c_n``
        assert (outputs[2].abs() == kw["cell_clip"]).any(), "cell_clip never acted"


# ----------------------------------------------------------------------------- LSTM
LSTM_CONFIGS = {
    **LSTM_OPTIONS,
    "proj_clip": {"proj_size": P, "proj_clip": 0.04},
    "cell_clip": {"cell_clip": 0.35},
    "no_bias": {"bias": False, "peephole": True},
    "cifg_peephole_proj_clips": {"cifg": True, "peephole": True, "proj_size": P,
                                 "proj_clip": 0.04, "cell_clip": 0.35},
    "FGR_ln_proj": {"variant": "FGR", "layer_norm": True, "proj_size": P},
    "CIFG_ln": {"variant": "CIFG", "layer_norm": True},
    "NOAF_ln_proj": {"variant": "NOAF", "layer_norm": True, "proj_size": P},
}


@pytest.mark.parametrize("structure", ["hx", "bidir_lengths"])
@pytest.mark.parametrize("kw", list(LSTM_CONFIGS.values()), ids=list(LSTM_CONFIGS))
def test_lstm_gradcheck(kw, structure):
    check_layer(lstmkit.LSTM, kw, structure)


DEEP_LSTM = {
    "torch_vanilla": {},
    "V": {"variant": "V"},
    "FGR_ln_proj_clips": {"variant": "FGR", "layer_norm": True, "proj_size": P,
                          "proj_clip": 0.04, "cell_clip": 0.35},
}


@pytest.mark.parametrize("kw", list(DEEP_LSTM.values()), ids=list(DEEP_LSTM))
def test_lstm_gradcheck_two_layers(kw):
    check_layer(lstmkit.LSTM, kw, "deep_bidir_lengths")


# ----------------------------------------------------------------------------- GRU / RNN
GRU_CONFIGS = {
    f"reset_after_{ra}{'_ln' if ln else ''}": {"reset_after": ra, "layer_norm": ln}
    for ra in (True, False) for ln in (False, True)
}
RNN_CONFIGS = {
    f"{nl}{'_ln' if ln else ''}": {"nonlinearity": nl, "layer_norm": ln}
    for nl in ("tanh", "relu") for ln in (False, True)
}


@pytest.mark.parametrize("structure", ["hx", "bidir_lengths", "deep_bidir_lengths"])
@pytest.mark.parametrize("kw", list(GRU_CONFIGS.values()), ids=list(GRU_CONFIGS))
def test_gru_gradcheck(kw, structure):
    check_layer(lstmkit.GRU, kw, structure)


@pytest.mark.parametrize("structure", ["hx", "bidir_lengths", "deep_bidir_lengths"])
@pytest.mark.parametrize("kw", list(RNN_CONFIGS.values()), ids=list(RNN_CONFIGS))
def test_rnn_gradcheck(kw, structure):
    check_layer(lstmkit.RNN, kw, structure)


# ----------------------------------------------------------------------------- training noise
NOISE = {
    "lstm_recurrent_dropout": (lstmkit.LSTM, {"variant": "V", "recurrent_dropout": 0.4}),
    "lstm_zoneout_pair_proj": (lstmkit.LSTM, {"proj_size": P, "zoneout": (0.3, 0.5)}),
    "lstm_weight_drop_FGR": (lstmkit.LSTM, {"variant": "FGR", "weight_drop": 0.4}),
    "lstm_all_ln_dropout": (lstmkit.LSTM, {"peephole": True, "layer_norm": True,
                                           "recurrent_dropout": 0.3, "zoneout": 0.3,
                                           "weight_drop": 0.3, "dropout": 0.3}),
    "gru_all": (lstmkit.GRU, {"recurrent_dropout": 0.3, "zoneout": 0.3, "weight_drop": 0.3,
                              "dropout": 0.3}),
    "gru_cho_ln_all": (lstmkit.GRU, {"reset_after": False, "layer_norm": True,
                                     "recurrent_dropout": 0.3, "zoneout": 0.3,
                                     "weight_drop": 0.3}),
    "rnn_tanh_all": (lstmkit.RNN, {"recurrent_dropout": 0.3, "zoneout": 0.3,
                                   "weight_drop": 0.3, "dropout": 0.3}),
    "rnn_relu_ln_all": (lstmkit.RNN, {"nonlinearity": "relu", "layer_norm": True,
                                      "recurrent_dropout": 0.3, "zoneout": 0.3,
                                      "weight_drop": 0.3}),
}


@pytest.mark.parametrize("structure", ["bidir_lengths", "deep_bidir_lengths"])
@pytest.mark.parametrize("cls, kw", list(NOISE.values()), ids=list(NOISE))
def test_training_noise_gradcheck(cls, kw, structure):
    if STRUCTURES[structure]["num_layers"] == 1:  # dropout acts between layers only
        kw = {k: v for k, v in kw.items() if k != "dropout"}
    module, fn, inputs = check_layer(cls, kw, structure, seed=NOISE_SEED)
    # the noise is really there: training differs from eval on the same parameters
    with torch.no_grad():
        train_out = fn(*inputs)[0]
        module.eval()
        eval_out = fn(*inputs)[0]
    assert not torch.allclose(train_out, eval_out)


# ----------------------------------------------------------------------------- cells
CELL_CONFIGS = {
    "torch_vanilla": {},
    "peephole": {"peephole": True},
    **{f"variant_{v}": {"variant": v} for v in GREFF},
    "cifg_peephole": {"cifg": True, "peephole": True},
    "layer_norm": {"layer_norm": True},
    "ln_proj_clips": {"layer_norm": True, "peephole": True, "proj_size": P,
                      "proj_clip": 0.04, "cell_clip": 0.35},
    "FGR_ln_proj": {"variant": "FGR", "layer_norm": True, "proj_size": P},
}


def check_cell(cell, state_sizes):
    x = leaf(N, H_IN)
    states = [leaf(N, size) for size in state_sizes]
    names, values = parameter_leaves(cell)
    run_gradcheck(make_fn(cell, names, len(states)), (x, *states, *values))


@pytest.mark.parametrize("kw", list(CELL_CONFIGS.values()), ids=list(CELL_CONFIGS))
def test_lstm_cell_gradcheck(kw):
    cell = randomise(lstmkit.LSTMCell(H_IN, H, dtype=torch.float64, **kw))
    sizes = [cell.output_size, H]
    if kw.get("variant") == "FGR":  # the previous gates are an input of the cell too
        sizes.append(cell.weight_gate_recurrence.shape[0])
    check_cell(cell, sizes)


@pytest.mark.parametrize("kw", list(GRU_CONFIGS.values()), ids=list(GRU_CONFIGS))
def test_gru_cell_gradcheck(kw):
    check_cell(randomise(lstmkit.GRUCell(H_IN, H, dtype=torch.float64, **kw)), [H])


@pytest.mark.parametrize("kw", list(RNN_CONFIGS.values()), ids=list(RNN_CONFIGS))
def test_rnn_cell_gradcheck(kw):
    check_cell(randomise(lstmkit.RNNCell(H_IN, H, dtype=torch.float64, **kw)), [H])


# ----------------------------------------------------------------------------- clips
@pytest.mark.parametrize("which", ["cell", "proj"])
def test_clipped_units_get_zero_gradient(which):
    """A unit held at the clip value has zero gradient w.r.t. everything; the others
    do not (so the clamp is really inside the graph)."""
    clip = 0.3 if which == "cell" else 0.1
    kw = {"cell_clip": clip} if which == "cell" else {"proj_size": P, "proj_clip": clip}
    cell = randomise(lstmkit.LSTMCell(H_IN, H, dtype=torch.float64, peephole=True, **kw))
    x = leaf(8, H_IN)
    h0, c0 = leaf(8, cell.output_size), leaf(8, H)
    h1, c1 = cell(x, (h0, c0))
    value = c1 if which == "cell" else h1
    clipped = value.abs() >= clip
    assert clipped.any() and (~clipped).any()
    leaves = [x, h0, c0, *cell.parameters()]
    for idx in clipped.nonzero().tolist() + (~clipped).nonzero().tolist()[:3]:
        grads = torch.autograd.grad(value[tuple(idx)], leaves, retain_graph=True,
                                    allow_unused=True)
        total = sum(float(g.abs().sum()) for g in grads if g is not None)
        if clipped[tuple(idx)]:
            assert total == 0.0, f"clipped unit {idx} has gradient {total}"
        else:
            assert total > 0.0, f"unclipped unit {idx} has no gradient"
