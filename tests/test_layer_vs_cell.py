"""A layer equals a hand-written loop over its own cell, for every variant, with
lengths and the reverse direction (DESIGN tests, item 2)."""

from __future__ import annotations

import pytest
import torch
from shared_cases import LSTM_OPTIONS

import lstmkit

L, N, H_IN, H = 6, 3, 3, 4
LENGTHS = torch.tensor([6, 2, 4])

CASE_OPTIONS = {
    **LSTM_OPTIONS,
    "proj_clip": {"proj_size": 2, "proj_clip": 0.3},
    "cell_clip": {"cell_clip": 0.2},
}
CASES = [("LSTM", "LSTMCell", name, kw) for name, kw in CASE_OPTIONS.items()] + [
    ("GRU", "GRUCell", "gru", {}),
    ("GRU", "GRUCell", "gru-cho", {"reset_after": False}),
    ("GRU", "GRUCell", "gru-cho-ln", {"reset_after": False, "layer_norm": True}),
    ("GRU", "GRUCell", "gru-ln", {"layer_norm": True}),
    ("RNN", "RNNCell", "rnn-tanh", {}),
    ("RNN", "RNNCell", "rnn-relu", {"nonlinearity": "relu"}),
]


def _randomise(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.6, 0.6)


def _cell_for_direction(layer, cell_cls, kw, direction: str):
    cell = cell_cls(H_IN, H, dtype=torch.float64, **kw)
    suffix = "_l0" + direction
    cell.load_state_dict({name: getattr(layer, name + suffix) for name in cell.state_dict()})
    return cell


def _loop(cell, x, lengths, reverse: bool, is_lstm: bool):
    """The hand-written loop: per sequence, only its real steps, in order."""
    outputs = torch.zeros(L, N, cell.output_size if is_lstm else H, dtype=x.dtype)
    finals = []
    for n in range(N):
        steps = range(int(lengths[n]))
        state = None
        for t in (reversed(steps) if reverse else steps):
            state = cell(x[t, n], state)
            outputs[t, n] = state[0] if is_lstm else state
        finals.append(state)
    return outputs, finals


@pytest.mark.parametrize("layer_name,cell_name,case,kw", CASES, ids=[c[2] for c in CASES])
def test_bidirectional_layer_equals_loop_over_its_cell(layer_name, cell_name, case, kw):
    layer = getattr(lstmkit, layer_name)(H_IN, H, bidirectional=True, dtype=torch.float64, **kw)
    _randomise(layer)
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    y, final = layer(x, lengths=LENGTHS)
    is_lstm = layer_name == "LSTM"
    h_n = final[0] if is_lstm else final
    cell_cls = getattr(lstmkit, cell_name)
    for d, (suffix, reverse) in enumerate([("", False), ("_reverse", True)]):
        cell = _cell_for_direction(layer, cell_cls, kw, suffix)
        expected, finals = _loop(cell, x, LENGTHS, reverse, is_lstm)
        width = expected.shape[-1]
        torch.testing.assert_close(y[..., d * width:(d + 1) * width], expected, rtol=1e-12, atol=1e-12)
        for n in range(N):
            torch.testing.assert_close(h_n[d, n], finals[n][0] if is_lstm else finals[n])
            if is_lstm:
                torch.testing.assert_close(final[1][d, n], finals[n][1])


def test_fgr_cell_carries_gate_state_and_layer_matches():
    """FGR: the cell returns (h, c, q); the layer carries q from zero."""
    layer = lstmkit.LSTM(H_IN, H, variant="FGR", dtype=torch.float64)
    _randomise(layer)
    cell = _cell_for_direction(layer, lstmkit.LSTMCell, {"variant": "FGR"}, "")
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    state = cell(x[0])
    assert len(state) == 3 and state[2].shape == (N, 3 * H)
    # A wrong carry (q reset each step) must give a different result than the layer.
    y, _ = layer(x)
    q_reset = None
    for t in range(L):
        q_reset = cell(x[t], None if q_reset is None else q_reset[:2])
    assert not torch.allclose(q_reset[0], y[-1])
