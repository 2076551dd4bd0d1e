"""`RecurrentLayer`: the shared body of `LSTM`, `GRU` and `RNN`.

It owns parameters, validation, stacking, directions and the regularisation noise,
and calls the engine for each (layer, direction). No gate math here.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from ..cells import CellSpec, LayerParams
from ..engine import check_backend, run_stack, run_step
from . import layout
from .inputs import prepare_input, prepare_step_input, restore_output
from .regularization import drop_weight, sample_masks
from .state import initial_state_stacks, split_initial_state, stack_final_state
from .validation import (
    check_bool,
    check_dropout,
    check_init,
    check_optional_number,
    check_positive_int,
    check_probability,
    check_zoneout,
)


class RecurrentLayer(torch.nn.Module):
    """A multi-layer, optionally bidirectional recurrent network of one `CellSpec`.

    Parameter names follow ``torch.nn``: ``{name}_l{k}`` and ``{name}_l{k}_reverse``
    for every field of `lstmkit.cells.LayerParams` the spec uses.
    """

    def __init__(
        self,
        mode: str,
        spec: CellSpec,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        proj_size: int,
        device,
        dtype,
        *,
        recurrent_dropout: float,
        zoneout: float | tuple[float, float],
        weight_drop: float,
        forget_bias: float | None,
        init: str | None,
        backend: str,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.spec = spec
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bias = check_bool("bias", bias)
        self.batch_first = check_bool("batch_first", batch_first)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.dropout = check_dropout(dropout, self.num_layers)
        self.proj_size = proj_size
        self.recurrent_dropout = check_probability(
            "recurrent_dropout", recurrent_dropout, allow_one=False
        )
        self.zoneout = zoneout
        self._zoneout_rates = check_zoneout(zoneout, spec.has_cell_state)
        self.weight_drop = check_probability("weight_drop", weight_drop, allow_one=False)
        self.forget_bias = check_optional_number("forget_bias", forget_bias)
        layout.check_forget_bias(spec, self.bias, self.forget_bias)
        self.init = check_init(init)
        self.backend = check_backend(backend)

        factory = {"device": device, "dtype": dtype}
        self._layer_param_names: list[dict[str, str]] = []  # per (layer, dir): base → attr
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.output_size * self.num_directions
            shapes = layout.parameter_shapes(spec, layer_input, hidden_size, proj_size, bias)
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                names = {}
                for base, shape in shapes.items():
                    setattr(self, base + suffix, torch.nn.Parameter(torch.empty(shape, **factory)))
                    names[base] = base + suffix
                self._layer_param_names.append(names)
        self.reset_parameters()

    # ------------------------------------------------------------------ structure
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """``H_out``: the recurrent size (``proj_size`` when projecting)."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size, self.hidden_size) if self.spec.has_cell_state else (self.output_size,)

    @property
    def all_weights(self) -> list[list[torch.nn.Parameter]]:
        """Per (layer, direction), the parameters in registration order (like torch)."""
        return [[getattr(self, n) for n in names.values()] for names in self._layer_param_names]

    def flatten_parameters(self) -> None:
        """No-op kept for drop-in compatibility with ``torch.nn.RNNBase``."""

    def reset_parameters(self) -> None:
        """torch's default initialisation, then ``init=`` and ``forget_bias=`` if given."""
        for names in self._layer_param_names:
            tensors = {base: getattr(self, attr) for base, attr in names.items()}
            layout.reset_parameters(
                tensors, self.spec, self.hidden_size, init=self.init, forget_bias=self.forget_bias
            )

    def layer_params(self, index: int) -> LayerParams:
        """The `LayerParams` of stack ``index = layer * D + direction`` (weight drop applied)."""
        names = self._layer_param_names[index]
        tensors = {base: getattr(self, attr) for base, attr in names.items()}
        tensors["weight_hh"] = drop_weight(tensors["weight_hh"], self.weight_drop, self.training)
        return LayerParams(**tensors)

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False, "proj_size": 0, "recurrent_dropout": 0.0,
                    "zoneout": 0.0, "weight_drop": 0.0, "forget_bias": None, "init": None,
                    "backend": "auto"}
        for name, default in defaults.items():
            value = getattr(self, name, default)
            if value != default:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts) + self._spec_repr()

    def _spec_repr(self) -> str:
        return ""

    # ------------------------------------------------------------------ forward
    def forward(self, input: Tensor | PackedSequence, hx=None, *, lengths=None):
        """Run the stack; see the subclass docstring for shapes."""
        name = type(self).__name__
        weight = getattr(self, self._layer_param_names[0]["weight_ih"])
        prepared = prepare_input(
            name, input, lengths, batch_first=self.batch_first,
            input_size=self.input_size, dtype=weight.dtype, device=weight.device,
        )
        x = prepared.x  # (L, N, H_in)
        num_stacks = self.num_layers * self.num_directions
        initial = split_initial_state(
            name, hx, self.state_sizes, num_stacks=num_stacks,
            batch=prepared.batch_size, batched=prepared.batched, like=x,
        )
        stacks = range(num_stacks)
        layer_output, finals = run_stack(
            x,
            [self._engine_state(initial, index, x) for index in stacks],
            [self.layer_params(index) for index in stacks],
            self.spec,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            training=self.training,
            lengths=prepared.lengths,
            masks=[self._masks(x) for _ in stacks],
            backend=self.backend,
        )
        output = restore_output(layer_output, prepared, self.batch_first)
        final = tuple(
            stack_final_state([state[k] for state in finals], prepared.batched)
            for k in range(len(self.state_sizes))
        )
        return output, (final if self.spec.has_cell_state else final[0])

    def step(self, input: Tensor, hx=None):
        """Advance one time step, for streaming (online) inference.

        Args:
            input: ``(N, H_in)``, or ``(H_in,)`` unbatched: one time step.
            hx: ``None`` (zeros) or the state returned by the previous call, in the format
                of ``forward``'s ``hx``: ``(h (num_layers, N, H_out), c (num_layers, N,
                H_cell))`` for an LSTM, ``h`` otherwise (no ``N`` axis when unbatched).

        Returns:
            ``output (N, H_out)`` (or ``(H_out,)``) and the new state, so that feeding a
            sequence step by step gives ``forward``'s outputs and final state. Under
            ``torch.no_grad()`` / ``torch.inference_mode()`` the native kernel runs the
            whole stack in one call; with autograd on, the differentiable step functions
            run. Zoneout enters as its expectation, as in ``eval()``.
        """
        name = f"{type(self).__name__}.step"
        self._check_streamable(name)
        weight = getattr(self, self._layer_param_names[0]["weight_ih"])
        x, batched = prepare_step_input(name, input, self.input_size, weight.dtype, weight.device)
        states = initial_state_stacks(
            name, hx, self.state_sizes, num_stacks=self.num_layers, batch=x.shape[0],
            batched=batched, like=x,
        )
        output, new = run_step(
            x, tuple(states), [self.layer_params(i) for i in range(self.num_layers)], self.spec,
            zoneout=self._zoneout_rates, backend=self.backend,
        )
        if not batched:
            output, new = output[0], tuple(s[:, 0] for s in new)
        return output, (new if self.spec.has_cell_state else new[0])

    def _check_streamable(self, name: str) -> None:
        if self.bidirectional:
            raise ValueError(
                f"{name}: a bidirectional module needs the whole sequence; step() runs "
                "unidirectional modules only"
            )
        if self.spec.gate_recurrence:
            raise ValueError(
                f"{name}: variant FGR carries its previous gate activations, which the step "
                "state does not hold; run forward() on the sequence instead"
            )
        noisy = [
            option for option, value in (("dropout", self.dropout if self.num_layers > 1 else 0),
                                     ("recurrent_dropout", self.recurrent_dropout),
                                     ("zoneout", max(self._zoneout_rates)),
                                     ("weight_drop", self.weight_drop))
            if value > 0
        ]
        if self.training and noisy:
            raise ValueError(
                f"{name}: step() is for inference and samples no noise, but the module is in "
                f"training mode with {', '.join(noisy)}; call .eval() first"
            )

    def _engine_state(self, initial: list[list[Tensor]], index: int, x: Tensor) -> tuple[Tensor, ...]:
        state = tuple(per_stack[index] for per_stack in initial)
        if self.spec.gate_recurrence:  # previous gate activations start at zero
            gate_units = len(self.spec.sigmoid_gates) * self.hidden_size
            state = state + (x.new_zeros(x.shape[1], gate_units),)
        return state

    def _masks(self, x: Tensor):
        rate_h, rate_c = self._zoneout_rates
        return sample_masks(
            training=self.training,
            recurrent_dropout=self.recurrent_dropout,
            zoneout_h=rate_h,
            zoneout_c=rate_c,
            length=x.shape[0],
            batch=x.shape[1],
            recurrent_size=self.output_size,
            cell_size=self.hidden_size,
            # The parameters' dtype, not the input's: under autocast the input may be
            # bfloat16, where 1 / (1 - p) would be rounded.
            like=getattr(self, self._layer_param_names[0]["weight_ih"]),
        )
