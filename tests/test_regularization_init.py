"""Regularisation (dropout between layers, recurrent dropout, zoneout, weight drop) and
initialisation (init=, forget_bias=, layer-norm parameters, reset_parameters)."""

from __future__ import annotations

import itertools
import math
import warnings

import pytest
import torch
import torch.nn.functional as F

from lstmkit import GRU, LSTM, RNN, LSTMCell
from lstmkit.cells import Masks
from lstmkit.engine import run_layer

DT = torch.float64
I, H, N, L = 3, 4, 3, 6  # input size, hidden size, batch, length
TOL = {"rtol": 1e-10, "atol": 1e-10}


def close(a, b):
    torch.testing.assert_close(a, b, **TOL)


def build(cls, **kwargs):
    kwargs.setdefault("dtype", DT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout with one layer warns; tested elsewhere
        return cls(I, kwargs.pop("hidden", H), **kwargs)


def plain_copy(model, **kwargs):
    """A model of the same architecture with no regularisation and the same weights."""
    kwargs.update(hidden=model.hidden_size, num_layers=model.num_layers,
                  bidirectional=model.bidirectional)
    plain = build(type(model), **kwargs)
    plain.load_state_dict(model.state_dict())
    return plain.train(model.training)


def random_hx(model, batch=N):
    stacks = model.num_layers * model.num_directions
    hs = [torch.randn(stacks, batch, size, dtype=DT) for size in model.state_sizes]
    return tuple(hs) if len(hs) == 2 else hs[0]


def as_pair(state):
    return state if isinstance(state, tuple) else (state,)


def zeros_state(model, batch=N):
    return tuple(torch.zeros(batch, size, dtype=DT) for size in model.state_sizes)


KINDS = [
    pytest.param(LSTM, {}, id="lstm"),
    pytest.param(LSTM, {"proj_size": 2}, id="lstmp"),
    pytest.param(GRU, {}, id="gru"),
    pytest.param(RNN, {}, id="rnn"),
]


# --------------------------------------------------------------------------- dropout between layers
def manual_stack(model, x, dropout):
    """Layer 0 → F.dropout (if ``dropout``) → layer 1 …, through the engine directly."""
    D = model.num_directions
    layer_input = x
    for layer in range(model.num_layers):
        outs = [
            run_layer(layer_input, zeros_state(model), model.layer_params(layer * D + d),
                      model.spec, reverse=d == 1)[0]
            for d in range(D)
        ]
        layer_input = torch.cat(outs, dim=-1)
        if dropout and layer < model.num_layers - 1:
            layer_input = F.dropout(layer_input, model.dropout, training=True)
    return layer_input


@pytest.mark.parametrize("num_layers", [2, 3])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cls, extra", KINDS)
def test_dropout_is_applied_between_layers_only(cls, extra, bidirectional, num_layers):
    model = build(cls, num_layers=num_layers, dropout=0.5, bidirectional=bidirectional, **extra)
    x = torch.randn(L, N, I, dtype=DT)
    model.train()
    torch.manual_seed(7)
    out, _ = model(x)
    torch.manual_seed(7)
    expected = manual_stack(model, x, dropout=True)
    close(out, expected)

    model.eval()
    out_eval, _ = model(x)
    close(out_eval, manual_stack(model, x, dropout=False))
    assert not torch.allclose(out, out_eval)  # the dropout did act in training


@pytest.mark.parametrize("cls, extra", KINDS)
def test_dropout_leaves_last_layer_and_states_of_first_layer_alone(cls, extra):
    # One layer: dropout has nowhere to act (torch warns), so train == eval.
    single = build(cls, dropout=0.5, **extra)
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(single)
    close(single.train()(x, hx)[0], single.eval()(x, hx)[0])
    # Two layers: layer 0's final state is computed before any dropout.
    model = build(cls, num_layers=2, dropout=0.5, **extra)
    hx = random_hx(model)
    _, state_train = model.train()(x, hx)
    _, state_eval = model.eval()(x, hx)
    for s_train, s_eval in zip(as_pair(state_train), as_pair(state_eval)):
        close(s_train[0], s_eval[0])  # stack 0 = layer 0
        assert not torch.allclose(s_train[1], s_eval[1])  # layer 1 saw dropped inputs


@pytest.mark.parametrize("cls, extra", KINDS)
def test_dropout_eval_equals_no_dropout(cls, extra):
    model = build(cls, num_layers=2, dropout=0.5, **extra).eval()
    plain = plain_copy(model, **extra).eval()
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    out, state = model(x, hx)
    out_plain, state_plain = plain(x, hx)
    close(out, out_plain)
    close(state, state_plain)


# --------------------------------------------------------------------------- recurrent dropout
def hand_loop(model, x, hx, mask):
    """An independent single-layer forward with ``h(t-1) * mask`` before ``W_hh`` only."""
    p = {k.removesuffix("_l0"): v.detach() for k, v in model.named_parameters()}
    h = hx[0][0] if isinstance(hx, tuple) else hx[0]
    c = hx[1][0] if isinstance(hx, tuple) else None
    outs = []
    for t in range(x.shape[0]):
        gi = x[t] @ p["weight_ih"].T + p["bias_ih"]
        gh = (h * mask) @ p["weight_hh"].T + p["bias_hh"]
        if isinstance(model, LSTM):
            i, f, g, o = (gi + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            if "weight_hr" in p:
                h = h @ p["weight_hr"].T
        elif isinstance(model, GRU):
            (xr, xz, xn), (hr, hz, hn) = gi.chunk(3, dim=-1), gh.chunk(3, dim=-1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h  # z * h: the unmasked h
        else:
            h = torch.tanh(gi + gh)
        outs.append(h)
    return torch.stack(outs)


@pytest.mark.parametrize("cls, extra", KINDS)
def test_recurrent_dropout_one_mask_per_sequence_on_h_only(cls, extra):
    """In training, each sequence's output is explained by exactly one constant mask
    with entries in {0, 1/(1-p)} on h(t-1) before W_hh. A mask resampled per step, one
    applied to c or to GRU's z*h, or a missing 1/(1-p) would match no candidate."""
    rate = 0.5
    model = build(cls, recurrent_dropout=rate, **extra).train()
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    out, _ = model(x, hx)
    size = model.output_size
    candidates = [torch.tensor(m, dtype=DT) for m in itertools.product([0.0, 1 / (1 - rate)], repeat=size)]
    outs = [hand_loop(model, x, hx, m) for m in candidates]
    matched = []
    for n in range(N):
        hits = [k for k, o in enumerate(outs) if torch.allclose(o[:, n], out[:, n], **TOL)]
        assert len(hits) == 1, f"sequence {n}: {len(hits)} constant masks explain the output"
        matched.append(hits[0])
    assert len(set(matched)) > 1  # one mask per sequence, not one for the batch


@pytest.mark.parametrize("cls, extra", KINDS)
def test_recurrent_dropout_matches_engine_with_explicit_mask(cls, extra):
    """Reproduce the module with run_layer and an explicit Masks(recurrent=...) drawn
    from the same RNG state."""
    rate = 0.3
    model = build(cls, recurrent_dropout=rate, **extra).train()
    x = torch.randn(L, N, I, dtype=DT)
    torch.manual_seed(3)
    out, _ = model(x)
    torch.manual_seed(3)
    keep = 1 - rate
    mask = torch.bernoulli(torch.full((N, model.output_size), keep, dtype=DT)) / keep
    y, _ = run_layer(x, zeros_state(model), model.layer_params(0), model.spec, masks=Masks(recurrent=mask))
    close(out, y)


@pytest.mark.parametrize("cls, extra", KINDS)
def test_recurrent_dropout_eval_equals_none(cls, extra):
    model = build(cls, recurrent_dropout=0.5, num_layers=2, bidirectional=True, **extra)
    plain = plain_copy(model, **extra)
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    out_train, _ = model.train()(x, hx)
    assert not torch.allclose(out_train, plain(x, hx)[0])
    out, state = model.eval()(x, hx)
    out_plain, state_plain = plain.eval()(x, hx)
    close(out, out_plain)
    close(state, state_plain)


# --------------------------------------------------------------------------- zoneout
@pytest.mark.parametrize("cls, extra", KINDS + [pytest.param(LSTM, {"num_layers": 2, "bidirectional": True}, id="lstm-2layer-bi")])
def test_zoneout_rate_one_keeps_initial_state(cls, extra):
    model = build(cls, zoneout=1.0, **extra).train()
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    out, state = model(x, hx)
    for final, initial in zip(as_pair(state), as_pair(hx)):
        close(final, initial)
    h0 = as_pair(hx)[0]
    D = model.num_directions
    last = torch.cat(list(h0[-D:]), dim=-1)  # the last layer's initial h, both directions
    close(out, last.expand_as(out))


@pytest.mark.parametrize("cls, extra, rate", [
    *(pytest.param(*k.values, 0.0, id=k.id) for k in KINDS),
    pytest.param(LSTM, {}, (0.0, 0.0), id="lstm-pair"),
])
def test_zoneout_rate_zero_equals_plain(cls, extra, rate):
    model = build(cls, zoneout=rate, **extra).train()
    plain = plain_copy(model, **extra)
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    close(model(x, hx), plain(x, hx))


def plain_steps(plain, x, hx, combine):
    """Run ``plain`` one step at a time; ``combine(old, new)`` builds the next state."""
    state, outs = hx, []
    for t in range(x.shape[0]):
        _, new = plain(x[t : t + 1], state)
        state = combine(as_pair(state), as_pair(new))
        outs.append(as_pair(state)[0][0])
    return torch.stack(outs), state


@pytest.mark.parametrize("cls, extra, rate", [
    pytest.param(LSTM, {}, (0.3, 0.6), id="lstm-pair"),
    pytest.param(LSTM, {"proj_size": 2}, 0.4, id="lstmp"),
    pytest.param(GRU, {}, 0.4, id="gru"),
    pytest.param(RNN, {}, 0.7, id="rnn"),
])
def test_zoneout_eval_is_the_expectation(cls, extra, rate):
    """eval(): y(t) = z y(t-1) + (1-z) y~(t) and c likewise, step by step."""
    model = build(cls, zoneout=rate, **extra).eval()
    plain = plain_copy(model, **extra)
    rates = rate if isinstance(rate, tuple) else (rate, rate)
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)

    # One step by hand first.
    _, new = plain(x[:1], hx)
    _, got = model(x[:1], hx)
    for z, old_s, new_s, got_s in zip(rates, as_pair(hx), as_pair(new), as_pair(got)):
        close(got_s, z * old_s + (1 - z) * new_s)

    def combine(old, new):
        mixed = tuple(z * o + (1 - z) * n for z, o, n in zip(rates, old, new))
        return mixed if len(mixed) == 2 else mixed[0]

    expected_out, expected_state = plain_steps(plain, x, hx, combine)
    out, state = model(x, hx)
    close(out, expected_out)
    close(state, expected_state)


@pytest.mark.parametrize("extra", [{}, {"proj_size": 2}], ids=["lstm", "lstmp"])
@pytest.mark.parametrize("frozen", [0, 1], ids=["keep-h", "keep-c"])
def test_zoneout_pair_rates_act_separately(extra, frozen):
    """(1, 0) keeps h and updates c; (0, 1) keeps c and updates h."""
    rate = (1.0, 0.0) if frozen == 0 else (0.0, 1.0)
    model = build(LSTM, zoneout=rate, **extra).train()
    plain = plain_copy(model, **extra)
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)

    def combine(old, new):
        state = list(new)
        state[frozen] = old[frozen]
        return tuple(state)

    expected_out, expected_state = plain_steps(plain, x, hx, combine)
    out, state = model(x, hx)
    close(state, expected_state)
    close(out, expected_out)
    close(state[frozen], hx[frozen])
    assert not torch.allclose(state[1 - frozen], hx[1 - frozen])


@pytest.mark.parametrize("cls", [GRU, RNN], ids=["gru", "rnn"])
def test_zoneout_training_mask_is_per_step_and_unit(cls):
    """Each unit at each step either keeps its previous value or takes the new one,
    and which one changes over time and units."""
    rate = 0.5
    model = build(cls, hidden=8, zoneout=rate).train()
    plain = plain_copy(model)
    x = torch.randn(L, 8, I, dtype=DT)
    h0 = torch.randn(1, 8, 8, dtype=DT)
    out, _ = model(x, h0)
    prev = h0[0]
    kept = []
    for t in range(L):
        new = plain(x[t : t + 1], prev.unsqueeze(0))[0][0]
        is_old = torch.isclose(out[t], prev, **TOL)
        is_new = torch.isclose(out[t], new, **TOL)
        assert bool((is_old | is_new).all())
        kept.append(is_old & ~is_new)
        prev = out[t]
    kept = torch.stack(kept)  # (L, N, H)
    assert 0.3 < kept.double().mean().item() < 0.7
    assert not bool((kept == kept[0]).all())  # not one mask for all steps


def test_lstm_zoneout_training_picks_old_or_new_for_h_and_c():
    rate = (0.5, 0.5)
    model = build(LSTM, hidden=8, zoneout=rate).train()
    plain = plain_copy(model)
    x = torch.randn(1, 16, I, dtype=DT)
    hx = (torch.randn(1, 16, 8, dtype=DT), torch.randn(1, 16, 8, dtype=DT))
    _, got = model(x, hx)
    _, new = plain(x, hx)
    kept = []
    for g, o, n in zip(got, hx, new):
        is_old, is_new = torch.isclose(g, o, **TOL), torch.isclose(g, n, **TOL)
        assert bool((is_old | is_new).all())
        kept.append(is_old)
        assert 0.3 < is_old.double().mean().item() < 0.7
    assert not torch.equal(kept[0], kept[1])  # h and c masks are drawn separately


# --------------------------------------------------------------------------- weight drop
WD_KINDS = KINDS + [pytest.param(LSTM, {"num_layers": 2, "bidirectional": True}, id="lstm-2layer-bi")]


def with_weights(model, weights, **extra):
    plain = plain_copy(model, **extra)
    with torch.no_grad():
        for name, w in weights.items():
            getattr(plain, name).copy_(w)
    return plain


@pytest.mark.parametrize("cls, extra", WD_KINDS)
def test_weight_drop_masks_weight_hh_in_training(cls, extra):
    rate = 0.5
    model = build(cls, weight_drop=rate, **extra).train()
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    out, state = model(x, hx)
    (out.sum() + sum(s.sum() for s in as_pair(state))).backward()

    # The parameters themselves are untouched.
    for name, value in model.named_parameters():
        assert torch.equal(value, before[name]), name
    # Only weight_hh is dropped: the dropped entries get exactly zero gradient.
    dropped = {}
    for name, value in model.named_parameters():
        grad = value.grad
        assert grad is not None and bool(grad.abs().sum() > 0), name
        zero = grad == 0
        if name.startswith("weight_hh"):
            assert 0.15 < zero.double().mean().item() < 0.85, name
            dropped[name] = torch.where(zero, torch.zeros_like(value), value / (1 - rate)).detach()
        else:
            assert not bool(zero.any()), name
    # The forward equals the plain model run with the masked, rescaled W_hh …
    plain = with_weights(model, dropped, **extra)
    out_plain, state_plain = plain(x, hx)
    close(out, out_plain)
    close(state, state_plain)
    # … and the gradient reaching W_hh is that of the masked weight times mask/(1-p).
    (out_plain.sum() + sum(s.sum() for s in as_pair(state_plain))).backward()
    for name, masked in dropped.items():
        keep = (masked != 0).to(DT)
        close(getattr(model, name).grad, getattr(plain, name).grad * keep / (1 - rate))


@pytest.mark.parametrize("cls, extra", KINDS)
def test_weight_drop_layer_params_entries(cls, extra):
    """layer_params() in training gives entries 0 or w/(1-p); the forward uses it."""
    rate = 0.25
    model = build(cls, weight_drop=rate, **extra).train()
    w = model.weight_hh_l0.detach().clone()
    torch.manual_seed(5)
    masked = model.layer_params(0).weight_hh
    assert masked.requires_grad
    is_zero = masked == 0
    is_scaled = torch.isclose(masked, w / (1 - rate), **TOL)
    assert bool((is_zero | is_scaled).all())
    assert bool(is_zero.any()) and bool(is_scaled.any())
    assert torch.equal(model.weight_hh_l0, w)
    x = torch.randn(L, N, I, dtype=DT)
    torch.manual_seed(5)
    out, _ = model(x)
    close(out, with_weights(model, {"weight_hh_l0": masked.detach()}, **extra)(x)[0])


@pytest.mark.parametrize("cls, extra", WD_KINDS)
def test_weight_drop_eval_unaffected(cls, extra):
    model = build(cls, weight_drop=0.5, **extra).eval()
    assert model.layer_params(0).weight_hh is model.weight_hh_l0
    plain = plain_copy(model, **extra).eval()
    x = torch.randn(L, N, I, dtype=DT)
    hx = random_hx(model)
    close(model(x, hx), plain(x, hx))


# --------------------------------------------------------------------------- initialisation
INIT_KINDS = KINDS + [
    pytest.param(LSTM, {"cifg": True}, id="lstm-cifg"),
    pytest.param(LSTM, {"variant": "NOG", "num_layers": 2, "bidirectional": True}, id="lstm-nog-2layer-bi"),
]


def hh_blocks(model):
    """Every (H, H_out) gate block of every weight_hh."""
    for name, value in model.named_parameters():
        if name.startswith("weight_hh"):
            yield from ((name, b) for b in value.detach().split(model.hidden_size, dim=0))


def assert_orthogonal(model):
    count = 0
    for name, block in hh_blocks(model):
        rows, cols = block.shape
        gram = block @ block.T if rows <= cols else block.T @ block
        close(gram, torch.eye(min(rows, cols), dtype=DT))
        count += 1
    assert count > 0


@pytest.mark.parametrize("cls, extra", INIT_KINDS)
def test_init_orthogonal_per_gate_block(cls, extra):
    model = build(cls, init="orthogonal", **extra)
    assert_orthogonal(model)
    # With several gates the whole matrix is not orthonormal column-wise.
    w = model.weight_hh_l0.detach()
    if w.shape[0] > model.hidden_size:
        assert not torch.allclose(w.T @ w, torch.eye(w.shape[1], dtype=DT), atol=1e-3)


@pytest.mark.parametrize("cls, extra", INIT_KINDS)
def test_init_small_uniform(cls, extra):
    model = build(cls, hidden=8, init="small_uniform", **extra)
    for name, value in model.named_parameters():
        bound = 0.08 if name.startswith("weight_hh") else 1 / math.sqrt(8)
        assert float(value.detach().abs().max()) <= bound, name
        if name.startswith(("weight_ih", "weight_hh")):
            assert float(value.detach().abs().max()) > 0.75 * bound, name  # spans the range


@pytest.mark.parametrize("cls, extra", INIT_KINDS)
def test_init_xavier_per_gate_block(cls, extra):
    hidden = 8
    model = build(cls, hidden=hidden, init="xavier", **extra)
    for name, block in hh_blocks(model):
        rows, cols = block.shape
        bound = math.sqrt(6.0 / (rows + cols))
        total_rows = model.weight_hh_l0.shape[0]
        whole = math.sqrt(6.0 / (total_rows + cols)) if total_rows > rows else 0.0
        assert float(block.abs().max()) <= bound, name
        assert float(block.abs().max()) > max(whole, 0.6 * bound), name  # per block, not whole
    assert float(model.weight_ih_l0.detach().abs().max()) <= 1 / math.sqrt(hidden)  # ih untouched


@pytest.mark.parametrize("kwargs, f_index, gates", [
    pytest.param({}, 1, 4, id="vanilla"),
    pytest.param({"cifg": True}, 0, 3, id="cifg"),
    pytest.param({"variant": "V"}, 1, 4, id="V"),
    pytest.param({"variant": "NIG"}, 0, 3, id="NIG"),
    pytest.param({"variant": "NOG"}, 1, 3, id="NOG"),
    pytest.param({"num_layers": 2, "bidirectional": True, "proj_size": 2}, 1, 4, id="2layer-bi-proj"),
])
@pytest.mark.parametrize("value", [1.0, -2.5])
def test_forget_bias(kwargs, f_index, gates, value):
    model = build(LSTM, forget_bias=value, **kwargs)
    cell = LSTMCell(I, H, forget_bias=value, dtype=DT, **{k: v for k, v in kwargs.items() if k in ("cifg", "variant", "proj_size")})
    checked = 0
    for module in (model, cell):
        for name, b in module.named_parameters():
            if not name.startswith(("bias_ih", "bias_hh")):
                continue
            assert b.shape == (gates * H,)
            rows = b.detach().view(gates, H)
            expected = value if name.startswith("bias_ih") else 0.0
            assert torch.equal(rows[f_index], torch.full((H,), expected, dtype=DT)), name
            others = torch.cat([rows[:f_index], rows[f_index + 1:]])
            assert float(others.abs().max()) <= 1 / math.sqrt(H) and bool((others != 0).all()), name
            checked += 1
    assert checked == 2 * (model.num_layers * model.num_directions + 1)


@pytest.mark.parametrize("cls, stacked", [
    pytest.param(LSTM, True, id="lstm"),
    pytest.param(GRU, True, id="gru"),
    pytest.param(RNN, True, id="rnn"),
    pytest.param(LSTMCell, False, id="lstmcell"),
])
def test_layer_norm_parameters_start_neutral(cls, stacked):
    kwargs = {"num_layers": 2, "bidirectional": True} if stacked else {}
    model = cls(I, H, layer_norm=True, dtype=DT, **kwargs)
    names = {n: p for n, p in model.named_parameters() if "_ln_" in n}
    expected_names = {"weight_ln_ih", "weight_ln_hh"} | ({"weight_ln_c", "bias_ln_c"} if cls in (LSTM, LSTMCell) else set())
    assert {n.split("_l0")[0].split("_l1")[0] for n in names} == expected_names
    for name, p in names.items():
        fill = 0.0 if name.startswith("bias_ln") else 1.0
        assert torch.equal(p, torch.full_like(p, fill)), name


def test_reset_parameters_reapplies_init_forget_bias_and_layer_norm():
    model = build(LSTM, num_layers=2, bidirectional=True, init="orthogonal",
                  forget_bias=1.0, layer_norm=True, cifg=True)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(3.0)
    model.reset_parameters()
    assert_orthogonal(model)
    for name, p in model.named_parameters():
        if name.startswith("bias_ih"):
            assert torch.equal(p[:H], torch.ones(H, dtype=DT)), name  # cifg: f rows first
        elif name.startswith("bias_hh"):
            assert torch.equal(p[:H], torch.zeros(H, dtype=DT)), name
        elif name.startswith(("weight_ln", "bias_ln")):
            fill = 0.0 if name.startswith("bias_ln") else 1.0
            assert torch.equal(p, torch.full_like(p, fill)), name
        if not name.startswith(("weight_ln", "bias_ln")):
            assert float(p.detach().abs().max()) <= 1.0, name  # nothing left at 3.0


def test_cell_reset_parameters_reapplies_init():
    cell = LSTMCell(I, H, init="small_uniform", forget_bias=2.0, dtype=DT)
    with torch.no_grad():
        for p in cell.parameters():
            p.fill_(3.0)
    cell.reset_parameters()
    assert float(cell.weight_hh.detach().abs().max()) <= 0.08
    assert torch.equal(cell.bias_ih[H : 2 * H], torch.full((H,), 2.0, dtype=DT))
    assert torch.equal(cell.bias_hh[H : 2 * H], torch.zeros(H, dtype=DT))
    assert float(cell.weight_ih.detach().abs().max()) <= 1 / math.sqrt(H)
