"""`lstmkit.inspect`: recording, gradient flow through time, gate statistics, plots.

Every expectation is computed independently inside the test: gradient norms from a
recurrence written out by hand with torch ops (states kept with ``retain_grad()``), gate
values and memory spans from closed-form sigmoids/tanhs of hand-set weights, and
``norms_by_lag`` from a gradient tensor whose norms are whole numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor

import lstmkit.nn as lnn
from lstmkit.cells.variants import GREFF_VARIANTS
from lstmkit.inspect import (
    gate_statistics,
    gradient_flow,
    memory_spans,
    norms_by_lag,
    plot_gate_histograms,
    plot_gradient_flow,
    record,
    unit_spans,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
GREFF_NAMES = ["V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR"]


# ---------------------------------------------------------------------------- helpers
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-np.asarray(a, dtype=np.float64)))


def _weights(module: torch.nn.Module, suffix: str = "_l0") -> tuple[Tensor, ...]:
    """Copies of ``weight_ih, weight_hh, bias_ih, bias_hh`` that require grad, so the hand
    recurrence builds its own autograd graph (shared with nothing in lstmkit)."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return tuple(getattr(module, n + suffix).detach().clone().requires_grad_(True) for n in names)


def _keep(state: Tensor) -> Tensor:
    state.retain_grad()
    return state


def hand_lstm(x: Tensor, w_ih, w_hh, b_ih, b_hh, *, reverse: bool = False):
    """PyTorch's LSTM over ``x (T, N, I)``; returns ``{t: h_t}``, ``{t: c_t}`` (N, H) each,
    every one a retained autograd node: i, f, g, o = chunks of the pre-activation,
    ``c = f*c + i*g``, ``h = o*tanh(c)``."""
    n, hidden = x.shape[1], w_hh.shape[1]
    h = x.new_zeros(n, hidden)
    c = x.new_zeros(n, hidden)
    hs, cs = {}, {}
    for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
        a = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
        c = _keep(torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g))
        h = _keep(torch.sigmoid(a_o) * torch.tanh(c))
        hs[t], cs[t] = h, c
    return hs, cs


def hand_rnn(x: Tensor, w_ih, w_hh, b_ih, b_hh):
    """``h = tanh(W x + b + U h + b2)``; returns ``{t: h_t}``."""
    h = x.new_zeros(x.shape[1], w_hh.shape[1])
    hs = {}
    for t in range(x.shape[0]):
        h = _keep(torch.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh))
        hs[t] = h
    return hs


def hand_gru(x: Tensor, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's GRU: ``n = tanh(x_n + r*(W_hn h + b_hn))``, ``h = (1-z)*n + z*h``."""
    h = x.new_zeros(x.shape[1], w_hh.shape[1])
    hs = {}
    for t in range(x.shape[0]):
        x_r, x_z, x_n = (x[t] @ w_ih.T + b_ih).chunk(3, dim=-1)
        h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h = _keep((1 - z) * n + z * h)
        hs[t] = h
    return hs


def _grad_norm(state: Tensor) -> Tensor:
    """``(N,)`` L2 norms of ``state.grad`` (zero where the loss never reached it)."""
    grad = state.grad if state.grad is not None else torch.zeros_like(state)
    return grad.norm(dim=-1)


def lag_means(states: dict[int, Tensor], *, reverse: bool = False) -> np.ndarray:
    """``[mean_n ||dL/ds_t[n]||]`` by lag for full-length sequences: the lag of step ``t``
    is ``T-1-t`` forwards and ``t`` for the reverse direction."""
    steps = len(states)
    order = [lag if reverse else steps - 1 - lag for lag in range(steps)]
    return np.array([_grad_norm(states[t]).mean().item() for t in order])


def mse(a: Tensor, b: Tensor) -> Tensor:
    return ((a - b) ** 2).mean()


def set_lstm_gates(model: lnn.LSTM, w_ih, bias) -> lnn.LSTM:
    """Zero recurrence (``weight_hh = 0``, ``bias_hh = 0``) and the given input weights
    and biases (rows i, f, g, o), so that each gate is a function of ``x_t`` alone."""
    with torch.no_grad():
        model.weight_hh_l0.zero_()
        model.bias_hh_l0.zero_()
        model.weight_ih_l0.copy_(torch.as_tensor(w_ih, dtype=torch.float64).reshape(-1, 1))
        model.bias_ih_l0.copy_(torch.as_tensor(bias, dtype=torch.float64))
    return model


def gated_lstm(w_ih, bias) -> lnn.LSTM:
    """``LSTM(1, 2)`` in float64 with hand-set gates (see `set_lstm_gates`)."""
    return set_lstm_gates(lnn.LSTM(1, 2).double(), w_ih, bias)


def by_gate(table) -> dict[str, dict]:
    return {row["gate"]: row for row in table.to_dict("records")}


@pytest.fixture
def data64():
    """``x (T=7, N=2, 3)``, a linear head ``4 -> 1`` and a target, float64."""
    torch.manual_seed(7)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    head = torch.nn.Linear(4, 1).double()
    target = torch.randn(2, 1, dtype=torch.float64)
    return x, head, target


# ----------------------------------------------------- 1. gradient flow == explicit autograd
def test_lstm_gradient_flow_equals_hand_autograd(data64):
    x, head, target = data64
    model = lnn.LSTM(3, 4).double()
    flows = gradient_flow(model, lambda: mse(head(model(x)[0][-1]), target))

    hs, cs = hand_lstm(x, *_weights(model))
    mse(head(hs[6]), target).backward()
    assert len(flows) == 1 and flows[0].kind == "lstm" and flows[0].layer == "layer 0"
    expected_h, expected_c = lag_means(hs), lag_means(cs)
    assert flows[0].h_norm.shape == (7,) and np.all(expected_h > 0)
    np.testing.assert_allclose(flows[0].h_norm, expected_h, **TIGHT)
    np.testing.assert_allclose(flows[0].c_norm, expected_c, **TIGHT)
    # gradient_flow leaves no parameter gradient behind
    assert all(p.grad is None for p in model.parameters())


def test_rnn_gradient_flow_equals_hand_autograd(data64):
    x, head, target = data64
    model = lnn.RNN(3, 4).double()
    flows = gradient_flow(model, lambda: mse(head(model(x)[0][-1]), target))

    hs = hand_rnn(x, *_weights(model))
    mse(head(hs[6]), target).backward()
    assert len(flows) == 1 and flows[0].kind == "rnn_tanh" and flows[0].c_norm is None
    np.testing.assert_allclose(flows[0].h_norm, lag_means(hs), **TIGHT)


def test_gru_gradient_flow_equals_hand_autograd(data64):
    x, head, target = data64
    model = lnn.GRU(3, 4).double()
    flows = gradient_flow(model, lambda: mse(head(model(x)[0][-1]), target))

    hs = hand_gru(x, *_weights(model))
    mse(head(hs[6]), target).backward()
    assert len(flows) == 1 and flows[0].kind == "gru" and flows[0].c_norm is None
    np.testing.assert_allclose(flows[0].h_norm, lag_means(hs), **TIGHT)


def test_bidirectional_gradient_flow_equals_hand_autograd():
    """Both directions, batch 2, a loss on every output step: the reverse direction's lag
    is ``t`` (its last step is ``t = 0``)."""
    torch.manual_seed(11)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    head = torch.nn.Linear(8, 1).double()
    target = torch.randn(5, 2, 1, dtype=torch.float64)
    model = lnn.LSTM(3, 4, bidirectional=True).double()
    flows = gradient_flow(model, lambda: mse(head(model(x)[0]), target))

    hf, cf = hand_lstm(x, *_weights(model))
    hr, cr = hand_lstm(x, *_weights(model, "_l0_reverse"), reverse=True)
    out = torch.stack([torch.cat([hf[t], hr[t]], dim=-1) for t in range(5)])
    mse(head(out), target).backward()
    assert [f.layer for f in flows] == ["layer 0", "layer 0 reverse"]
    np.testing.assert_allclose(flows[0].h_norm, lag_means(hf), **TIGHT)
    np.testing.assert_allclose(flows[0].c_norm, lag_means(cf), **TIGHT)
    np.testing.assert_allclose(flows[1].h_norm, lag_means(hr, reverse=True), **TIGHT)
    np.testing.assert_allclose(flows[1].c_norm, lag_means(cr, reverse=True), **TIGHT)


@pytest.mark.parametrize("which", ["h", "c"])
def test_gradient_flow_with_lengths_counts_lag_from_each_sequence_end(data64, which):
    """lengths [7, 4]: each sequence run alone by hand for its own length; lag 0 is each
    one's last real step, lags 4..6 come from the long sequence only. ``∂L/∂c(t)`` must
    include the path through ``h(t) = o(t) tanh(c(t))`` as without lengths."""
    x, head, target = data64
    lengths = [7, 4]
    model = lnn.LSTM(3, 4).double()
    flows = gradient_flow(
        model, lambda: mse(head(model(x, lengths=torch.tensor(lengths))[1][0][0]), target)
    )

    weights = _weights(model)
    runs = [hand_lstm(x[:length, n:n + 1], *weights) for n, length in enumerate(lengths)]
    finals = torch.cat([hs[length - 1] for (hs, _), length in zip(runs, lengths)])
    mse(head(finals), target).backward()
    position = {"h": 0, "c": 1}[which]
    expected = []
    for lag in range(7):
        norms = [_grad_norm(run[position][length - 1 - lag]).item()
                 for run, length in zip(runs, lengths) if lag < length]
        expected.append(sum(norms) / len(norms))
    got = flows[0].h_norm if which == "h" else flows[0].c_norm
    np.testing.assert_allclose(got, expected, **TIGHT)


# ------------------------------------------------------- 2. norms_by_lag, variable lengths
# Rows with whole-number norms: (3,4)->5, (6,8)->10, (0,1)->1, (0,2)->2, (5,12)->13.
GRADIENT = torch.tensor([
    [[3.0, 4.0], [6.0, 8.0], [0.0, 1.0], [0.0, 2.0]],
    [[5.0, 12.0], [8.0, 6.0], [100.0, 100.0], [100.0, 100.0]],  # steps 2, 3 are padding
])


def _valid(lengths: list[int], steps: int = 4) -> Tensor:
    return torch.arange(steps)[None, :] < torch.tensor(lengths)[:, None]


def test_norms_by_lag_counts_from_each_sequences_last_step():
    # lag 0: (t3 of seq 0: 2, t1 of seq 1: 10); lag 1: (1, 13); lags 2, 3: seq 0 only.
    got = norms_by_lag(GRADIENT, _valid([4, 2]))
    np.testing.assert_array_equal(got, [6.0, 7.0, 10.0, 5.0])


def test_norms_by_lag_is_nan_where_no_sequence_reaches():
    # lengths [3, 2]: seq 0 gives lags 0..2 = (1, 10, 5), seq 1 lags 0..1 = (10, 13).
    got = norms_by_lag(GRADIENT, _valid([3, 2]))
    np.testing.assert_array_equal(got[:3], [5.5, 11.5, 5.0])
    assert np.isnan(got[3])


def test_norms_by_lag_reverse_uses_lag_t():
    # lag = t: seq 0 (5, 10, 1, 2), seq 1 (13, 10) on its two real steps.
    got = norms_by_lag(GRADIENT, _valid([4, 2]), reverse=True)
    np.testing.assert_array_equal(got, [9.0, 10.0, 1.0, 2.0])


def test_norms_by_lag_reverse_single_sequence():
    got = norms_by_lag(GRADIENT[:1], _valid([3]), reverse=True)
    np.testing.assert_array_equal(got[:3], [5.0, 10.0, 1.0])
    assert np.isnan(got[3])


# --------------------------------------------------------------- 3. recording with lengths
@pytest.fixture
def bilstm_recorded():
    """A float32 2-layer bidirectional LSTM run inside `record` with lengths [5, 3], and
    the same forward without recording (fused engine)."""
    torch.manual_seed(3)
    model = lnn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(5, 2, 3)
    lengths = torch.tensor([5, 3])
    recorded, recording = record(model, lambda: model(x, lengths=lengths))
    plain = model(x, lengths=lengths)
    return recorded, plain, recording


def test_record_has_one_trace_per_layer_and_direction(bilstm_recorded):
    _, _, recording = bilstm_recorded
    traces = recording.traces
    assert [(t.layer, t.direction) for t in traces] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [t.name for t in traces] == ["layer 0", "layer 0 reverse", "layer 1",
                                        "layer 1 reverse"]
    expected = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    for trace in traces:
        assert trace.kind == "lstm" and not trace.streaming and trace.steps == 5
        assert trace.lengths.tolist() == [5, 3]
        assert torch.equal(trace.valid(), expected)
        assert trace.hidden().shape == (2, 5, 4) and trace.cell().shape == (2, 5, 4)
    assert recording.layers("") == traces


def test_record_hidden_matches_module_output(bilstm_recorded):
    (out, (h_n, c_n)), (plain_out, _), recording = bilstm_recorded
    forward, backward = recording.traces[2], recording.traces[3]
    both = torch.cat([forward.hidden(), backward.hidden()], dim=-1)  # (N, T, 8)
    valid = forward.valid()
    torch.testing.assert_close(both[valid], out.transpose(0, 1)[valid], rtol=0, atol=0)
    torch.testing.assert_close(both[valid], plain_out.transpose(0, 1)[valid],
                               rtol=1e-5, atol=1e-5)
    # final states: forward at each sequence's last real step, reverse at t = 0
    for k, trace in enumerate(recording.traces):
        for n, length in enumerate([5, 3]):
            t = length - 1 if trace.direction == 0 else 0
            torch.testing.assert_close(trace.hidden()[n, t], h_n[k, n], rtol=0, atol=0)
            torch.testing.assert_close(trace.cell()[n, t], c_n[k, n], rtol=0, atol=0)


def test_record_padded_steps_hold_the_state(bilstm_recorded):
    _, _, recording = bilstm_recorded
    for trace in recording.traces:
        h, c = trace.hidden()[1], trace.cell()[1]  # the short sequence (length 3)
        if trace.direction == 0:  # padding after the end repeats the last real state
            for t in (3, 4):
                assert torch.equal(h[t], h[2]) and torch.equal(c[t], c[2])
            assert not torch.equal(h[2], h[1])
        else:  # the reverse pass starts at step 2: before it, still the zero state
            assert torch.count_nonzero(h[3:]) == 0 and torch.count_nonzero(c[3:]) == 0
            assert torch.count_nonzero(h[2]) > 0


def test_record_does_not_change_the_output(bilstm_recorded):
    (out, (h_n, c_n)), (plain_out, (plain_h, plain_c)), _ = bilstm_recorded
    torch.testing.assert_close(out, plain_out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(h_n, plain_h, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c_n, plain_c, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- 4. gate values
# Rows i0 i1 f0 f1 g0 g1 o0 o1.
W_IH = [0.5, -0.3, 0.2, 0.7, 1.0, -1.5, 0.4, 0.8]
B_IH = [0.1, -0.2, 0.3, 0.0, -0.4, 0.25, 0.6, -0.7]
X_SEQ = np.array([[1.0, -2.0], [0.5, 0.0], [-1.5, 3.0], [2.0, 0.25]])  # (T=4, N=2)


def _run(model: lnn.LSTM, x: np.ndarray):
    """Record one forward over ``x (T, N)`` (one input feature)."""
    inputs = torch.as_tensor(x, dtype=torch.float64)[..., None]
    return record(model, lambda: model(inputs))[1]


def test_gate_values_are_the_hand_activations():
    trace = _run(gated_lstm(W_IH, B_IH), X_SEQ).traces[0]
    pre = X_SEQ.T[..., None] * np.array(W_IH) + np.array(B_IH)  # (N, T, 8)
    expected = {"i": _sigmoid(pre[..., 0:2]), "f": _sigmoid(pre[..., 2:4]),
                "g": np.tanh(pre[..., 4:6]), "o": _sigmoid(pre[..., 6:8])}
    assert trace.gate_names() == ["i", "f", "g", "o"]
    for name, values in expected.items():
        np.testing.assert_allclose(trace.gate(name).numpy(), values, **TIGHT)


def _saturation_model(g_bias: float) -> lnn.LSTM:
    """i = sigmoid(-5), f = sigmoid(5), g = tanh(g_bias), o = 0.5 at every step."""
    return gated_lstm([0.0] * 8, [-5, -5, 5, 5, g_bias, g_bias, 0, 0])


def test_gate_statistics_constant_gates():
    stats = by_gate(gate_statistics(_run(_saturation_model(0.1), X_SEQ), low=0.1, high=0.9))
    assert list(stats) == ["i", "f", "g", "o"]
    expected = {  # gate: (mean, left, right, activation)
        "i": (_sigmoid(-5.0), 1.0, 0.0, "sigmoid"),
        "f": (_sigmoid(5.0), 0.0, 1.0, "sigmoid"),
        # tanh(0.1) = 0.0997 < 0.1, but mapped to (g + 1) / 2 = 0.55 it is not saturated
        "g": (math.tanh(0.1), 0.0, 0.0, "tanh"),
        "o": (0.5, 0.0, 0.0, "sigmoid"),
    }
    for gate, (mean, left, right, activation) in expected.items():
        row = stats[gate]
        assert (row["layer"], row["kind"], row["activation"]) == ("layer 0", "lstm", activation)
        assert row["mean"] == pytest.approx(mean, rel=1e-6)
        assert row["std"] == pytest.approx(0.0, abs=1e-7)
        assert (row["left_saturated"], row["right_saturated"]) == (left, right)
        assert row["saturated"] == left + right


@pytest.mark.parametrize(("g_bias", "left", "right"), [
    (3.0, 0.0, 1.0),    # tanh(3) = 0.995 -> 0.9975
    (1.2, 0.0, 1.0),    # tanh(1.2) = 0.834 -> 0.917 > 0.9 only after the mapping
    (-3.0, 1.0, 0.0),   # tanh(-3) -> 0.0025
    (-1.0, 0.0, 0.0),   # tanh(-1) = -0.76 -> 0.12: not saturated
])
def test_gate_statistics_maps_tanh_to_unit_interval(g_bias, left, right):
    stats = by_gate(gate_statistics(_run(_saturation_model(g_bias), X_SEQ)))
    assert (stats["g"]["left_saturated"], stats["g"]["right_saturated"]) == (left, right)
    assert stats["g"]["mean"] == pytest.approx(math.tanh(g_bias), rel=1e-6)


def test_gate_statistics_half_of_the_steps_saturate():
    # x alternates 1, 0: i = sigmoid(10 x) is 0.99995 or 0.5, f = sigmoid(-10 x) 4.5e-5 or
    # 0.5; with x alternating +-1, g = tanh(10 x) is +-1 (both ends, half each).
    x_on_off = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    stats = by_gate(gate_statistics(_run(gated_lstm([10, 10, -10, -10, 0, 0, 0, 0], [0] * 8),
                                         x_on_off)))
    assert (stats["i"]["left_saturated"], stats["i"]["right_saturated"]) == (0.0, 0.5)
    assert (stats["f"]["left_saturated"], stats["f"]["right_saturated"]) == (0.5, 0.0)
    assert stats["i"]["saturated"] == 0.5
    assert stats["i"]["mean"] == pytest.approx((_sigmoid(10.0) + 0.5) / 2, rel=1e-6)

    x_sign = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]])
    stats = by_gate(gate_statistics(_run(gated_lstm([0, 0, 0, 0, 10, 10, 0, 0], [0] * 8),
                                         x_sign)))
    assert (stats["g"]["left_saturated"], stats["g"]["right_saturated"]) == (0.5, 0.5)
    assert stats["g"]["saturated"] == 1.0


def test_gate_statistics_skips_padded_steps():
    # Step 1 of the second sequence (x = 10) would saturate i; it is padding there.
    model = gated_lstm([1, 1, 0, 0, 0, 0, 0, 0], [0] * 8)
    inputs = torch.tensor([[0.0, 0.0], [0.0, 10.0]], dtype=torch.float64)[..., None]
    recording = record(model, lambda: model(inputs, lengths=torch.tensor([2, 1])))[1]
    assert by_gate(gate_statistics(recording))["i"]["right_saturated"] == 0.0


# ----------------------------------------------------------------------- 5. memory spans
def _span(keep: float) -> float:
    return -1.0 / math.log(keep)


def test_unit_spans_closed_form():
    keep = np.array([[0.5, 1.0, 0.9], [0.25, 1.0, 0.9]])
    got = unit_spans(keep)
    np.testing.assert_allclose(got[[0, 2]], [1 / (1.5 * math.log(2)), _span(0.9)], rtol=1e-12)
    assert got[1] == np.inf


FORGET_BIASES = np.linspace(-1.0, 4.0, 11)  # spans 0.76 .. 55.6 steps, increasing


@pytest.mark.parametrize("steps", [3, 5, 25])
def test_memory_spans_of_a_constant_forget_gate(steps):
    # 11 units with f = sigmoid(b_u) at every step (zero weights): span_u = -1/ln f_u.
    # With 11 sorted spans the 10 %, 50 % and 90 % quantiles are exactly the 2nd, 6th and
    # 10th span, whatever the interpolation rule.
    units = FORGET_BIASES.size
    bias = np.zeros(4 * units)
    bias[units:2 * units] = FORGET_BIASES
    model = set_lstm_gates(lnn.LSTM(1, units).double(), np.zeros(4 * units), bias)
    torch.manual_seed(5)
    recording = _run(model, torch.randn(steps, 2).numpy())
    spans = [_span(_sigmoid(b)) for b in FORGET_BIASES]
    rows = memory_spans(recording).to_dict("records")
    assert len(rows) == 1
    row = rows[0]
    assert (row["layer"], row["kind"], row["gate"], row["units"]) == ("layer 0", "lstm", "f",
                                                                       units)
    assert row["sequence_length"] == steps
    assert row["span_p10"] == pytest.approx(spans[1], rel=1e-5)
    assert row["span_median"] == pytest.approx(spans[5], rel=1e-5)
    assert row["span_p90"] == pytest.approx(spans[9], rel=1e-5)
    longer = sum(span > steps for span in spans) / units  # 7/11, 5/11, 2/11
    assert row["longer_than_sequence"] == pytest.approx(longer, abs=1e-12)


def test_memory_spans_nfg_never_forgets():
    model = lnn.LSTM(1, 3, variant="NFG").double()
    recording = record(model, lambda: model(torch.randn(4, 2, 1, dtype=torch.float64)))[1]
    row = memory_spans(recording).to_dict("records")[0]
    assert (row["gate"], row["units"]) == ("f", 3)
    assert row["span_median"] == np.inf and row["span_p10"] == np.inf
    assert row["longer_than_sequence"] == 1.0


def test_memory_spans_gru_uses_z():
    model = lnn.GRU(1, 3).double()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.bias_ih_l0[3:6] = torch.tensor([0.5, 1.0, 2.0])  # z rows: z = sigmoid(b)
    recording = record(model, lambda: model(torch.randn(6, 2, 1, dtype=torch.float64)))[1]
    row = memory_spans(recording).to_dict("records")[0]
    assert (row["kind"], row["gate"], row["units"], row["sequence_length"]) == ("gru", "z", 3, 6)
    # spans 2.11, 3.17, 7.63 steps: only the last outlives the 6-step sequence
    assert row["span_median"] == pytest.approx(_span(_sigmoid(1.0)), rel=1e-5)
    assert row["longer_than_sequence"] == pytest.approx(1 / 3, abs=1e-12)


def test_memory_spans_and_gate_statistics_of_a_plain_rnn_are_empty():
    model = lnn.RNN(1, 2).double()
    recording = record(model, lambda: model(torch.randn(4, 2, 1, dtype=torch.float64)))[1]
    spans = memory_spans(recording)
    assert len(spans) == 0 and "span_median" in spans.columns
    assert len(gate_statistics(recording)) == 0


# -------------------------------------------------------------------------- 6. streaming
def _stream(model: torch.nn.Module, x: Tensor):
    outputs, state = [], None
    for t in range(x.shape[0]):
        y, state = model.step(x[t], state)
        outputs.append(y)
    return outputs, state


def test_streamed_steps_form_one_trace():
    torch.manual_seed(9)
    model = lnn.LSTM(3, 4).double()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    (outputs, (_, c)), recording = record(model, lambda: _stream(model, x))
    assert len(recording.traces) == 1
    trace = recording.traces[0]
    assert trace.streaming and trace.steps == 6 and (trace.layer, trace.direction) == (0, 0)
    torch.testing.assert_close(trace.hidden(), torch.stack(outputs, dim=1), rtol=0, atol=0)
    torch.testing.assert_close(trace.cell()[:, -1], c[0], rtol=0, atol=0)
    hs, cs = hand_lstm(x, *_weights(model))
    torch.testing.assert_close(trace.hidden(), torch.stack([hs[t] for t in range(6)], 1))
    torch.testing.assert_close(trace.cell(), torch.stack([cs[t] for t in range(6)], 1))


def test_streamed_two_layers_give_one_trace_per_layer():
    model = lnn.GRU(3, 4, num_layers=2).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    (outputs, h), recording = record(model, lambda: _stream(model, x))
    assert [(t.layer, t.steps, t.streaming) for t in recording.traces] == [(0, 5, True),
                                                                           (1, 5, True)]
    torch.testing.assert_close(recording.traces[1].hidden(), torch.stack(outputs, dim=1),
                               rtol=0, atol=0)
    torch.testing.assert_close(recording.traces[0].hidden()[:, -1], h[0], rtol=0, atol=0)


def test_streamed_gradient_flow_equals_hand_autograd(data64):
    x, head, target = data64
    model = lnn.LSTM(3, 4).double()
    flows = gradient_flow(model, lambda: mse(head(_stream(model, x)[0][-1]), target))
    hs, cs = hand_lstm(x, *_weights(model))
    mse(head(hs[6]), target).backward()
    assert len(flows) == 1
    np.testing.assert_allclose(flows[0].h_norm, lag_means(hs), **TIGHT)
    np.testing.assert_allclose(flows[0].c_norm, lag_means(cs), **TIGHT)


# ------------------------------------------------------------------------------ 7. errors
def test_record_without_a_recurrent_layer_is_refused():
    linear = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="no lstmkit recurrent layer"):
        record(linear, lambda: linear(torch.randn(3, 2)))


def test_gradient_flow_needs_a_scalar_loss_with_a_graph():
    model = lnn.LSTM(2, 3)
    x = torch.randn(4, 1, 2)
    with pytest.raises(ValueError, match="loss must return a scalar"):
        gradient_flow(model, lambda: model(x)[0])
    with pytest.raises(ValueError, match="loss must return a scalar"):
        gradient_flow(model, lambda: model(x)[0].sum().item())

    def detached():
        with torch.no_grad():
            return model(x)[0].sum()

    with pytest.raises(ValueError, match="does not depend on any parameter"):
        gradient_flow(model, detached)


def test_trace_rejects_unknown_gate_and_cell_gradient_of_gru():
    lstm, gru = lnn.LSTM(2, 3), lnn.GRU(2, 3)
    x = torch.randn(4, 1, 2)
    lstm_trace = record(lstm, lambda: lstm(x))[1].traces[0]
    with pytest.raises(ValueError, match=r"gate must be one of .*\(i, f, g, o\), got 'x'"):
        lstm_trace.gate("x")
    gru_trace = record(gru, lambda: gru(x))[1].traces[0]
    with pytest.raises(ValueError, match=r"\(r, z, n\)"):
        gru_trace.gate("f")
    with pytest.raises(ValueError, match="which must be 'h' for a gru layer, got 'c'"):
        gru_trace.gradient("c")
    with pytest.raises(ValueError, match="which must be 'h' or 'c'"):
        lstm_trace.gradient("q")
    assert gru_trace.cell() is None


def test_gate_statistics_and_layers_reject_bad_arguments():
    model = lnn.LSTM(2, 3)
    recording = record(model, lambda: model(torch.randn(4, 1, 2)))[1]
    with pytest.raises(ValueError, match="low and high must satisfy"):
        gate_statistics(recording, low=0.5, high=0.2)
    with pytest.raises(ValueError, match="low and high must satisfy"):
        gate_statistics(recording, low=0.0, high=0.9)
    with pytest.raises(ValueError, match=r"module must name a recorded recurrent module "
                                         r"\(''\), got 'nope'"):
        recording.layers("nope")


# ------------------------------------------------------------------------------- 8. plots
@pytest.fixture
def lstm_recording_and_flows(data64):
    x, head, target = data64
    model = lnn.LSTM(3, 4).double()
    flows = gradient_flow(model, lambda: mse(head(model(x)[0][-1]), target))
    return record(model, lambda: model(x))[1], flows


def test_plot_gradient_flow_writes_png_and_never_overwrites(tmp_path, lstm_recording_and_flows):
    _, flows = lstm_recording_and_flows
    path = plot_gradient_flow(flows, tmp_path / "flow.png", title="t")
    assert path == tmp_path / "flow.png" and path.read_bytes().startswith(b"\x89PNG")
    existing = tmp_path / "old.png"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="already exists"):
        plot_gradient_flow(flows, existing)
    assert existing.read_bytes() == b"keep me"


def test_plot_gate_histograms_writes_png_and_never_overwrites(tmp_path,
                                                              lstm_recording_and_flows):
    recording, _ = lstm_recording_and_flows
    path = plot_gate_histograms(recording, tmp_path / "gates.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    existing = tmp_path / "old.png"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="already exists"):
        plot_gate_histograms(recording, existing)
    assert existing.read_bytes() == b"keep me"


def test_plot_gate_histograms_of_a_plain_rnn_is_refused(tmp_path):
    model = lnn.RNN(2, 3)
    recording = record(model, lambda: model(torch.randn(4, 1, 2)))[1]
    with pytest.raises(ValueError, match="no layer with gates"):
        plot_gate_histograms(recording, tmp_path / "rnn.png")
    assert not (tmp_path / "rnn.png").exists()


# ---------------------------------------------------------------------------- 9. variants
def test_the_variant_list_is_complete():
    assert sorted(GREFF_NAMES) == sorted(GREFF_VARIANTS)


@pytest.mark.parametrize("name", GREFF_NAMES + ["GRU", "RNN"])
def test_gradient_flow_of_every_variant_is_finite(name):
    torch.manual_seed(2)
    if name == "GRU":
        model = lnn.GRU(3, 4).double()
    elif name == "RNN":
        model = lnn.RNN(3, 4).double()
    else:
        model = lnn.LSTM(3, 4, variant=name).double()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    flows = gradient_flow(model, lambda: model(x)[0][-1].pow(2).sum())
    assert len(flows) == 1
    flow = flows[0]
    assert flow.h_norm.shape == (6,) and np.all(np.isfinite(flow.h_norm))
    assert flow.h_norm[0] > 0
    if name in GREFF_NAMES:
        assert flow.kind == "lstm"
        assert flow.c_norm is not None and flow.c_norm.shape == (6,)
        assert np.all(np.isfinite(flow.c_norm)) and flow.c_norm[0] > 0
    else:
        assert flow.c_norm is None
