"""The native backend (compiled kernel, hand-written BPTT) against the reference engine
(DESIGN tests, items 3 and 4).

Engine level: every LSTM option and both GRU forms, each under every run condition
(`CONDITIONS`), comparing ``y``, every final state tensor and the gradients of ``x``,
every ``state0`` tensor and every parameter; the backward pass starts from a random
upstream gradient on ``y`` and on every final state. float64 at rtol=atol=1e-10 for
every case; float32 at rtol=atol=1e-5 (``atol`` scaled by the tensor's largest
magnitude, see `scaled`) under the run condition that exercises the most code (masks,
lengths and reverse together). Then gradcheck through the native backend,
whole modules (two layers, bidirectional, packed) against ``backend="reference"``, and
the cached build.

The module skips when the native backend cannot build here; `test_engine_dispatch`
fails instead when that happens on a machine with a C++ compiler.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch
from shared_cases import LSTM_OPTIONS, PROJ, randomise
from torch.autograd import gradcheck
from torch.nn.utils.rnn import pack_padded_sequence
from torch.testing import assert_close

import lstmkit
from lstmkit.cells import NO_MASKS, CellSpec, LayerParams, Masks, lstm_spec
from lstmkit.engine import run_layer
from lstmkit.nn.layout import parameter_shapes

FAST = "native"  # the backend under test; everything is compared with "reference"

from lstmkit.engine.native import is_available

if not is_available():
    pytest.skip(
        "the native backend is not available on this machine (no C++ toolchain?)",
        allow_module_level=True,
    )


@dataclass(frozen=True)
class Dims:
    L: int  # sequence length
    N: int  # batch
    H_in: int  # input size
    H: int  # cell size
    lengths: tuple[int, ...]  # distinct, one full-length, one of length 1


DIMS = Dims(L=6, N=4, H_in=3, H=5, lengths=(6, 1, 4, 2))
TINY = Dims(L=3, N=3, H_in=2, H=3, lengths=(3, 1, 2))  # for gradcheck
CELL_CLIP = 0.3
PROJ_CLIP = 0.1

# run condition -> (lengths, reverse, masks: None | "train" (0/1 per step) | "eval" (0-d rates))
CONDITIONS = {
    "plain": (False, False, None),
    "lengths_reverse": (True, True, None),
    "train_masks_lengths_reverse": (True, True, "train"),
    "eval_rates_lengths": (True, False, "eval"),
}
FLOAT32_CONDITION = "train_masks_lengths_reverse"


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    spec: CellSpec
    proj: int = 0  # proj_size (H_out when > 0)
    bias: bool = True


def lstm_case(options: dict) -> Case:
    """An `LSTM_OPTIONS`-style dict (proj_size, bias, lstm_spec keywords) as a Case."""
    kw = dict(options)
    proj = kw.pop("proj_size", 0)
    bias = kw.pop("bias", True)
    return Case(lstm_spec(projection=proj > 0, **kw), proj, bias)


LSTM_CASES = {
    name: lstm_case(kw)
    for name, kw in {
        **LSTM_OPTIONS,
        "cell_clip": {"cell_clip": CELL_CLIP},
        "proj_clip": {"proj_size": PROJ, "proj_clip": PROJ_CLIP},
        "cifg_peephole_ln_proj_clips": {
            "cifg": True, "peephole": True, "layer_norm": True, "proj_size": PROJ,
            "cell_clip": CELL_CLIP, "proj_clip": PROJ_CLIP,
        },
        "FGR_peephole_ln": {"variant": "FGR", "peephole": True, "layer_norm": True},
        "FGR_ln_proj_nobias": {"variant": "FGR", "layer_norm": True, "proj_size": PROJ,
                               "bias": False},
        "peephole_nobias": {"peephole": True, "bias": False},
    }.items()
}
GRU_CASES = {
    f"gru_reset_after_{ra}{'_ln' if ln else ''}": Case(
        CellSpec(kind="gru", reset_after=ra, layer_norm=ln)
    )
    for ra in (True, False)
    for ln in (False, True)
}
GRU_CASES["gru_cho_ln_nobias"] = Case(
    CellSpec(kind="gru", reset_after=False, layer_norm=True), bias=False
)
ALL_CASES = {**LSTM_CASES, **GRU_CASES}


# --------------------------------------------------------------------------- harness
def make_params(case: Case, dims: Dims, dtype: torch.dtype) -> LayerParams:
    """Leaf tensors: U(-0.5, 0.5), layer-norm gains U(0.5, 1.5) (as `randomise`)."""
    shapes = parameter_shapes(case.spec, dims.H_in, dims.H, case.proj, case.bias)
    tensors = {}
    for name, shape in shapes.items():
        low, high = (0.5, 1.5) if name.startswith("weight_ln") else (-0.5, 0.5)
        tensors[name] = torch.empty(shape, dtype=dtype).uniform_(low, high).requires_grad_()
    return LayerParams(**tensors)


def make_state0(case: Case, dims: Dims, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    spec = case.spec
    state = [torch.randn(dims.N, case.proj or dims.H, dtype=dtype)]  # h (N, H_out)
    if spec.has_cell_state:
        state.append(torch.randn(dims.N, dims.H, dtype=dtype))  # c (N, H_cell)
    if spec.gate_recurrence:  # previous gate activations, in (0, 1): (N, S*H_cell)
        state.append(torch.rand(dims.N, len(spec.sigmoid_gates) * dims.H, dtype=dtype))
    return tuple(t.requires_grad_() for t in state)


def make_masks(kind: str | None, case: Case, dims: Dims, dtype: torch.dtype) -> Masks:
    if kind is None:
        return NO_MASKS
    h_out, lstm = case.proj or dims.H, case.spec.has_cell_state
    if kind == "eval":  # the expectations nn passes in eval()
        return Masks(
            zoneout_h=torch.tensor(0.3, dtype=dtype),
            zoneout_c=torch.tensor(0.2, dtype=dtype) if lstm else None,
        )

    def bernoulli(shape, p):
        return torch.bernoulli(torch.full(shape, p, dtype=dtype))

    keep = 0.7
    return Masks(
        recurrent=bernoulli((dims.N, h_out), keep) / keep,
        zoneout_h=bernoulli((dims.L, dims.N, h_out), 0.3),
        zoneout_c=bernoulli((dims.L, dims.N, dims.H), 0.4) if lstm else None,
    )


@dataclass
class Problem:
    """One engine call's arguments; ``leaves`` are what gradients are taken of."""

    case: Case
    x: torch.Tensor
    state0: tuple[torch.Tensor, ...]
    params: LayerParams
    kwargs: dict

    @property
    def leaves(self) -> list[torch.Tensor]:
        return [self.x, *self.state0, *(p for p in self.params if p is not None)]

    @property
    def leaf_names(self) -> list[str]:
        states = ["h0", "c0", "q0"][: len(self.state0)]
        params = [n for n, p in zip(LayerParams._fields, self.params) if p is not None]
        return ["x", *states, *params]

    def run(self, backend: str) -> tuple[torch.Tensor, ...]:
        y, state = run_layer(
            self.x, self.state0, self.params, self.case.spec, backend=backend, **self.kwargs
        )
        assert isinstance(state, tuple)
        return (y, *state)


def make_problem(case: Case, condition: str, dims: Dims, dtype: torch.dtype) -> Problem:
    with_lengths, reverse, masks = CONDITIONS[condition]
    lengths = torch.tensor(dims.lengths, dtype=torch.int64) if with_lengths else None
    kwargs = {"lengths": lengths, "reverse": reverse,
              "masks": make_masks(masks, case, dims, dtype)}
    x = torch.randn(dims.L, dims.N, dims.H_in, dtype=dtype, requires_grad=True)
    return Problem(case, x, make_state0(case, dims, dtype), make_params(case, dims, dtype), kwargs)


def outputs_and_grads(problem: Problem, backend: str):
    """Outputs ``(y, *state_n)`` and the gradients of every leaf, from a fixed random
    upstream gradient on every output."""
    outputs = problem.run(backend)
    generator = torch.Generator().manual_seed(99)
    upstream = [torch.randn(o.shape, dtype=o.dtype, generator=generator) for o in outputs]
    grads = torch.autograd.grad(outputs, problem.leaves, upstream)
    return [o.detach() for o in outputs], grads


def scaled(tol: dict, want: torch.Tensor) -> dict:
    """float32 rounding is relative to a tensor's largest entries (a gradient entry is a
    sum over steps of terms that can be far larger than it), so there ``atol`` is scaled
    by ``max(1, max|want|)``; float64 keeps the plain tolerances."""
    if want.dtype != torch.float32:
        return tol
    return {**tol, "atol": tol["atol"] * max(1.0, float(want.abs().max()))}


def assert_same_as_reference(problem: Problem, tol: dict, backend: str = FAST) -> list:
    """``backend`` gives the reference engine's outputs and gradients; returns those."""
    want, want_grads = outputs_and_grads(problem, "reference")
    got, got_grads = outputs_and_grads(problem, backend)
    names = ["y", "h_n", "c_n", "q_n"][: len(want)]
    assert len(got) == len(want)
    for name, g, w in zip(names, got, want):
        assert g.shape == w.shape, name
        assert_close(g, w, **scaled(tol, w), msg=lambda m, name=name: f"{name}: {m}")
    for name, g, w in zip(problem.leaf_names, got_grads, want_grads, strict=True):
        assert_close(g, w, **scaled(tol, w), msg=lambda m, name=name: f"grad of {name}: {m}")
    return want


def assert_clips_act(case: Case, outputs: list) -> None:
    """A clip must hold some value at its bound, or it went untested."""
    if case.spec.cell_clip is not None:
        assert (outputs[2].abs() == case.spec.cell_clip).any(), "cell_clip never acted"
    if case.spec.proj_clip is not None:
        assert (outputs[0].abs() == case.spec.proj_clip).any(), "proj_clip never acted"


# --------------------------------------------------------------------------- engine level
def _engine_cases():
    for name, case in ALL_CASES.items():
        for condition in CONDITIONS:
            yield pytest.param(case, condition, torch.float64, id=f"{name}-{condition}-float64")
        yield pytest.param(case, FLOAT32_CONDITION, torch.float32,
                           id=f"{name}-{FLOAT32_CONDITION}-float32")


@pytest.mark.parametrize("case,condition,dtype", list(_engine_cases()))
def test_native_equals_reference(case, condition, dtype, tolerances):
    problem = make_problem(case, condition, DIMS, dtype)
    want = assert_same_as_reference(problem, tolerances[dtype])
    if condition in ("plain", "lengths_reverse"):  # zoneout would mix in unclipped values
        assert_clips_act(case, want)


@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu"])
def test_plain_rnn_is_served_right_or_refused_by_name(kind, tolerances):
    """Native may leave plain RNNs to other backends, but then it must say so."""
    problem = make_problem(Case(CellSpec(kind=kind)), "lengths_reverse", DIMS, torch.float64)
    try:
        problem.run(FAST)
    except ValueError as error:
        assert FAST in str(error)
        return
    assert_same_as_reference(problem, tolerances[torch.float64])


# --------------------------------------------------------------------------- gradcheck
GRADCHECK_CASES = {
    "vanilla": Case(lstm_spec()),
    "peephole_cifg": Case(lstm_spec(peephole=True, cifg=True)),
    "FGR_ln_proj": Case(lstm_spec(variant="FGR", layer_norm=True, projection=True), PROJ),
    "peephole_proj_clips_nobias": Case(
        lstm_spec(peephole=True, projection=True, cell_clip=0.35, proj_clip=0.04), PROJ, False
    ),
    "gru_ln": Case(CellSpec(kind="gru", layer_norm=True)),
    "gru_cho_ln": Case(CellSpec(kind="gru", reset_after=False, layer_norm=True)),
}


@pytest.mark.parametrize("condition", ["plain", "train_masks_lengths_reverse", "eval_rates_lengths"])
@pytest.mark.parametrize("case", list(GRADCHECK_CASES.values()), ids=list(GRADCHECK_CASES))
def test_native_gradcheck(case, condition):
    problem = make_problem(case, condition, TINY, torch.float64)
    present = [name for name, p in zip(LayerParams._fields, problem.params) if p is not None]
    num_states = len(problem.state0)

    def fn(x, *rest):
        state0, values = rest[:num_states], rest[num_states:]
        params = LayerParams(**dict(zip(present, values)))
        y, state = run_layer(x, state0, params, case.spec, backend=FAST, **problem.kwargs)
        return (y, *state)

    assert gradcheck(fn, tuple(problem.leaves), eps=1e-6, atol=1e-7, rtol=1e-5)


# --------------------------------------------------------------------------- modules
# name -> (class, keyword options, train mode)
MODULE_CASES = {
    "lstm_vanilla": (lstmkit.LSTM, {}, False),
    "lstm_peephole_ln_proj_clips": (
        lstmkit.LSTM,
        {"peephole": True, "layer_norm": True, "proj_size": PROJ,
         "cell_clip": CELL_CLIP, "proj_clip": PROJ_CLIP},
        False,
    ),
    "lstm_FGR_cifg_nobias": (lstmkit.LSTM, {"variant": "FGR", "cifg": True, "bias": False}, False),
    "lstm_zoneout_eval": (lstmkit.LSTM, {"variant": "V", "zoneout": (0.3, 0.2)}, False),
    "lstm_noise_train": (
        lstmkit.LSTM,
        {"variant": "V", "recurrent_dropout": 0.3, "zoneout": (0.3, 0.2), "weight_drop": 0.3,
         "dropout": 0.3},
        True,
    ),
    "gru": (lstmkit.GRU, {}, False),
    "gru_cho_ln": (lstmkit.GRU, {"reset_after": False, "layer_norm": True}, False),
    "gru_noise_train": (
        lstmkit.GRU,
        {"recurrent_dropout": 0.3, "zoneout": 0.3, "weight_drop": 0.3, "dropout": 0.3},
        True,
    ),
}
NOISE_SEED = 2024


@pytest.mark.parametrize("cls,kw,train", list(MODULE_CASES.values()), ids=list(MODULE_CASES))
def test_native_module_equals_reference_module(cls, kw, train, tolerances):
    """Two layers, bidirectional, PackedSequence input, given ``hx``; in train mode both
    modules draw the same noise (same seed right before each forward)."""
    tol = tolerances[torch.float64]
    dims = DIMS
    modules = {}
    for backend in ("reference", FAST):
        modules[backend] = cls(dims.H_in, dims.H, num_layers=2, bidirectional=True,
                               dtype=torch.float64, backend=backend, **kw).train(train)
    randomise(modules["reference"])
    modules[FAST].load_state_dict(modules["reference"].state_dict())
    x = torch.randn(dims.L, dims.N, dims.H_in, dtype=torch.float64)
    hx = [torch.randn(4, dims.N, size, dtype=torch.float64)
          for size in modules["reference"].state_sizes]

    results = {}
    for backend, module in modules.items():
        x_leaf = x.clone().requires_grad_()
        hx_leaves = [h.clone().requires_grad_() for h in hx]
        packed = pack_padded_sequence(x_leaf, list(dims.lengths), enforce_sorted=False)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(NOISE_SEED)
            out, state = module(packed, tuple(hx_leaves) if len(hx) > 1 else hx_leaves[0])
        outputs = [out.data, *(state if isinstance(state, tuple) else (state,))]
        generator = torch.Generator().manual_seed(7)
        loss = sum((torch.randn(o.shape, dtype=o.dtype, generator=generator) * o).sum()
                   for o in outputs)
        loss.backward()
        grads = {"x": x_leaf.grad, **{f"hx{k}": h.grad for k, h in enumerate(hx_leaves)}}
        grads.update({name: p.grad for name, p in module.named_parameters()})
        results[backend] = ([o.detach() for o in outputs], grads)

    (want, want_grads), (got, got_grads) = results["reference"], results[FAST]
    for k, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, **tol, msg=lambda m, k=k: f"output {k}: {m}")
    assert list(got_grads) == list(want_grads)
    for name, w in want_grads.items():
        assert w is not None and got_grads[name] is not None, name
        assert_close(got_grads[name], w, **tol, msg=lambda m, name=name: f"grad of {name}: {m}")


# --------------------------------------------------------------------------- build cache
LOAD_SNIPPET = (
    "import json; from lstmkit.engine.native import build; lib = build.load_library(); "
    "print(json.dumps({'compiled': lib.compiled, 'path': str(lib.path), "
    "'is_file': lib.path.is_file()}))"
)


def test_second_process_reuses_the_cached_build():
    if not is_available():
        pytest.skip("the native backend is not available on this machine")
    reports = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET], capture_output=True, text=True, timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        reports.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = reports
    assert second["compiled"] is False, second
    assert first["is_file"] and second["is_file"], reports
    assert first["path"] == second["path"], reports
