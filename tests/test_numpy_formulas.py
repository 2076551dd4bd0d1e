"""Every cell's equations, checked against an independent NumPy implementation.

The NumPy code below is written from the equations (the docstrings of
``lstmkit.cells.lstm/gru/rnn`` and Greff et al. 2017, "LSTM: A Search Space Odyssey"),
not from lstmkit's code: it reads only parameter *values* out of the modules, by their
documented names, and runs its own loop over time, its own per-sequence handling of
``lengths`` (each sequence is cut to its own length, so the reverse direction starts at
its own end) and its own stacking of layers and directions. Parameters are randomised
so that peepholes, layer-norm gains/shifts, gate recurrence and clips all matter.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from shared_cases import LSTM_OPTIONS, randomise

import lstmkit

RTOL = ATOL = 1e-10
LN_EPS = 1e-5

L, N, H_IN, H, P = 5, 3, 3, 4, 2  # length, batch, input, hidden (cell), projection
LENGTHS = [5, 2, 4]


# ----------------------------------------------------------------------------- numpy math
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def layer_norm(a, gain, shift=None):
    """Ba et al. 2016 over the last axis, biased variance, eps = 1e-5."""
    mean = a.mean(axis=-1, keepdims=True)
    var = ((a - mean) ** 2).mean(axis=-1, keepdims=True)
    out = (a - mean) / np.sqrt(var + LN_EPS) * gain
    return out if shift is None else out + shift


def affine(x, weight, bias, ln_gain):
    """``LN(W x) + b`` (plain ``W x + b`` without a gain); ``x (1, K)``."""
    out = x @ weight.T
    if ln_gain is not None:
        out = layer_norm(out, ln_gain)
    return out if bias is None else out + bias


def mix(rate, old, new):
    """Zoneout in eval mode: the expectation ``z * old + (1 - z) * new``."""
    return rate * old + (1.0 - rate) * new


# Greff et al. 2017, section 3: every variant changes one thing of the peephole
# baseline "V". "i"/"f": "sigmoid" (learned), "one" (removed gate = 1) or the
# coupling; "o": output gate present; "g_act"/"h_act": the two tanh's.
GREFF_CHANGES = {
    "V": {},
    "NIG": {"i": "one"},
    "NFG": {"f": "one"},
    "NOG": {"o": False},
    "NIAF": {"g_act": False},
    "NOAF": {"h_act": False},
    "NP": {"peephole": False},
    "CIFG": {"f": "1-i"},
    "FGR": {"fgr": True},
}


def lstm_equations(kw):
    """The terms an ``lstmkit.LSTM(**kw)`` must compute, from the documented options."""
    eq = {"i": "sigmoid", "f": "sigmoid", "o": True, "g_act": True, "h_act": True,
          "peephole": False, "fgr": False}
    if kw.get("variant") is not None:
        eq["peephole"] = True  # Greff's variants start from the peephole baseline
        eq.update(GREFF_CHANGES[kw["variant"]])
    if kw.get("peephole") is not None:
        eq["peephole"] = kw["peephole"]
    if kw.get("cifg"):
        eq["i"] = "1-f"
    eq["ln"] = kw.get("layer_norm", False)
    eq["proj"] = kw.get("proj_size", 0) > 0
    eq["cell_clip"] = kw.get("cell_clip")
    eq["proj_clip"] = kw.get("proj_clip")
    rows = [g for g in "if" if eq[g] == "sigmoid"] + ["g"] + (["o"] if eq["o"] else [])
    eq["rows"] = rows  # row blocks of the weights, torch's order i, f, g, o
    eq["learned"] = [g for g in rows if g != "g"]  # learned sigmoid gates (i, f, o)
    return eq


class ClipCounter:
    """Counts how often the NumPy model clamped, to prove the clip tests bite."""

    def __init__(self):
        self.cell = 0
        self.proj = 0


def lstm_step(eq, p, x, state, rates, clips, keep=None):
    """One LSTM step in NumPy. ``x (1, H_in)``; state ``(y, c, q)``; returns the same.

    ``rates = (z_h, z_c)``: zoneout weights of the previous ``y`` and ``c`` (the rates in
    eval, 0/1 masks in training); ``keep``: the recurrent-dropout mask on ``y(t-1)``,
    which feeds ``W_hh`` only.
    """
    y_prev, c_prev, q_prev = state
    y_in = y_prev if keep is None else y_prev * keep
    pre = affine(x, p["weight_ih"], p.get("bias_ih"), p.get("weight_ln_ih") if eq["ln"] else None)
    pre = pre + affine(y_in, p["weight_hh"], p.get("bias_hh"),
                       p.get("weight_ln_hh") if eq["ln"] else None)
    hidden = c_prev.shape[-1]
    a = {g: pre[:, k * hidden:(k + 1) * hidden] for k, g in enumerate(eq["rows"])}
    if eq["fgr"]:  # R q(t-1), q = previous learned gates (i, f, o) concatenated
        extra = q_prev @ p["weight_gate_recurrence"].T
        for k, g in enumerate(eq["learned"]):
            a[g] = a[g] + extra[:, k * hidden:(k + 1) * hidden]
    peep = {}
    if eq["peephole"]:
        peep = {g: p["weight_peephole"][k] for k, g in enumerate(eq["learned"])}

    def gate(g, cell):
        return sigmoid(a[g] + (peep[g] * cell if g in peep else 0.0))

    i = gate("i", c_prev) if eq["i"] == "sigmoid" else None
    f = gate("f", c_prev) if eq["f"] == "sigmoid" else None
    if eq["i"] == "one":
        i = 1.0
    if eq["f"] == "one":
        f = 1.0
    if eq["i"] == "1-f":  # cifg=True
        i = 1.0 - f
    if eq["f"] == "1-i":  # Greff's CIFG
        f = 1.0 - i
    g = np.tanh(a["g"]) if eq["g_act"] else a["g"]
    c = f * c_prev + i * g
    if eq["cell_clip"] is not None:
        clips.cell += int((np.abs(c) > eq["cell_clip"]).sum())
        c = np.clip(c, -eq["cell_clip"], eq["cell_clip"])
    o = gate("o", c) if eq["o"] else 1.0  # the output peephole sees c(t)
    shown = layer_norm(c, p["weight_ln_c"], p["bias_ln_c"]) if eq["ln"] else c
    h = o * (np.tanh(shown) if eq["h_act"] else shown)
    if eq["proj"]:
        h = h @ p["weight_hr"].T
        if eq["proj_clip"] is not None:
            clips.proj += int((np.abs(h) > eq["proj_clip"]).sum())
            h = np.clip(h, -eq["proj_clip"], eq["proj_clip"])
    q = np.concatenate([{"i": i, "f": f, "o": o}[k] for k in eq["learned"]], axis=-1)
    rate_h, rate_c = rates
    return mix(rate_h, y_prev, h), mix(rate_c, c_prev, c), q


def gru_step(reset_after, ln, p, x, state, rates, keep=None):
    """One GRU step in NumPy (PyTorch's form or Cho et al.'s). Returns ``(h,)``.

    ``keep`` (recurrent dropout) masks ``h(t-1)`` where it meets ``W_hh``; the update
    ``z * h(t-1)`` and zoneout use the unmasked state.
    """
    (h_prev,) = state
    h_in = h_prev if keep is None else h_prev * keep
    hidden = h_prev.shape[-1]
    gain_ih = p.get("weight_ln_ih") if ln else None
    gain_hh = p.get("weight_ln_hh") if ln else None
    b_hh = p.get("bias_hh")
    xp = affine(x, p["weight_ih"], p.get("bias_ih"), gain_ih)
    x_r, x_z, x_n = (xp[:, k * hidden:(k + 1) * hidden] for k in range(3))
    if reset_after:
        ap = affine(h_in, p["weight_hh"], b_hh, gain_hh)
        a_r, a_z, a_n = (ap[:, k * hidden:(k + 1) * hidden] for k in range(3))
        r, z = sigmoid(x_r + a_r), sigmoid(x_z + a_z)
        n = np.tanh(x_n + r * a_n)
    else:
        rz, nn_ = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
        ap = affine(h_in, p["weight_hh"][rz], None if b_hh is None else b_hh[rz],
                    None if gain_hh is None else gain_hh[rz])
        r, z = sigmoid(x_r + ap[:, :hidden]), sigmoid(x_z + ap[:, hidden:])
        a_n = affine(r * h_in, p["weight_hh"][nn_], None if b_hh is None else b_hh[nn_],
                     None if gain_hh is None else gain_hh[nn_])
        n = np.tanh(x_n + a_n)
    h = (1.0 - z) * n + z * h_prev
    return (mix(rates[0], h_prev, h),)


def rnn_step(nonlinearity, ln, p, x, state, rates, keep=None):
    """One Elman step in NumPy. Returns ``(h,)``."""
    (h_prev,) = state
    h_in = h_prev if keep is None else h_prev * keep
    a = affine(x, p["weight_ih"], p.get("bias_ih"), p.get("weight_ln_ih") if ln else None)
    a = a + affine(h_in, p["weight_hh"], p.get("bias_hh"), p.get("weight_ln_hh") if ln else None)
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
    return (mix(rates[0], h_prev, h),)


# ----------------------------------------------------------------------------- numpy layers
def module_params(module, suffix=""):
    """Parameter values by base name, for names ending in ``suffix`` (NumPy float64)."""
    out = {}
    for name, tensor in module.named_parameters():
        if suffix and not name.endswith(suffix):
            continue
        base = name[: len(name) - len(suffix)] if suffix else name
        out[base] = tensor.detach().numpy()
    return out


def numpy_stack(module, step_fn, x, initial, lengths, num_layers, directions):
    """Run a stack in NumPy. ``initial[k]`` lists the per-(layer, direction) start states.

    Each sequence ``n`` is cut to ``lengths[n]`` and run on its own, forward or backward;
    outputs past its end stay zero. Returns ``(output (L, N, D*H_out), finals)`` with
    ``finals[k]`` the state tensor ``k`` stacked as ``(num_layers*D, N, size)``.
    """
    length, batch, _ = x.shape
    lengths = [length] * batch if lengths is None else list(lengths)
    layer_input = x
    finals = []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            p = module_params(module, suffix)
            out = None
            final = []
            for n in range(batch):
                state = tuple(s[index][n:n + 1] for s in initial)
                times = range(lengths[n])
                for t in (reversed(times) if direction else times):
                    state = step_fn(p, layer_input[t, n:n + 1], state)
                    if out is None:
                        out = np.zeros((length, batch, state[0].shape[-1]))
                    out[t, n] = state[0][0]
                final.append(state)
            outputs.append(out)
            finals.append([np.concatenate(parts, axis=0) for parts in zip(*final)])
        layer_input = np.concatenate(outputs, axis=-1)
    stacked = [np.stack([f[k] for f in finals]) for k in range(len(finals[0]))]
    return layer_input, stacked


# ----------------------------------------------------------------------------- helpers


def close(actual, expected):
    np.testing.assert_allclose(actual.detach().numpy(), expected, rtol=RTOL, atol=ATOL)


# Structures of a forward call: layers, directions, lengths, an initial state.
STRUCTURES = {
    "single": {"num_layers": 1, "bidirectional": False, "lengths": False, "hx": False},
    "hx": {"num_layers": 1, "bidirectional": False, "lengths": False, "hx": True},
    "lengths": {"num_layers": 1, "bidirectional": False, "lengths": True, "hx": True},
    "bidir_lengths": {"num_layers": 1, "bidirectional": True, "lengths": True, "hx": True},
    "deep_bidir_lengths_hx": {"num_layers": 2, "bidirectional": True, "lengths": True, "hx": True},
}
STRUCTURE_IDS = list(STRUCTURES)


def make_inputs(structure, state_sizes):
    """Random ``x``, ``lengths`` (or None) and ``hx`` tuple (or None) for a structure."""
    s = STRUCTURES[structure]
    stacks = s["num_layers"] * (2 if s["bidirectional"] else 1)
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    lengths = torch.tensor(LENGTHS) if s["lengths"] else None
    hx = None
    if s["hx"]:
        hx = tuple(torch.randn(stacks, N, size, dtype=torch.float64) for size in state_sizes)
    return x, lengths, hx


def run_both(module, step_fn, structure, state_sizes, *, zero_state_sizes=None, inputs=None):
    """Forward ``module`` and the NumPy stack on the same random input and states.

    ``zero_state_sizes``: sizes of the extra state tensors the NumPy step carries,
    starting at zero (the LSTM's previous gates: ``S*H`` for FGR, 0 otherwise).
    """
    s = STRUCTURES[structure]
    directions = 2 if s["bidirectional"] else 1
    stacks = s["num_layers"] * directions
    x, lengths, hx = inputs if inputs is not None else make_inputs(structure, state_sizes)
    if hx is not None:
        initial = [[t[k].numpy() for k in range(stacks)] for t in hx]
    else:
        initial = [[np.zeros((N, size)) for _ in range(stacks)] for size in state_sizes]
    extra = list(zero_state_sizes or [])
    initial = initial + [[np.zeros((N, size)) for _ in range(stacks)] for size in extra]
    module_hx = None if hx is None else (hx if len(hx) > 1 else hx[0])
    out, final = module(x, module_hx, lengths=lengths)
    ref_out, ref_final = numpy_stack(
        module, step_fn, x.numpy(), initial,
        None if lengths is None else LENGTHS, s["num_layers"], directions,
    )
    return out, final, ref_out, ref_final


# ----------------------------------------------------------------------------- LSTM
LSTM_CONFIGS = {
    **LSTM_OPTIONS,
    "V_peephole_off": {"variant": "V", "peephole": False},
    "NIG_peephole_off": {"variant": "NIG", "peephole": False},
    "proj_clip": {"proj_size": P, "proj_clip": 0.05},
    "cell_clip": {"cell_clip": 0.3},
    "no_bias_peephole": {"bias": False, "peephole": True},
    "cifg_peephole_proj_clips": {"cifg": True, "peephole": True, "proj_size": P,
                                 "proj_clip": 0.05, "cell_clip": 0.3},
    "FGR_ln_proj_cellclip": {"variant": "FGR", "layer_norm": True, "proj_size": P,
                             "cell_clip": 0.3},
    "CIFG_ln_proj": {"variant": "CIFG", "layer_norm": True, "proj_size": P},
    "NIG_ln": {"variant": "NIG", "layer_norm": True},
    "NFG_cell_clip": {"variant": "NFG", "cell_clip": 0.3},
    "NOG_proj": {"variant": "NOG", "proj_size": P},
    "NIAF_ln_cell_clip": {"variant": "NIAF", "layer_norm": True, "cell_clip": 0.3},
    "NOAF_ln_proj": {"variant": "NOAF", "layer_norm": True, "proj_size": P},
    "NP_ln_proj_clip": {"variant": "NP", "layer_norm": True, "proj_size": P, "proj_clip": 0.05},
}


def make_layer(cls, kw, structure, **extra):
    s = STRUCTURES[structure]
    return randomise(cls(
        H_IN, H, num_layers=s["num_layers"], bidirectional=s["bidirectional"],
        dtype=torch.float64, **kw, **extra,
    ))


def make_lstm(kw, structure, **extra):
    return make_layer(lstmkit.LSTM, kw, structure, **extra)


def lstm_numpy(kw, rates=(0.0, 0.0)):
    """The NumPy step for ``LSTM(**kw)``, its state sizes and its clip counter."""
    eq = lstm_equations(kw)
    clips = ClipCounter()
    out_size = kw.get("proj_size", 0) or H
    gate_units = len(eq["learned"]) * H if eq["fgr"] else 0

    def step_fn(p, x, state):
        return lstm_step(eq, p, x, state, rates, clips)

    return step_fn, (out_size, H), gate_units, clips, eq


@pytest.mark.parametrize("structure", STRUCTURE_IDS)
@pytest.mark.parametrize("kw", list(LSTM_CONFIGS.values()), ids=list(LSTM_CONFIGS))
def test_lstm_matches_numpy(kw, structure):
    module = make_lstm(kw, structure)
    step_fn, sizes, gate_units, clips, eq = lstm_numpy(kw)
    out, (h_n, c_n), ref_out, ref_final = run_both(
        module, step_fn, structure, sizes, zero_state_sizes=[gate_units]
    )
    close(out, ref_out)
    close(h_n, ref_final[0])
    close(c_n, ref_final[1])
    if eq["cell_clip"] is not None:
        assert clips.cell > 0, "cell_clip never acted; the test would not see a wrong clamp"
    if eq["proj_clip"] is not None:
        assert clips.proj > 0, "proj_clip never acted; the test would not see a wrong clamp"


def test_lstm_lengths_equal_each_sequence_run_alone():
    """Padded outputs are exactly zero and each sequence, cut to its own length and run
    alone, gives the same outputs and final states (the reverse pass starts at its end)."""
    kw = {"variant": "V"}
    module = make_lstm(kw, "bidir_lengths")
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    out, (h_n, c_n) = module(x, lengths=torch.tensor(LENGTHS))
    for n, length in enumerate(LENGTHS):
        assert torch.all(out[length:, n] == 0)
        alone, (h_alone, c_alone) = module(x[:length, n:n + 1])
        close(out[:length, n:n + 1], alone.detach().numpy())
        close(h_n[:, n:n + 1], h_alone.detach().numpy())
        close(c_n[:, n:n + 1], c_alone.detach().numpy())


# ----------------------------------------------------------------------------- GRU / RNN
GRU_CONFIGS = {
    f"reset_after_{ra}{'_ln' if ln else ''}{'_nobias' if not bias else ''}":
        {"reset_after": ra, "layer_norm": ln, "bias": bias}
    for ra in (True, False) for ln in (False, True) for bias in (True, False)
    if bias or not ln
}
RNN_CONFIGS = {
    f"{nl}{'_ln' if ln else ''}{'_nobias' if not bias else ''}":
        {"nonlinearity": nl, "layer_norm": ln, "bias": bias}
    for nl in ("tanh", "relu") for ln in (False, True) for bias in (True, False)
    if bias or not ln
}


def gru_numpy(kw, rate=0.0):
    def step_fn(p, x, state):
        return gru_step(kw["reset_after"], kw["layer_norm"], p, x, state, (rate,))
    return step_fn


def rnn_numpy(kw, rate=0.0):
    def step_fn(p, x, state):
        return rnn_step(kw["nonlinearity"], kw["layer_norm"], p, x, state, (rate,))
    return step_fn


SINGLE_STATE_CASES = [
    pytest.param(lstmkit.GRU, gru_numpy, kw, id=f"gru-{name}") for name, kw in GRU_CONFIGS.items()
] + [pytest.param(lstmkit.RNN, rnn_numpy, kw, id=f"rnn-{name}") for name, kw in RNN_CONFIGS.items()]


@pytest.mark.parametrize("structure", STRUCTURE_IDS)
@pytest.mark.parametrize("cls,numpy_step,kw", SINGLE_STATE_CASES)
def test_gru_and_rnn_match_numpy(cls, numpy_step, kw, structure):
    module = make_layer(cls, kw, structure)
    out, h_n, ref_out, ref_final = run_both(module, numpy_step(kw), structure, (H,))
    close(out, ref_out)
    close(h_n, ref_final[0])


# ----------------------------------------------------------------------------- regularisation
ZONEOUT_LSTM = {
    "torch_vanilla": ({}, 0.3),
    "V_pair": ({"variant": "V"}, (0.3, 0.6)),
    "proj_pair": ({"proj_size": P}, (0.25, 0.5)),
    "FGR_ln": ({"variant": "FGR", "layer_norm": True}, 0.4),
    "cifg_peephole_clip": ({"cifg": True, "peephole": True, "cell_clip": 0.3}, (0.6, 0.2)),
}


def _rates(zoneout):
    return tuple(zoneout) if isinstance(zoneout, tuple) else (zoneout, zoneout)


@pytest.mark.parametrize("structure", ["hx", "deep_bidir_lengths_hx"])
@pytest.mark.parametrize("kw, zoneout", list(ZONEOUT_LSTM.values()), ids=list(ZONEOUT_LSTM))
def test_lstm_zoneout_eval_is_expectation(kw, zoneout, structure):
    module = make_lstm(kw, structure, zoneout=zoneout).eval()
    step_fn, sizes, gate_units, _, _ = lstm_numpy(kw, rates=_rates(zoneout))
    inputs = make_inputs(structure, sizes)
    out, (h_n, c_n), ref_out, ref_final = run_both(
        module, step_fn, structure, sizes, zero_state_sizes=[gate_units], inputs=inputs
    )
    close(out, ref_out)
    close(h_n, ref_final[0])
    close(c_n, ref_final[1])
    # the rate really changes the result: the same weights without zoneout differ
    plain = make_lstm(kw, structure).eval()
    plain.load_state_dict(module.state_dict())
    x, lengths, hx = inputs
    assert not torch.allclose(plain(x, hx, lengths=lengths)[0], out)


@pytest.mark.parametrize("structure", ["hx", "deep_bidir_lengths_hx"])
@pytest.mark.parametrize(
    "cls, kw, make_step",
    [
        (lstmkit.GRU, {"reset_after": True, "layer_norm": False}, gru_numpy),
        (lstmkit.GRU, {"reset_after": False, "layer_norm": True}, gru_numpy),
        (lstmkit.RNN, {"nonlinearity": "tanh", "layer_norm": False}, rnn_numpy),
        (lstmkit.RNN, {"nonlinearity": "relu", "layer_norm": True}, rnn_numpy),
    ],
    ids=["gru", "gru_cho_ln", "rnn_tanh", "rnn_relu_ln"],
)
def test_gru_rnn_zoneout_eval_is_expectation(cls, kw, make_step, structure):
    rate = 0.35
    module = make_layer(cls, kw, structure, zoneout=rate).eval()
    out, h_n, ref_out, ref_final = run_both(module, make_step(kw, rate), structure, (H,))
    close(out, ref_out)
    close(h_n, ref_final[0])


EVAL_NOISE = {
    "lstm_V": (lstmkit.LSTM, {"variant": "V", "proj_size": P}),
    "lstm_FGR_ln": (lstmkit.LSTM, {"variant": "FGR", "layer_norm": True}),
    "gru": (lstmkit.GRU, {"reset_after": True, "layer_norm": False}),
    "gru_cho": (lstmkit.GRU, {"reset_after": False, "layer_norm": True}),
    "rnn": (lstmkit.RNN, {"nonlinearity": "tanh", "layer_norm": False}),
}


def _numpy_for(cls, kw, rate=0.0):
    if cls is lstmkit.LSTM:
        step_fn, sizes, gate_units, _, _ = lstm_numpy(kw, rates=(rate, rate))
        return step_fn, sizes, [gate_units]
    make = gru_numpy if cls is lstmkit.GRU else rnn_numpy
    return make(kw, rate), (H,), None


@pytest.mark.parametrize("zoneout", [0.0, 0.3], ids=["no_zoneout", "zoneout"])
@pytest.mark.parametrize("cls, kw", list(EVAL_NOISE.values()), ids=list(EVAL_NOISE))
def test_recurrent_dropout_and_weight_drop_do_nothing_in_eval(cls, kw, zoneout):
    module = make_layer(cls, kw, "deep_bidir_lengths_hx", recurrent_dropout=0.5,
                        weight_drop=0.5, dropout=0.5, zoneout=zoneout).eval()
    step_fn, sizes, extra = _numpy_for(cls, kw, zoneout)
    for _ in range(2):  # nothing random: the same numbers every call
        out, final, ref_out, ref_final = run_both(
            module, step_fn, "deep_bidir_lengths_hx", sizes, zero_state_sizes=extra
        )
        close(out, ref_out)
        finals = final if isinstance(final, tuple) else (final,)
        for got, want in zip(finals, ref_final):
            close(got, want)


@pytest.mark.parametrize("cls, kw", list(EVAL_NOISE.values()), ids=list(EVAL_NOISE))
def test_zoneout_one_in_training_freezes_state(cls, kw):
    """Rate 1: every unit keeps its previous value at every step (m = 1 always)."""
    kw = dict(kw)
    kw.pop("proj_size", None)
    module = make_layer(cls, kw, "hx", zoneout=1.0).train()
    _, sizes, _ = _numpy_for(cls, kw)
    hx = tuple(torch.randn(1, N, size, dtype=torch.float64) for size in sizes)
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    out, final = module(x, hx if len(hx) > 1 else hx[0])
    close(out, np.broadcast_to(hx[0].numpy(), (L, N, H)))
    finals = final if isinstance(final, tuple) else (final,)
    for got, start in zip(finals, hx):
        close(got, start.numpy())


MASKED = {
    "lstm_torch_vanilla": (lstmkit.LSTM, {}),
    "lstm_V_proj": (lstmkit.LSTM, {"variant": "V", "proj_size": P}),
    "lstm_FGR_ln_clip": (lstmkit.LSTM, {"variant": "FGR", "layer_norm": True, "cell_clip": 0.3}),
    "lstm_cifg_peephole_ln_proj": (lstmkit.LSTM, {"cifg": True, "peephole": True,
                                                   "layer_norm": True, "proj_size": P}),
    "gru": (lstmkit.GRU, {"reset_after": True, "layer_norm": False}),
    "gru_cho": (lstmkit.GRU, {"reset_after": False, "layer_norm": False}),
    "gru_cho_ln": (lstmkit.GRU, {"reset_after": False, "layer_norm": True}),
    "rnn_tanh_ln": (lstmkit.RNN, {"nonlinearity": "tanh", "layer_norm": True}),
    "rnn_relu": (lstmkit.RNN, {"nonlinearity": "relu", "layer_norm": False}),
}


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("cls, kw", list(MASKED.values()), ids=list(MASKED))
def test_training_masks_match_numpy(cls, kw, reverse):
    """Explicit training noise through the engine: a recurrent-dropout mask on the
    state that feeds ``W_hh`` (the same at every step) and per-step 0/1 zoneout masks."""
    module = make_layer(cls, kw, "single")
    spec = module.spec
    is_lstm = cls is lstmkit.LSTM
    out_size, cell_size = module.output_size, module.hidden_size
    keep = torch.bernoulli(torch.full((N, out_size), 0.6, dtype=torch.float64)) / 0.6
    zone_h = torch.bernoulli(torch.full((L, N, out_size), 0.4, dtype=torch.float64))
    zone_c = torch.bernoulli(torch.full((L, N, cell_size), 0.4, dtype=torch.float64))
    masks = lstmkit.cells.Masks(keep, zone_h, zone_c if is_lstm else None)
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    h0 = torch.randn(N, out_size, dtype=torch.float64)
    c0 = torch.randn(N, cell_size, dtype=torch.float64)
    if is_lstm:
        eq = lstm_equations(kw)
        gate_units = len(eq["learned"]) * H if eq["fgr"] else 0
        state0 = (h0, c0) + ((torch.zeros(N, gate_units, dtype=torch.float64),) if eq["fgr"] else ())
        start = (h0.numpy(), c0.numpy(), np.zeros((N, gate_units)))
        clips = ClipCounter()

        def step_fn(p, x_t, state, t, n):
            rates = (zone_h.numpy()[t, n:n + 1], zone_c.numpy()[t, n:n + 1])
            return lstm_step(eq, p, x_t, state, rates, clips, keep.numpy()[n:n + 1])
    else:
        state0, start = (h0,), (h0.numpy(),)
        one = gru_step if cls is lstmkit.GRU else rnn_step
        args = (kw["reset_after"],) if cls is lstmkit.GRU else (kw["nonlinearity"],)

        def step_fn(p, x_t, state, t, n):
            return one(*args, kw["layer_norm"], p, x_t, state,
                       (zone_h.numpy()[t, n:n + 1],), keep.numpy()[n:n + 1])

    out, final = lstmkit.engine.run_layer(
        x, state0, module.layer_params(0), spec, lengths=torch.tensor(LENGTHS),
        reverse=reverse, masks=masks, backend="reference",
    )
    p = module_params(module, "_l0")
    ref_out = np.zeros((L, N, out_size))
    for n, length in enumerate(LENGTHS):
        state = tuple(s[n:n + 1] for s in start)
        times = range(length)
        for t in (reversed(times) if reverse else times):
            state = step_fn(p, x.numpy()[t, n:n + 1], state, t, n)
            ref_out[t, n] = state[0][0]
        for got, want in zip(final, state):
            close(got[n:n + 1], want)
    close(out, ref_out)


# ----------------------------------------------------------------------------- cells
CELL_CONFIGS = {
    "torch_vanilla": {},
    **{f"variant_{v}": {"variant": v} for v in GREFF_CHANGES},
    "peephole": {"peephole": True},
    "cifg_peephole": {"cifg": True, "peephole": True},
    "ln_proj_clips": {"layer_norm": True, "proj_size": P, "proj_clip": 0.05, "cell_clip": 0.3,
                      "peephole": True},
    "FGR_ln_proj": {"variant": "FGR", "layer_norm": True, "proj_size": P},
}


@pytest.mark.parametrize("kw", list(CELL_CONFIGS.values()), ids=list(CELL_CONFIGS))
def test_lstm_cell_matches_numpy(kw):
    cell = randomise(lstmkit.LSTMCell(H_IN, H, dtype=torch.float64, **kw))
    step_fn, (out_size, _), gate_units, _, eq = lstm_numpy(kw)
    x = torch.randn(N, H_IN, dtype=torch.float64)
    h0 = torch.randn(N, out_size, dtype=torch.float64)
    c0 = torch.randn(N, H, dtype=torch.float64)
    state = (h0, c0)
    q0 = np.zeros((N, gate_units))
    if eq["fgr"]:  # the cell may carry the previous gates explicitly
        q_t = torch.rand(N, gate_units, dtype=torch.float64)
        state, q0 = (h0, c0, q_t), q_t.numpy()
    got = cell(x, state)
    want = step_fn(module_params(cell), x.numpy(), (h0.numpy(), c0.numpy(), q0))
    for g, w in zip(got, want):
        close(g, w)
    assert len(got) == (3 if eq["fgr"] else 2)


SINGLE_STATE_CELL_CASES = [
    pytest.param(lstmkit.GRUCell, gru_numpy, kw, id=f"gru-{name}") for name, kw in GRU_CONFIGS.items()
] + [pytest.param(lstmkit.RNNCell, rnn_numpy, kw, id=f"rnn-{name}") for name, kw in RNN_CONFIGS.items()]


@pytest.mark.parametrize("cls,numpy_step,kw", SINGLE_STATE_CELL_CASES)
def test_gru_and_rnn_cells_match_numpy(cls, numpy_step, kw):
    cell = randomise(cls(H_IN, H, dtype=torch.float64, **kw))
    x, h0 = torch.randn(N, H_IN, dtype=torch.float64), torch.randn(N, H, dtype=torch.float64)
    (want,) = numpy_step(kw)(module_params(cell), x.numpy(), (h0.numpy(),))
    close(cell(x, h0), want)


def test_fgr_cell_given_h_c_only_starts_gates_at_zero():
    kw = {"variant": "FGR", "peephole": True}
    cell = randomise(lstmkit.LSTMCell(H_IN, H, dtype=torch.float64, **kw))
    step_fn, _, gate_units, _, _ = lstm_numpy(kw)
    x, h0, c0 = (torch.randn(N, size, dtype=torch.float64) for size in (H_IN, H, H))
    got = cell(x, (h0, c0))
    want = step_fn(module_params(cell), x.numpy(), (h0.numpy(), c0.numpy(),
                                                    np.zeros((N, gate_units))))
    assert len(got) == 3
    for g, w in zip(got, want):
        close(g, w)
