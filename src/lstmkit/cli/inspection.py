"""``lstmkit inspect gradients | gates | cells``: look inside any checkpoint's model.

Each view loads a checkpoint of any task (or builds fresh models), takes a batch the
way the trainer batches that task's data (`lstmkit.train.sample.first_batch`), and
hands the model and a loss to `lstmkit.inspect`. Results go into a new folder (by
default ``inspect/VIEW-TIME`` inside the checkpoint's run directory), never over
existing files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.text import tokenize
from ..files import write_new_text
from ..inspect import (
    cell_activation_html,
    correlated_cells,
    gate_statistics,
    gradient_flow,
    memory_spans,
    plot_gate_histograms,
    plot_gradient_flow,
    predicate_values,
    record,
)
from ..inspect.gradients import write_flows_csv
from ..tasks.longlag.models import check_model_names, recurrent_for
from ..tasks.memory import MemoryConfig, MemoryDataConfig, MemoryModelConfig, MemoryTask
from ..tasks.recurrent import RecurrentConfig
from ..train.checkpoint import resolve_checkpoint_path
from ..train.rundir import create_run_directory
from ..train.sample import first_batch
from .commands import load_trained

_SHOWN_LAGS = (0, 1, 10, 50, 100, 200, 500, 1000)


def _output_folder(output: str | None, anchor: Path | None, view: str) -> Path:
    if output is not None:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    root = anchor / "inspect" if anchor is not None else Path("runs")
    return create_run_directory(root, view if anchor is not None else f"inspect-{view}")


def _checkpoint_label(path: str) -> str:
    """``RUN/FILE``: two runs' ``last.pt`` stay apart on one plot."""
    resolved = resolve_checkpoint_path(path).resolve()
    return f"{resolved.parent.name}/{resolved.name}"


def _check_new(folder: Path, names: tuple[str, ...]) -> None:
    """Refuse before writing anything, so a refused call leaves no half-written set."""
    for name in names:
        if (folder / name).exists():
            raise FileExistsError(f"{folder / name} already exists; lstmkit never overwrites it")


def _loss_of(task: Any, model: torch.nn.Module, batch: Any):
    def loss() -> torch.Tensor:
        out = task.loss(model, batch, None)
        return out.total / out.count

    return loss


def _checkpoint_model(path: str, fresh: bool, seed: int) -> tuple[Any, torch.nn.Module, Path]:
    """The task and its model (trained weights, or a fresh initialisation), in eval mode."""
    task, model, _ = load_trained(path)
    if fresh:
        torch.manual_seed(seed)
        model = task.build_model().eval()
    return task, model, resolve_checkpoint_path(path).parent


def _fresh_memory_model(name: str, task_name: str, length: int | None, hidden_size: int,
                        forget_bias: float | None, seed: int) -> tuple[MemoryTask, torch.nn.Module]:
    base = RecurrentConfig(hidden_size=hidden_size, forget_bias=forget_bias)
    recurrent = recurrent_for(name, base)
    config = MemoryConfig(
        task=task_name, model=MemoryModelConfig(recurrent), data=MemoryDataConfig(length=length)
    )
    task = MemoryTask(config)
    torch.manual_seed(seed)
    return task, task.build_model().eval()


def gradients(checkpoints: list[str], fresh: bool, cells: list[str], task_name: str,
              length: int | None, hidden_size: int, forget_bias: float | None, batch_size: int,
              seed: int, output: str | None) -> int:
    """``lstmkit inspect gradients``: ``||∂L/∂h(t)||`` against the lag, one plot for all."""
    if not checkpoints and not cells:
        raise ValueError("give checkpoints to inspect, or --cells to compare fresh models")
    if cells:
        check_model_names(cells, "--cells")
    flows, anchor = [], None
    for path in checkpoints:
        task, model, run_dir = _checkpoint_model(path, fresh, seed)
        anchor = anchor or run_dir
        batch = first_batch(task, batch_size, task.config.train.bptt)
        label = _checkpoint_label(path) + (" (fresh)" if fresh else "")
        flows += gradient_flow(model, _loss_of(task, model, batch), label=label)
    for name in cells:
        task, model = _fresh_memory_model(name, task_name, length, hidden_size, forget_bias, seed)
        batch = first_batch(task, batch_size)
        flows += gradient_flow(model, _loss_of(task, model, batch), label=name)
    folder = _output_folder(output, anchor, "gradients")
    _check_new(folder, ("gradient_flow.csv", "gradient_flow.png"))
    write_flows_csv(flows, folder / "gradient_flow.csv")
    title = f"gradient flow, {task_name} T={length or 'default'}" if cells and not checkpoints else ""
    plot_gradient_flow(flows, folder / "gradient_flow.png", title=title)
    longest = max(flow.h_norm.size for flow in flows)
    lags = [lag for lag in _SHOWN_LAGS if lag < longest - 1] + [longest - 1]
    print("mean ||dL/dh(t)|| by lag (steps before the last):")
    print(f"  {'model':<28} {'layer':<22}" + "".join(f"{f'lag {lag}':>11}" for lag in lags))
    for flow in flows:
        values = [flow.h_norm[lag] if lag < flow.h_norm.size else float("nan") for lag in lags]
        print(f"  {flow.label[:28]:<28} {flow.layer[:22]:<22}" + "".join(f"{v:>11.3g}" for v in values))
    print(f"wrote {folder / 'gradient_flow.png'} and {folder / 'gradient_flow.csv'}")
    return 0


def gates(path: str, fresh: bool, batch_size: int, seed: int, low: float, high: float,
          output: str | None) -> int:
    """``lstmkit inspect gates``: saturation per layer and gate, forget-gate memory span."""
    task, model, run_dir = _checkpoint_model(path, fresh, seed)
    batch = first_batch(task, batch_size, task.config.train.bptt)
    with torch.no_grad():
        _, recording = record(model, _loss_of(task, model, batch))
    statistics = gate_statistics(recording, low=low, high=high)
    spans = memory_spans(recording)
    if statistics.empty:
        raise ValueError(f"{path}: the model's recurrent layers have no gates (a plain RNN)")
    folder = _output_folder(output, run_dir, "gates")
    _check_new(folder, ("gate_statistics.csv", "memory_spans.csv", "gates.png"))
    write_new_text(folder / "gate_statistics.csv", statistics.to_csv(index=False))
    write_new_text(folder / "memory_spans.csv", spans.to_csv(index=False))
    plot_gate_histograms(recording, folder / "gates.png", low=low, high=high)
    print(f"gate saturation (left < {low}, right > {high}; tanh gates mapped to [0, 1]):")
    print(statistics.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if not spans.empty:
        print("memory span of the keep gate, -1 / mean ln f (steps):")
        print(spans.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {folder / 'gates.png'}, gate_statistics.csv and memory_spans.csv")
    return 0


def cells(path: str, text: str | None, text_file: str | None, length: int, layer: int | None,
          state: str, shown: list[int] | None, predicate: str | None, top: int,
          output: str | None) -> int:
    """``lstmkit inspect cells``: colour a text by cells' activations (character models)."""
    task, model, run_dir = _checkpoint_model(path, False, 0)
    level = getattr(getattr(task.config, "data", None), "level", None)
    if task.name != "lm" or level != "char":
        raise ValueError(
            f"lstmkit inspect cells needs a character-level language model ('lm' with "
            f"data.level char); {path} is a {task.name!r} run"
            + (f" at the {level} level" if level else "")
        )
    if text is not None and text_file is not None:
        raise ValueError("give --text or --text-file, not both")
    if text_file is not None:
        text = Path(text_file).read_text(encoding="utf-8")
    elif text is None:
        text = task.splits()["validation"]
    text = text[:length]
    if not text:
        raise ValueError("the text to show is empty")
    vocabulary = task.vocabulary  # restored from the checkpoint
    unknown = vocabulary.unknown(tokenize(text, "char"))
    if unknown:
        raise ValueError(f"the text holds characters the model's vocabulary lacks: {', '.join(map(repr, unknown[:10]))}")
    with torch.no_grad():
        _, recording = record(model, lambda: model(vocabulary.encode(list(text))[None]))
    traces = recording.layers("recurrent")
    index = len(traces) - 1 if layer is None else layer
    if not 0 <= index < len(traces):
        raise ValueError(f"--layer must be between 0 and {len(traces) - 1}, got {layer}")
    trace = traces[index]
    if state == "cell" and trace.cell() is None:
        raise ValueError(f"--state cell needs an LSTM; this model's cell is {trace.kind!r} (use --state hidden)")
    values = torch.tanh(trace.cell()[0]) if state == "cell" else trace.hidden()[0]  # (T, H)
    activations = values.numpy()
    lines = []
    if predicate is not None:
        target = predicate_values(text, predicate)
        if np.ptp(target) == 0:
            raise ValueError(
                f"--predicate {predicate!r} has the same value at every character of the text, "
                "so no cell can correlate with it; choose a text where it varies"
            )
        found = correlated_cells(activations, target, top=top)
        lines.append(f"cells most correlated with {predicate!r} ({trace.name}, {state}):")
        lines += [f"  cell {cell:>4}   r = {r:+.3f}" for cell, r in found]
        shown = shown or [cell for cell, _ in found]
    if shown is None:  # the most active cells
        shown = [int(c) for c in activations.std(axis=0).argsort()[::-1][:top]]
    label = "tanh(c)" if state == "cell" else "h"
    page = cell_activation_html(
        text, activations, cells=shown,
        labels=[f"{trace.name}, cell {c}: {label}" for c in shown],
        title=f"{_checkpoint_label(path)}: {label} of {trace.name}",
    )
    folder = _output_folder(output, run_dir, "cells")  # only now that everything is valid
    html = write_new_text(folder / "cells.html", page)
    lines.append(f"wrote {html} ({len(text)} characters, cells {', '.join(map(str, shown))})")
    print("\n".join(lines))
    return 0
