"""The vendor backend (PyTorch's fused op) against the reference engine (DESIGN tests,
item 3), and its refusals.

Vendor serves torch's own configurations only: LSTM without variant options (with or
without projection), GRU with ``reset_after=True``, RNN tanh/relu, none of them with
layer norm, clips or noise masks; lengths and reverse are served. Engine level: forward,
every final state and the gradients of ``x``, every ``state0`` tensor and every
parameter, from a random upstream gradient on ``y`` and on every final state; float64
at rtol=atol=1e-10 for every case, float32 at rtol=atol=1e-5 (bias on, every run
condition). Module level: two layers, bidirectional, with lengths or packed, against
``backend="reference"``. ``backend="auto"`` must be exactly ``torch.nn`` on vanilla
layers (both run the same fused op).
"""

from __future__ import annotations

import re

import pytest
import torch
from shared_cases import PROJ, randomise
from torch.nn.utils.rnn import pack_padded_sequence
from torch.testing import assert_close

import lstmkit
from lstmkit.cells import NO_MASKS, CellSpec, LayerParams, Masks, lstm_spec
from lstmkit.engine import run_layer
from lstmkit.nn.layout import parameter_shapes

# torch's own notice when it runs a float32 LSTM with projections on CPU.
pytestmark = pytest.mark.filterwarnings(
    "ignore:LSTM with projections is not supported with oneDNN:UserWarning"
)

FAST = "vendor"  # the backend under test; everything is compared with "reference"
L, N, H_IN, H = 6, 4, 3, 5
LENGTHS = (6, 1, 4, 2)  # distinct, one full-length, one of length 1

# served configuration -> (spec, proj_size)
SERVED = {
    "lstm": (lstm_spec(), 0),
    "lstm_proj": (lstm_spec(projection=True), PROJ),
    "gru": (CellSpec(kind="gru"), 0),
    "rnn_tanh": (CellSpec(kind="rnn_tanh"), 0),
    "rnn_relu": (CellSpec(kind="rnn_relu"), 0),
}
CONDITIONS = {  # name -> (lengths, reverse)
    "plain": (False, False),
    "lengths": (True, False),
    "reverse": (False, True),
    "lengths_reverse": (True, True),
}


# --------------------------------------------------------------------------- harness
def make_params(spec: CellSpec, proj: int, bias: bool, dtype) -> LayerParams:
    shapes = parameter_shapes(spec, H_IN, H, proj, bias)
    return LayerParams(**{
        name: torch.empty(shape, dtype=dtype).uniform_(-0.5, 0.5).requires_grad_()
        for name, shape in shapes.items()
    })


def make_state0(spec: CellSpec, proj: int, dtype) -> tuple[torch.Tensor, ...]:
    sizes = (proj or H, H) if spec.has_cell_state else (H,)  # (h (N, H_out), c (N, H_cell))
    return tuple(torch.randn(N, size, dtype=dtype, requires_grad=True) for size in sizes)


def run_with_grads(backend, x, state0, params, spec, **kwargs):
    """``(y, *state_n)`` and the gradients of x, state0 and every present parameter,
    from a fixed random upstream gradient on every output."""
    y, state = run_layer(x, state0, params, spec, backend=backend, **kwargs)
    outputs = (y, *state)
    generator = torch.Generator().manual_seed(99)
    upstream = [torch.randn(o.shape, dtype=o.dtype, generator=generator) for o in outputs]
    leaves = [x, *state0, *(p for p in params if p is not None)]
    return [o.detach() for o in outputs], torch.autograd.grad(outputs, leaves, upstream)


def scaled(tol: dict, want: torch.Tensor) -> dict:
    """float32 rounding is relative to a tensor's largest entries (a gradient entry is a
    sum over steps of terms that can be far larger than it), so there ``atol`` is scaled
    by ``max(1, max|want|)``; float64 keeps the plain tolerances."""
    if want.dtype != torch.float32:
        return tol
    return {**tol, "atol": tol["atol"] * max(1.0, float(want.abs().max()))}


# --------------------------------------------------------------------------- engine level
def _engine_cases():
    for name in SERVED:
        for condition in CONDITIONS:
            for bias in (True, False):
                yield pytest.param(name, condition, bias, torch.float64,
                                   id=f"{name}-{condition}-{'bias' if bias else 'nobias'}-float64")
            yield pytest.param(name, condition, True, torch.float32,
                               id=f"{name}-{condition}-bias-float32")


@pytest.mark.parametrize("name,condition,bias,dtype", list(_engine_cases()))
def test_vendor_equals_reference(name, condition, bias, dtype, tolerances):
    tol = tolerances[dtype]
    spec, proj = SERVED[name]
    with_lengths, reverse = CONDITIONS[condition]
    x = torch.randn(L, N, H_IN, dtype=dtype, requires_grad=True)
    state0 = make_state0(spec, proj, dtype)
    params = make_params(spec, proj, bias, dtype)
    kwargs = {"lengths": torch.tensor(LENGTHS) if with_lengths else None, "reverse": reverse}
    want, want_grads = run_with_grads("reference", x, state0, params, spec, **kwargs)
    got, got_grads = run_with_grads(FAST, x, state0, params, spec, **kwargs)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape
        assert_close(g, w, **scaled(tol, w), msg=lambda m, k=k: f"output {k}: {m}")
    names = ["x", *(f"state0[{k}]" for k in range(len(state0))),
             *(n for n, p in zip(LayerParams._fields, params) if p is not None)]
    for name_, g, w in zip(names, got_grads, want_grads, strict=True):
        assert_close(g, w, **scaled(tol, w), msg=lambda m, n=name_: f"grad of {n}: {m}")


# --------------------------------------------------------------------------- refusals
def make_masks(which: str | None, spec: CellSpec, proj: int) -> Masks:
    """The noise ``nn`` would pass: ``"recurrent"`` (training recurrent dropout),
    ``"zoneout_train"`` (0/1 per step), ``"zoneout_eval"`` (0-d rates)."""
    if which is None:
        return NO_MASKS
    h_out, cell = proj or H, spec.has_cell_state

    def bernoulli(shape, p):
        return torch.bernoulli(torch.full(shape, p, dtype=torch.float64))

    if which == "recurrent":
        return Masks(recurrent=bernoulli((N, h_out), 0.7) / 0.7)
    if which == "zoneout_train":
        return Masks(zoneout_h=bernoulli((L, N, h_out), 0.3),
                     zoneout_c=bernoulli((L, N, H), 0.3) if cell else None)
    assert which == "zoneout_eval"
    return Masks(zoneout_h=torch.tensor(0.3, dtype=torch.float64),
                 zoneout_c=torch.tensor(0.2, dtype=torch.float64) if cell else None)


# name -> (spec, proj_size, masks (see make_masks), what the reason must say (regex, any case))
UNSUPPORTED = {
    "peephole": (lstm_spec(peephole=True), 0, None, r"peephole"),
    "cifg": (lstm_spec(cifg=True), 0, None, r"cifg|coupled|input_gate"),
    "layer_norm": (lstm_spec(layer_norm=True), 0, None, r"layer.?norm"),
    "cell_clip": (lstm_spec(cell_clip=0.5), 0, None, r"clip"),
    "proj_clip": (lstm_spec(projection=True, proj_clip=0.5), PROJ, None, r"clip"),
    **{f"greff_{v}": (lstm_spec(variant=v), 0, None, r"")
       for v in ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "CIFG", "FGR")},
    "gru_reset_before": (CellSpec(kind="gru", reset_after=False), 0, None, r"reset.?after"),
    "gru_layer_norm": (CellSpec(kind="gru", layer_norm=True), 0, None, r"layer.?norm"),
    "rnn_layer_norm": (CellSpec(kind="rnn_tanh", layer_norm=True), 0, None, r"layer.?norm"),
    "lstm_recurrent_dropout": (lstm_spec(), 0, "recurrent", r"dropout|mask"),
    "lstm_zoneout_train": (lstm_spec(), 0, "zoneout_train", r"zoneout|mask"),
    "lstm_zoneout_eval": (lstm_spec(), 0, "zoneout_eval", r"zoneout|mask"),
    "lstm_proj_zoneout_eval": (lstm_spec(projection=True), PROJ, "zoneout_eval", r"zoneout|mask"),
    "gru_recurrent_dropout": (CellSpec(kind="gru"), 0, "recurrent", r"dropout|mask"),
    "gru_zoneout_eval": (CellSpec(kind="gru"), 0, "zoneout_eval", r"zoneout|mask"),
    "rnn_zoneout_train": (CellSpec(kind="rnn_relu"), 0, "zoneout_train", r"zoneout|mask"),
}


@pytest.mark.parametrize("spec,proj,masks,reason", list(UNSUPPORTED.values()),
                         ids=list(UNSUPPORTED))
def test_forced_vendor_refuses_what_it_cannot_run(spec, proj, masks, reason):
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    state0 = make_state0(spec, proj, torch.float64)
    if spec.gate_recurrence:
        state0 = (*state0, torch.zeros(N, len(spec.sigmoid_gates) * H, dtype=torch.float64))
    params = make_params(spec, proj, True, torch.float64)
    with pytest.raises(ValueError, match=FAST) as info:
        run_layer(x, state0, params, spec, masks=make_masks(masks, spec, proj), backend=FAST)
    assert re.search(reason, str(info.value), flags=re.IGNORECASE), (
        f"the message should say why ({reason!r}): {info.value}"
    )


# name -> (class, options, train mode, what the reason must say (regex, any case))
UNSUPPORTED_MODULES = {
    "lstm_peephole": (lstmkit.LSTM, {"peephole": True}, False, r"peephole"),
    "lstm_cifg": (lstmkit.LSTM, {"cifg": True}, False, r"cifg|coupled|input_gate"),
    "lstm_variant_NOAF": (lstmkit.LSTM, {"variant": "NOAF"}, False, r""),
    "lstm_layer_norm": (lstmkit.LSTM, {"layer_norm": True}, False, r"layer.?norm"),
    "lstm_cell_clip": (lstmkit.LSTM, {"cell_clip": 0.5}, False, r"clip"),
    "lstm_proj_clip": (lstmkit.LSTM, {"proj_size": PROJ, "proj_clip": 0.5}, False, r"clip"),
    "lstm_zoneout_train": (lstmkit.LSTM, {"zoneout": 0.1}, True, r"zoneout|mask"),
    # in eval() zoneout passes 0-d rates: still masks, still refused
    "lstm_zoneout_eval": (lstmkit.LSTM, {"zoneout": 0.1}, False, r"zoneout|mask"),
    "lstm_recurrent_dropout_train": (
        lstmkit.LSTM, {"recurrent_dropout": 0.2}, True, r"dropout|mask"
    ),
    "gru_reset_before": (lstmkit.GRU, {"reset_after": False}, False, r"reset.?after"),
    "gru_layer_norm": (lstmkit.GRU, {"layer_norm": True}, False, r"layer.?norm"),
    "gru_zoneout_eval": (lstmkit.GRU, {"zoneout": 0.1}, False, r"zoneout|mask"),
    "rnn_layer_norm": (lstmkit.RNN, {"layer_norm": True}, False, r"layer.?norm"),
    "rnn_recurrent_dropout_train": (lstmkit.RNN, {"recurrent_dropout": 0.2}, True,
                                    r"dropout|mask"),
}


@pytest.mark.parametrize("cls,kw,train,reason", list(UNSUPPORTED_MODULES.values()),
                         ids=list(UNSUPPORTED_MODULES))
def test_vendor_module_refuses_what_it_cannot_run(cls, kw, train, reason):
    """The refusal may come at construction or at the first forward, never silently."""
    x = torch.randn(L, N, 4)
    with pytest.raises(ValueError, match=FAST) as info:
        cls(4, 5, backend=FAST, **kw).train(train)(x)
    assert re.search(reason, str(info.value), flags=re.IGNORECASE), (
        f"the message should say why ({reason!r}): {info.value}"
    )


# --------------------------------------------------------------------------- modules
# name -> (class, options, train mode)
MODULE_CASES = {
    "lstm": (lstmkit.LSTM, {}, False),
    "lstm_proj_nobias": (lstmkit.LSTM, {"proj_size": PROJ, "bias": False}, False),
    "lstm_dropout_eval": (lstmkit.LSTM, {"dropout": 0.3}, False),
    # recurrent dropout in eval() passes no mask at all
    "lstm_recurrent_dropout_eval": (lstmkit.LSTM, {"recurrent_dropout": 0.3}, False),
    "gru": (lstmkit.GRU, {}, False),
    "gru_dropout_eval": (lstmkit.GRU, {"dropout": 0.3}, False),
    "rnn_tanh": (lstmkit.RNN, {}, False),
    "rnn_relu_nobias": (lstmkit.RNN, {"nonlinearity": "relu", "bias": False}, False),
}
NOISE_SEED = 2024


def _module_run(module, x, hx, mode):
    """Output tensor(s) and final states, and the grads of x, hx and every parameter."""
    x = x.clone().requires_grad_()
    hx = [h.clone().requires_grad_() for h in hx]
    if mode == "packed":
        out, state = module(pack_padded_sequence(x, list(LENGTHS), enforce_sorted=False),
                            tuple(hx) if len(hx) > 1 else hx[0])
        out = out.data
    else:
        out, state = module(x, tuple(hx) if len(hx) > 1 else hx[0], lengths=torch.tensor(LENGTHS))
    outputs = [out, *(state if isinstance(state, tuple) else (state,))]
    generator = torch.Generator().manual_seed(7)
    sum((torch.randn(o.shape, dtype=o.dtype, generator=generator) * o).sum()
        for o in outputs).backward()
    grads = {"x": x.grad, **{f"hx{k}": h.grad for k, h in enumerate(hx)},
             **{name: p.grad for name, p in module.named_parameters()}}
    return [o.detach() for o in outputs], grads


@pytest.mark.parametrize("mode", ["lengths", "packed"])
@pytest.mark.parametrize("cls,kw,train", list(MODULE_CASES.values()), ids=list(MODULE_CASES))
def test_vendor_module_equals_reference_module(cls, kw, train, mode, tolerances):
    tol = tolerances[torch.float64]
    modules = {
        backend: cls(H_IN, H, num_layers=2, bidirectional=True, dtype=torch.float64,
                     backend=backend, **kw).train(train)
        for backend in ("reference", FAST)
    }
    randomise(modules["reference"])
    modules[FAST].load_state_dict(modules["reference"].state_dict())
    x = torch.randn(L, N, H_IN, dtype=torch.float64)
    hx = [torch.randn(4, N, size, dtype=torch.float64) for size in modules[FAST].state_sizes]
    results = {}
    for backend, module in modules.items():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(NOISE_SEED)
            results[backend] = _module_run(module, x, hx, mode)
    (want, want_grads), (got, got_grads) = results["reference"], results[FAST]
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_close(g, w, **tol, msg=lambda m, k=k: f"output {k}: {m}")
    assert list(got_grads) == list(want_grads)
    for name, w in want_grads.items():
        assert w is not None and got_grads[name] is not None, name
        assert_close(got_grads[name], w, **tol, msg=lambda m, name=name: f"grad of {name}: {m}")


# --------------------------------------------------------------------------- auto == torch.nn
AUTO_CASES = {
    "LSTM": (torch.nn.LSTM, lstmkit.LSTM, {}),
    "LSTM_proj": (torch.nn.LSTM, lstmkit.LSTM, {"proj_size": PROJ}),
    "GRU": (torch.nn.GRU, lstmkit.GRU, {}),
    "RNN_relu": (torch.nn.RNN, lstmkit.RNN, {"nonlinearity": "relu"}),
}


@pytest.mark.parametrize("torch_cls,lk_cls,kw", list(AUTO_CASES.values()), ids=list(AUTO_CASES))
def test_auto_is_torch_exactly_on_vanilla_layers(torch_cls, lk_cls, kw, tolerances):
    """float32: both run torch's fused op, so outputs agree to the last bit (1e-12);
    gradients to float32 rounding."""
    ref = torch_cls(H_IN, H, **kw)
    mod = lk_cls(H_IN, H, **kw)
    assert mod.backend == "auto"
    mod.load_state_dict(ref.state_dict())
    x = torch.randn(L, N, H_IN)
    sizes = mod.state_sizes
    hx = [torch.randn(1, N, size) for size in sizes]
    runs = []
    for module in (ref, mod):
        x_leaf = x.clone().requires_grad_()
        out, state = module(x_leaf, tuple(hx) if len(hx) > 1 else hx[0])
        states = state if isinstance(state, tuple) else (state,)
        (out.sum() + sum(s.sum() for s in states)).backward()
        runs.append(([out, *states], x_leaf.grad, [p.grad for p in module.parameters()]))
    (want, want_x, want_p), (got, got_x, got_p) = runs
    for g, w in zip(got, want, strict=True):
        assert_close(g, w, rtol=0, atol=1e-12)
    assert_close(got_x, want_x, **tolerances[torch.float32])
    for g, w in zip(got_p, want_p, strict=True):
        assert_close(g, w, **tolerances[torch.float32])
