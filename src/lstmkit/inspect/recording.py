"""Recording every step of a model's recurrent layers: states, gates and their gradients.

`record(model, run)` calls ``run()`` (anything that runs ``model``: a forward pass, a
task's loss) while `lstmkit.engine.observe` reports each step of each `lstmkit`
recurrent layer inside ``model`` (`LSTM`, `GRU`, `RNN`, any variant, any depth or
direction, ``forward`` or ``step()``). The result is a `Recording`: one `LayerTrace`
per (module, layer, direction) and forward call, with the per-step state tensors kept
as autograd nodes, so that after ``loss.backward()`` their ``.grad`` holds the total
derivative ``∂loss/∂h(t)`` (and ``∂loss/∂c(t)``), every path through later steps and
through the outputs included.

Shapes: ``N`` batch, ``T`` steps, ``H`` units (``H_out`` for ``h``, ``H_cell`` for
``c`` and the gates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..cells import CellSpec, LayerParams
from ..engine.observe import StepCallback, observing
from ..nn.recurrent import RecurrentLayer


@dataclass
class LayerTrace:
    """The steps of one layer in one direction during one forward call.

    Attributes:
        module: the module's name in ``model.named_modules()`` ("" for the model itself).
        layer, direction: position in the stack (direction 1 runs backwards in time).
        kind: ``"lstm"``, ``"gru"``, ``"rnn_tanh"`` or ``"rnn_relu"``.
        lengths: ``(N,)`` real steps of each sequence, or None (all ``T`` real).
        streaming: the steps came one ``step()`` call at a time.
        states: time index -> the state tuple after that step.
        gates: time index -> gate name -> ``(N, H_cell)`` activation.
        computed: time index -> the state as the step computed it, before length
            masking (kept only for gradients; see `lstmkit.engine.observe`).
    """

    module: str
    layer: int
    direction: int
    kind: str
    lengths: Tensor | None
    streaming: bool
    states: dict[int, tuple[Tensor, ...]] = field(default_factory=dict)
    gates: dict[int, dict[str, Tensor]] = field(default_factory=dict)
    computed: dict[int, tuple[Tensor, ...]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A readable label: ``module/layer k[ reverse]``."""
        where = f"{self.module}/" if self.module else ""
        return f"{where}layer {self.layer}" + (" reverse" if self.direction else "")

    @property
    def steps(self) -> int:
        """``T``, the number of recorded steps."""
        return len(self.states)

    def _stack(self, values: dict[int, Tensor]) -> Tensor:
        return torch.stack([values[t] for t in range(self.steps)], dim=1)  # (N, T, H)

    def hidden(self) -> Tensor:
        """``h(t)`` for every step, ``(N, T, H_out)``."""
        return self._stack({t: state[0] for t, state in self.states.items()})

    def cell(self) -> Tensor | None:
        """``c(t)`` for every step, ``(N, T, H_cell)``; None for a GRU or RNN."""
        if self.kind != "lstm":
            return None
        return self._stack({t: state[1] for t, state in self.states.items()})

    def gate(self, name: str) -> Tensor:
        """Gate ``name``'s activations, ``(N, T, H_cell)``."""
        if not self.gates or name not in self.gates[0]:
            have = ", ".join(self.gate_names()) or "none"
            raise ValueError(f"gate must be one of the gates of {self.name} ({have}), got {name!r}")
        return self._stack({t: gates[name] for t, gates in self.gates.items()})

    def gate_names(self) -> list[str]:
        """The recorded gates, in PyTorch's order (``i f g o`` / ``r z n``)."""
        return list(self.gates[0]) if self.gates else []

    def valid(self) -> Tensor:
        """``(N, T)`` bool, True on the real (not padded) steps."""
        n = self.states[0][0].shape[0]
        if self.lengths is None:
            return torch.ones(n, self.steps, dtype=torch.bool)
        return torch.arange(self.steps) < self.lengths.cpu()[:, None]

    def gradient(self, which: str = "h") -> Tensor:
        """``∂loss/∂h(t)`` (``which="h"``) or ``∂loss/∂c(t)`` (``"c"``), ``(N, T, H)``,
        after a backward pass through a recording made with gradients."""
        position = {"h": 0, "c": 1}.get(which)
        if position is None or (position == 1 and self.kind != "lstm"):
            allowed = "'h' or 'c'" if self.kind == "lstm" else "'h'"
            raise ValueError(f"which must be {allowed} for a {self.kind} layer, got {which!r}")
        if not self.computed:
            raise ValueError(f"{self.name}: no gradients were kept; record with keep_grad=True")
        grads = {}
        for t, state in self.computed.items():
            grad = state[position].grad
            grads[t] = torch.zeros_like(state[position]) if grad is None else grad
        return self._stack(grads).detach()


@dataclass
class Recording:
    """Every `LayerTrace` of one `record` call, in the order the layers ran."""

    traces: list[LayerTrace]

    def layers(self, module: str | None = None) -> list[LayerTrace]:
        """The traces of ``module`` (all modules when None)."""
        chosen = [t for t in self.traces if module is None or t.module == module]
        if not chosen:
            known = ", ".join(sorted({repr(t.module) for t in self.traces})) or "none recorded"
            raise ValueError(f"module must name a recorded recurrent module ({known}), got {module!r}")
        return chosen


class _Recorder:
    """The `lstmkit.engine.observe.Observer` behind `record`."""

    def __init__(self, model: torch.nn.Module, keep_grad: bool) -> None:
        self.keep_grad = keep_grad
        self.traces: list[LayerTrace] = []
        self._streams: dict[tuple[int, int], LayerTrace] = {}
        # The engine hands over each layer's parameters; their weight_ih is the module's
        # Parameter, which tells us the module, layer and direction.
        self._owners: dict[int, tuple[str, RecurrentLayer, int]] = {}
        for name, module in model.named_modules():
            if isinstance(module, RecurrentLayer):
                for index in range(module.num_layers * module.num_directions):
                    weight = module.layer_params(index).weight_ih
                    self._owners[id(weight)] = (name, module, index)

    def layer(self, index: int, params: LayerParams, spec: CellSpec, *, reverse: bool,
              lengths: Tensor | None, streaming: bool) -> StepCallback:
        owner = self._owners.get(id(params.weight_ih))
        if owner is None:  # a layer outside `model`: named by its stack index
            name, layer, direction = "<unnamed>", index, int(reverse)
        else:
            name, module, index = owner
            layer, direction = divmod(index, module.num_directions)
        key = (id(params.weight_ih), index)
        if streaming and key in self._streams:
            trace = self._streams[key]
        else:
            trace = LayerTrace(
                module=name, layer=layer, direction=direction, kind=spec.kind,
                lengths=None if lengths is None else lengths.detach().cpu(), streaming=streaming,
            )
            self.traces.append(trace)
            if streaming:
                self._streams[key] = trace

        def on_step(t: int, state: tuple[Tensor, ...], gates: dict[str, Tensor],
                    computed: tuple[Tensor, ...]) -> None:
            t = trace.steps if streaming else t
            if self.keep_grad:
                for tensor in computed[:2]:
                    if tensor.requires_grad:
                        tensor.retain_grad()
                trace.states[t] = state
                trace.computed[t] = computed
                trace.gates[t] = gates
            else:
                trace.states[t] = tuple(s.detach() for s in state)
                trace.gates[t] = {name: g.detach() for name, g in gates.items()}

        return on_step


def record(model: torch.nn.Module, run: Callable[[], Any], *, keep_grad: bool = False) -> tuple[Any, Recording]:
    """Call ``run()`` while recording every step of ``model``'s recurrent layers.

    Args:
        model: the module whose `lstmkit` recurrent layers are to be named in the traces
            (layers of other modules that ``run`` happens to run are recorded too, as
            ``"<unnamed>"``).
        run: runs the model, e.g. ``lambda: task.loss(model, batch).total``.
        keep_grad: keep the step states as autograd nodes with ``retain_grad()`` so that
            `LayerTrace.gradient` works after a backward pass; otherwise they are
            detached (cheaper, for gate statistics and activations).

    Returns:
        ``run()``'s result and the `Recording`. Every layer runs on the reference engine
        while recording, so results equal the fused engines' to rounding.
    """
    recorder = _Recorder(model, keep_grad)
    with observing(recorder):
        result = run()
    if not recorder.traces:
        raise ValueError(
            "model: no lstmkit recurrent layer (LSTM, GRU, RNN) ran during the recording; "
            "inspection needs a model built from lstmkit's modules"
        )
    return result, Recording(recorder.traces)
