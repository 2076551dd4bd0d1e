"""Parity with ``torch.nn``: with torch's weights copied in (through ``load_state_dict``),
lstmkit's vanilla LSTM / GRU / RNN layers and cells must give torch's outputs, final
states, parameter gradients and input gradients.

Layer cases are the product of kind x bias x batch_first x bidirectional x num_layers
x proj_size (LSTM only) x input mode x (hx given | hx None), all in float64 at
rtol=atol=1e-10. float32 (rtol=atol=1e-5) runs on a smaller subset (runtime; see
`_layer_cases_f32`) that still covers every kind x proj_size x input mode x
bidirectional; float32 adds no code path of its own, only rounding.

Input modes:
    plain       padded (L, N, H_in) or (N, L, H_in) input, every sequence full.
    unbatched   (L, H_in) input, states without the batch axis.
    packed_*    a PackedSequence from ``pack_padded_sequence(enforce_sorted=False)``,
                lengths all distinct, or with ties (and a max length below L).
    lengths_*   lstmkit gets the padded input and ``lengths=``; torch gets the packed
                equivalent and its output goes through ``pad_packed_sequence``.

The backward pass starts from a random-weighted sum of every output and every final
state, so each of them contributes to every gradient compared.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close

import lstmkit

# torch's own notice when it runs a float32 LSTM with projections on CPU.
pytestmark = pytest.mark.filterwarnings(
    "ignore:LSTM with projections is not supported with oneDNN:UserWarning"
)

L, N, H_IN, H = 5, 3, 3, 4  # sequence length, batch, input size, hidden size
PROJ = 2  # proj_size when projecting (distinct from H_IN, H and N to catch mix-ups)

LENGTHS = {
    "distinct": [2, 5, 3],  # unsorted, longest = L
    "tied": [4, 2, 4],  # a tie, and the longest below L
}

# kind -> (torch class, lstmkit class, extra constructor kwargs)
LAYERS = {
    "LSTM": (torch.nn.LSTM, lstmkit.LSTM, {}),
    "GRU": (torch.nn.GRU, lstmkit.GRU, {}),
    "RNN_TANH": (torch.nn.RNN, lstmkit.RNN, {"nonlinearity": "tanh"}),
    "RNN_RELU": (torch.nn.RNN, lstmkit.RNN, {"nonlinearity": "relu"}),
}
CELLS = {
    "LSTMCell": (torch.nn.LSTMCell, lstmkit.LSTMCell, {}),
    "GRUCell": (torch.nn.GRUCell, lstmkit.GRUCell, {}),
    "RNNCell_tanh": (torch.nn.RNNCell, lstmkit.RNNCell, {"nonlinearity": "tanh"}),
    "RNNCell_relu": (torch.nn.RNNCell, lstmkit.RNNCell, {"nonlinearity": "relu"}),
}
MODES = ("plain", "unbatched", "packed_distinct", "packed_tied", "lengths_distinct", "lengths_tied")


# --------------------------------------------------------------------------- helpers
def _layer_kwargs(
    kind, bias=True, batch_first=False, bidirectional=False, num_layers=1, proj_size=0
):
    kwargs = dict(LAYERS[kind][2])
    kwargs.update(
        num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional
    )
    if proj_size:
        kwargs["proj_size"] = proj_size
    return kwargs


def _layer_pair(kind, dtype, **config):
    """A torch.nn layer and an lstmkit layer holding the same weights (copied from torch)."""
    torch_cls, lk_cls, _ = LAYERS[kind]
    kwargs = _layer_kwargs(kind, **config)
    ref = torch_cls(H_IN, H, dtype=dtype, **kwargs)
    mod = lk_cls(H_IN, H, dtype=dtype, **kwargs)
    mod.load_state_dict(ref.state_dict())  # strict: same keys, same shapes
    return ref, mod


def _as_tuple(state):
    return tuple(state) if isinstance(state, tuple | list) else (state,)


def _weighted_sum(tensors, generator):
    """sum_k <W_k, T_k> with fixed random W_k: every entry of every tensor matters."""
    total = 0
    for t in tensors:
        w = torch.randn(t.shape, dtype=t.dtype, generator=generator)
        total = total + (w * t).sum()
    return total


def _backward(tensors):
    generator = torch.Generator().manual_seed(99)
    _weighted_sum(tensors, generator).backward()


def _assert_param_grads_equal(ref, mod, tol):
    ref_params = dict(ref.named_parameters())
    mod_params = dict(mod.named_parameters())
    assert list(ref_params) == list(mod_params)
    for name, p_ref in ref_params.items():
        p_mod = mod_params[name]
        assert p_ref.grad is not None and p_mod.grad is not None, name
        assert_close(p_mod.grad, p_ref.grad, **tol, msg=lambda m, name=name: f"grad of {name}: {m}")


def _leaf_pair(tensor):
    return tensor.clone().requires_grad_(True), tensor.clone().requires_grad_(True)


def _initial_state(kind, num_stacks, batched, dtype, proj_size):
    """Random ``hx`` (two identical leaf copies), shaped like torch wants it."""
    sizes = [proj_size or H] + ([H] if kind == "LSTM" else [])
    pairs = []
    for size in sizes:
        shape = (num_stacks, N, size) if batched else (num_stacks, size)
        pairs.append(_leaf_pair(torch.randn(shape, dtype=dtype)))
    refs = [p[0] for p in pairs]
    mods = [p[1] for p in pairs]
    if kind == "LSTM":
        return tuple(refs), tuple(mods)
    return refs[0], mods[0]


# --------------------------------------------------------------------------- layers
def _layer_case_id(
    kind, bias, batch_first, bidirectional, num_layers, proj_size, mode, with_hx, dtype
):
    return "-".join(
        [
            kind,
            "bias" if bias else "nobias",
            "bf" if batch_first else "tf",
            "bi" if bidirectional else "uni",
            f"nl{num_layers}",
            f"proj{proj_size}",
            mode,
            "hx" if with_hx else "hxNone",
            str(dtype).removeprefix("torch."),
        ]
    )


def _layer_cases_f64():
    """The full product, in float64."""
    for kind in LAYERS:
        projs = (0, PROJ) if kind == "LSTM" else (0,)
        for bias, bf, bi, nl, proj, mode, with_hx in itertools.product(
            (True, False), (False, True), (False, True), (1, 2, 3), projs, MODES, (False, True)
        ):
            args = (kind, bias, bf, bi, nl, proj, mode, with_hx, torch.float64)
            yield pytest.param(*args, id=_layer_case_id(*args))


def _layer_cases_f32():
    """A float32 subset, for runtime: torch's float32 CPU path (oneDNN) costs up to ~1 s
    per new module, and the full product in float32 would add ~30 s while testing no
    code path of lstmkit that float64 does not. Every kind x proj_size x mode x
    bidirectional; bias, batch_first, hx and num_layers (1, 2, 3) cycle across cases."""
    configs = [("LSTM", 0), ("LSTM", PROJ), ("GRU", 0), ("RNN_TANH", 0), ("RNN_RELU", 0)]
    for k, ((kind, proj), mode, bi) in enumerate(itertools.product(configs, MODES, (False, True))):
        args = (kind, k % 2 == 0, k % 4 < 2, bi, 1 + k % 3, proj, mode, k % 5 < 3, torch.float32)
        yield pytest.param(*args, id=_layer_case_id(*args))


LAYER_ARGS = "kind,bias,batch_first,bidirectional,num_layers,proj_size,mode,with_hx,dtype"


@pytest.mark.parametrize(LAYER_ARGS, [*_layer_cases_f64(), *_layer_cases_f32()])
def test_layer_matches_torch(
    kind, bias, batch_first, bidirectional, num_layers, proj_size, mode, with_hx, dtype, tolerances
):
    tol = tolerances[dtype]
    ref, mod = _layer_pair(
        kind,
        dtype,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        num_layers=num_layers,
        proj_size=proj_size,
    )
    num_stacks = num_layers * (2 if bidirectional else 1)
    batched = mode != "unbatched"
    if not batched:
        shape = (L, H_IN)
    else:
        shape = (N, L, H_IN) if batch_first else (L, N, H_IN)
    x_ref, x_mod = _leaf_pair(torch.randn(shape, dtype=dtype))
    hx_ref, hx_mod = (
        _initial_state(kind, num_stacks, batched, dtype, proj_size) if with_hx else (None, None)
    )

    if mode in ("plain", "unbatched"):
        out_ref, state_ref = ref(x_ref, hx_ref)
        out_mod, state_mod = mod(x_mod, hx_mod)
        outputs = [(out_mod, out_ref)]
    elif mode.startswith("packed"):
        lengths = LENGTHS[mode.split("_")[1]]
        packed_ref = pack_padded_sequence(
            x_ref, lengths, batch_first=batch_first, enforce_sorted=False
        )
        packed_mod = pack_padded_sequence(
            x_mod, lengths, batch_first=batch_first, enforce_sorted=False
        )
        out_ref, state_ref = ref(packed_ref, hx_ref)
        out_mod, state_mod = mod(packed_mod, hx_mod)
        assert isinstance(out_mod, PackedSequence)
        assert torch.equal(out_mod.batch_sizes, out_ref.batch_sizes)
        assert torch.equal(out_mod.sorted_indices, out_ref.sorted_indices)
        assert torch.equal(out_mod.unsorted_indices, out_ref.unsorted_indices)
        outputs = [(out_mod.data, out_ref.data)]
    else:  # lengths: lstmkit padded + lengths= vs torch packed then padded back
        which = mode.split("_")[1]
        lengths = LENGTHS[which]
        packed_ref = pack_padded_sequence(
            x_ref, lengths, batch_first=batch_first, enforce_sorted=False
        )
        out_packed, state_ref = ref(packed_ref, hx_ref)
        out_ref, _ = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=L)
        # Accepted forms of lengths: a tensor for one case, a list of ints for the other.
        given = torch.tensor(lengths) if which == "distinct" else list(lengths)
        out_mod, state_mod = mod(x_mod, hx_mod, lengths=given)
        outputs = [(out_mod, out_ref)]

    for got, want in outputs:
        assert got.shape == want.shape
        assert_close(got, want, **tol)
    states_mod, states_ref = _as_tuple(state_mod), _as_tuple(state_ref)
    assert isinstance(state_mod, tuple) == isinstance(state_ref, tuple)
    assert len(states_mod) == len(states_ref)
    for got, want in zip(states_mod, states_ref):
        assert got.shape == want.shape
        assert_close(got, want, **tol)

    _backward([want for _, want in outputs] + list(states_ref))
    _backward([got for got, _ in outputs] + list(states_mod))
    _assert_param_grads_equal(ref, mod, tol)
    assert_close(x_mod.grad, x_ref.grad, **tol)
    if with_hx:
        for got, want in zip(_as_tuple(hx_mod), _as_tuple(hx_ref)):
            assert_close(got.grad, want.grad, **tol)


# --------------------------------------------------------------------------- cells
def _cell_cases():
    for kind, batched, bias, with_hx, dtype in itertools.product(
        CELLS, (True, False), (True, False), (False, True), (torch.float64, torch.float32)
    ):
        case_id = "-".join(
            [
                kind,
                "batched" if batched else "unbatched",
                "bias" if bias else "nobias",
                "hx" if with_hx else "hxNone",
                str(dtype).removeprefix("torch."),
            ]
        )
        yield pytest.param(kind, batched, bias, with_hx, dtype, id=case_id)


@pytest.mark.parametrize("kind,batched,bias,with_hx,dtype", list(_cell_cases()))
def test_cell_matches_torch(kind, batched, bias, with_hx, dtype, tolerances):
    tol = tolerances[dtype]
    torch_cls, lk_cls, extra = CELLS[kind]
    ref = torch_cls(H_IN, H, bias=bias, dtype=dtype, **extra)
    mod = lk_cls(H_IN, H, bias=bias, dtype=dtype, **extra)
    mod.load_state_dict(ref.state_dict())
    batch = (N,) if batched else ()
    x_ref, x_mod = _leaf_pair(torch.randn(*batch, H_IN, dtype=dtype))
    is_lstm = kind == "LSTMCell"
    hx_ref = hx_mod = None
    if with_hx:
        pairs = [
            _leaf_pair(torch.randn(*batch, H, dtype=dtype)) for _ in range(2 if is_lstm else 1)
        ]
        hx_ref = tuple(p[0] for p in pairs) if is_lstm else pairs[0][0]
        hx_mod = tuple(p[1] for p in pairs) if is_lstm else pairs[0][1]

    out_ref = _as_tuple(ref(x_ref, hx_ref))
    out_mod_raw = mod(x_mod, hx_mod)
    assert isinstance(out_mod_raw, tuple) == is_lstm
    out_mod = _as_tuple(out_mod_raw)
    assert len(out_mod) == len(out_ref)
    for got, want in zip(out_mod, out_ref):
        assert got.shape == want.shape
        assert_close(got, want, **tol)

    _backward(list(out_ref))
    _backward(list(out_mod))
    _assert_param_grads_equal(ref, mod, tol)
    assert_close(x_mod.grad, x_ref.grad, **tol)
    if with_hx:
        for got, want in zip(_as_tuple(hx_mod), _as_tuple(hx_ref)):
            assert_close(got.grad, want.grad, **tol)


# --------------------------------------------------------------------------- same-seed init
INIT_CONFIGS = [
    {},
    {"num_layers": 2, "bidirectional": True},
    {"num_layers": 3, "bias": False, "batch_first": True},
    {"num_layers": 2, "bidirectional": True, "proj_size": PROJ},  # LSTM only
]


def _init_cases():
    for kind in LAYERS:
        for k, config in enumerate(INIT_CONFIGS):
            if config.get("proj_size") and kind != "LSTM":
                continue
            for dtype in (torch.float32, torch.float64):
                yield pytest.param(
                    kind, config, dtype, id=f"{kind}-config{k}-{str(dtype).removeprefix('torch.')}"
                )


@pytest.mark.parametrize("kind,config,dtype", list(_init_cases()))
def test_layer_same_seed_same_init(kind, config, dtype):
    torch_cls, lk_cls, _ = LAYERS[kind]
    kwargs = _layer_kwargs(kind, **config)
    torch.manual_seed(7)
    ref = torch_cls(H_IN, H, dtype=dtype, **kwargs)
    torch.manual_seed(7)
    mod = lk_cls(H_IN, H, dtype=dtype, **kwargs)
    ref_params = list(ref.named_parameters())
    mod_params = list(mod.named_parameters())
    assert [n for n, _ in mod_params] == [n for n, _ in ref_params]  # names and order
    for (name, p_mod), (_, p_ref) in zip(mod_params, ref_params):
        assert p_mod.dtype == p_ref.dtype == dtype, name
        assert torch.equal(p_mod, p_ref), name
    # and the RNG is left where torch leaves it
    torch.manual_seed(7)
    torch_cls(H_IN, H, dtype=dtype, **kwargs)
    after_ref = torch.rand(3)
    torch.manual_seed(7)
    lk_cls(H_IN, H, dtype=dtype, **kwargs)
    assert torch.equal(torch.rand(3), after_ref)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_same_seed_same_init(kind, bias):
    torch_cls, lk_cls, extra = CELLS[kind]
    torch.manual_seed(11)
    ref = torch_cls(H_IN, H, bias=bias, dtype=torch.float64, **extra)
    torch.manual_seed(11)
    mod = lk_cls(H_IN, H, bias=bias, dtype=torch.float64, **extra)
    ref_params = list(ref.named_parameters())
    mod_params = list(mod.named_parameters())
    assert [n for n, _ in mod_params] == [n for n, _ in ref_params]
    for (name, p_mod), (_, p_ref) in zip(mod_params, ref_params):
        assert torch.equal(p_mod, p_ref), name
    if not bias:  # like torch: the attributes exist and are None
        assert mod.bias_ih is None and mod.bias_hh is None


# --------------------------------------------------------------------------- state_dict
STATE_DICT_CASES = [
    pytest.param("LSTM", {"num_layers": 2, "bidirectional": True}, id="LSTM-nl2-bi"),
    pytest.param(
        "LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": PROJ}, id="LSTM-nl2-bi-proj"
    ),
    pytest.param(
        "LSTM", {"num_layers": 3, "bias": False, "batch_first": True}, id="LSTM-nl3-nobias-bf"
    ),
    pytest.param("GRU", {"num_layers": 2, "bidirectional": True}, id="GRU-nl2-bi"),
    pytest.param("RNN_TANH", {"num_layers": 2, "bidirectional": True}, id="RNN_TANH-nl2-bi"),
    pytest.param("RNN_RELU", {"num_layers": 2, "bias": False}, id="RNN_RELU-nl2-nobias"),
]


def _assert_same_state_dict(a, b):
    sd_a, sd_b = a.state_dict(), b.state_dict()
    assert list(sd_a) == list(sd_b)
    for key in sd_a:
        assert sd_a[key].shape == sd_b[key].shape, key
        assert torch.equal(sd_a[key], sd_b[key]), key


def _assert_same_forward(a, b, batch_first, tol):
    shape = (N, L, H_IN) if batch_first else (L, N, H_IN)
    x = torch.randn(shape, dtype=torch.float64)
    out_a, state_a = a(x)
    out_b, state_b = b(x)
    assert_close(out_a, out_b, **tol)
    for sa, sb in zip(_as_tuple(state_a), _as_tuple(state_b)):
        assert_close(sa, sb, **tol)


@pytest.mark.parametrize("source", ["lstmkit", "torch"], ids=["lstmkit-into-torch", "torch-into-lstmkit"])
@pytest.mark.parametrize("kind,config", STATE_DICT_CASES)
def test_state_dict_loads_across(kind, config, source, tolerances):
    """A vanilla layer's state_dict loads unchanged into its torch.nn namesake, both ways."""
    torch_cls, lk_cls, _ = LAYERS[kind]
    kwargs = _layer_kwargs(kind, **config)
    src_cls, dst_cls = (lk_cls, torch_cls) if source == "lstmkit" else (torch_cls, lk_cls)
    torch.manual_seed(1)
    src = src_cls(H_IN, H, dtype=torch.float64, **kwargs)
    torch.manual_seed(2)  # different weights before loading
    dst = dst_cls(H_IN, H, dtype=torch.float64, **kwargs)
    result = dst.load_state_dict(src.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    _assert_same_state_dict(src, dst)
    mod, ref = (src, dst) if source == "lstmkit" else (dst, src)
    _assert_same_forward(mod, ref, kwargs["batch_first"], tolerances[torch.float64])


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_state_dict_round_trip(kind, tolerances):
    torch_cls, lk_cls, extra = CELLS[kind]
    torch.manual_seed(1)
    ref = torch_cls(H_IN, H, dtype=torch.float64, **extra)
    torch.manual_seed(2)
    mod = lk_cls(H_IN, H, dtype=torch.float64, **extra)
    mod.load_state_dict(ref.state_dict(), strict=True)
    _assert_same_state_dict(ref, mod)
    torch.manual_seed(3)
    other = torch_cls(H_IN, H, dtype=torch.float64, **extra)
    other.load_state_dict(mod.state_dict(), strict=True)
    _assert_same_state_dict(mod, other)
    x = torch.randn(N, H_IN, dtype=torch.float64)
    for got, want in zip(_as_tuple(mod(x)), _as_tuple(other(x))):
        assert_close(got, want, **tolerances[torch.float64])


# --------------------------------------------------------------------------- attributes
@pytest.mark.parametrize("kind,config", STATE_DICT_CASES)
def test_layer_attributes_like_torch(kind, config, tolerances):
    ref, mod = _layer_pair(kind, torch.float64, **config)
    for name in (
        "input_size",
        "hidden_size",
        "num_layers",
        "bias",
        "batch_first",
        "bidirectional",
        "proj_size",
        "dropout",
        "mode",
    ):
        assert getattr(mod, name) == getattr(ref, name), name
    if kind.startswith("RNN"):
        assert mod.nonlinearity == ref.nonlinearity

    # all_weights: list (per layer and direction) of lists of the module's Parameters
    assert isinstance(mod.all_weights, list)
    assert len(mod.all_weights) == len(ref.all_weights)
    own = {id(p) for p in mod.parameters()}
    for group_mod, group_ref in zip(mod.all_weights, ref.all_weights):
        assert isinstance(group_mod, list)
        assert len(group_mod) == len(group_ref)
        for w_mod, w_ref in zip(group_mod, group_ref):
            assert isinstance(w_mod, torch.nn.Parameter)
            assert id(w_mod) in own
            assert w_mod.shape == w_ref.shape
            assert torch.equal(w_mod, w_ref)  # same order, since weights were copied

    assert callable(mod.flatten_parameters)
    assert mod.flatten_parameters() is None
    _assert_same_forward(mod, ref, config.get("batch_first", False), tolerances[torch.float64])


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_attributes_like_torch(kind):
    torch_cls, lk_cls, extra = CELLS[kind]
    ref = torch_cls(H_IN, H, **extra)
    mod = lk_cls(H_IN, H, **extra)
    for name in ("input_size", "hidden_size", "bias"):
        assert getattr(mod, name) == getattr(ref, name), name
    if kind.startswith("RNNCell"):
        assert mod.nonlinearity == ref.nonlinearity
