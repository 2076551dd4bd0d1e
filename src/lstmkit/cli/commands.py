"""What each ``lstmkit`` subcommand does once its arguments are parsed."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import torch
import yaml

from ..data.series import FILL_METHODS
from ..files import write_new_text
from ..tasks import get_task
from ..tasks.forecast.plot import plot_future
from ..train import Trainer, load_checkpoint, load_model_state
from ..train.checkpoint import BEST, LAST, resolve_checkpoint_path
from ..train.config import config_to_dict
from ..train.distributed import Context
from .parsing import config_from_dict, config_from_namespace, task_parser

# Options that may be combined with --resume: they change how a run is watched, not
# what it computes.
_RESUME_ALLOWED = ("--resume", "--run.progress", "--run.tensorboard", "--run.plots")


def train(task_name: str, namespace: Any, argv: list[str]) -> int:
    """``lstmkit train TASK``: resolve the config, then train (or continue) a run."""
    entry = get_task(task_name)
    parser = task_parser(entry)
    resume_checkpoint, resume_dir = None, None
    if namespace.resume is not None:
        extra = [a for a in argv if a.startswith("-") and a.split("=")[0] not in _RESUME_ALLOWED]
        if extra:
            raise ValueError(
                f"--resume continues a run with its saved configuration; drop {extra[0]} "
                "(start a new run to change the configuration)"
            )
        checkpoint_path = resolve_checkpoint_path(namespace.resume)
        resume_checkpoint = load_checkpoint(checkpoint_path)
        if resume_checkpoint["task"] != entry.name:
            raise ValueError(
                f"--resume {namespace.resume} is a {resume_checkpoint['task']!r} run, "
                f"not {entry.name!r}"
            )
        config = config_from_dict(entry, resume_checkpoint["config"])
        given = {a.split("=")[0] for a in argv}
        for key in ("progress", "tensorboard", "plots"):
            if f"--run.{key}" in given:  # otherwise keep the run's saved setting
                setattr(config.run, key, namespace[f"run.{key}"])
        resume_dir = checkpoint_path.parent
    else:
        config = config_from_namespace(entry, parser, namespace)
    resolved = config_to_dict(config)
    if namespace.print_config:
        sys.stdout.write(yaml.safe_dump(resolved, sort_keys=False))
        return 0
    task = entry.task_class(config)
    if resume_checkpoint is not None:
        task.load_state_dict(resume_checkpoint.get("task_state", {}))
    context = Context.from_environment(config.train.device)
    try:
        trainer = Trainer(
            task, config.train, config.run, full_config=resolved,
            resume=resume_checkpoint, resume_dir=resume_dir, context=context,
        )
        result = trainer.fit()
    finally:
        context.close()
    if result.run_dir is None:  # not rank 0
        return 0
    metrics = "  ".join(f"{name} {value:.4g}" for name, value in result.metrics.items())
    summary = f"validation: {metrics}" if metrics else "not evaluated yet"
    print(f"{result.reason} at step {result.step} (epoch {result.epoch}); {summary}")
    print(f"run directory: {result.run_dir}")
    if result.reason.startswith("SIG"):
        print(f"resume with: lstmkit train {entry.name} --resume {result.run_dir}")
        return 128 + int(signal.Signals[result.reason])
    if config.run.report:
        for line in final_report(task, result.run_dir, context.device):
            print(line)
    return 0


def final_report(task: Any, run_dir: Path, device: torch.device) -> list[str]:
    """The task's report with the best weights of the run (``best.pt``, else ``last.pt``)."""
    path = run_dir / BEST if (run_dir / BEST).exists() else run_dir / LAST
    checkpoint = load_checkpoint(path)
    model = task.build_model()
    load_model_state(model, checkpoint["model"], str(path))
    model.to(device).eval()
    with torch.no_grad():
        lines = task.report(model, run_dir)
    step = checkpoint["progress"]["step"]
    return [f"report with the weights of {path.name} (step {step}):", *lines]


def load_trained(path: str, config: dict | None = None) -> tuple[Any, torch.nn.Module, dict]:
    """The task, its model with the checkpoint's weights (eval mode), and the checkpoint.

    ``config`` replaces the checkpoint's saved config (e.g. another series to forecast).
    """
    checkpoint = load_checkpoint(path)
    entry = get_task(checkpoint["task"])
    config = config_from_dict(entry, config if config is not None else checkpoint["config"])
    task = entry.task_class(config)
    task.load_state_dict(checkpoint.get("task_state", {}))
    model = task.build_model()
    load_model_state(model, checkpoint["model"], str(path))
    model.eval()
    return task, model, checkpoint


def _require(task: Any, method: str, command: str, wanted: str) -> None:
    if not hasattr(task, method):
        raise ValueError(f"lstmkit {command} needs a {wanted} checkpoint; this one is a {task.name!r} run")


def generate(path: str, prime: str, length: int, temperature: float, top_k: int | None,
             top_p: float | None, seed: int) -> int:
    """``lstmkit generate CHECKPOINT``: stream sampled text after the prime."""
    task, model, _ = load_trained(path)
    _require(task, "generate", "generate", "language-model ('lm')")
    pieces = task.generate(
        model, prime, length, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed
    )
    first = next(pieces, "")  # validation errors surface before anything is printed
    sys.stdout.write(prime + first)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def forecast(path: str, series: str | None, fill: str | None, output: str | None,
             as_json: bool) -> int:
    """``lstmkit forecast CHECKPOINT``: forecast the horizon past the end of the series."""
    if fill is not None and fill not in FILL_METHODS:
        raise ValueError(f"--fill must be one of {', '.join(FILL_METHODS)}, got {fill!r}")
    checkpoint = load_checkpoint(path)
    if checkpoint["task"] != "forecast":
        raise ValueError(
            f"lstmkit forecast needs a forecasting ('forecast') checkpoint; this one is a "
            f"{checkpoint['task']!r} run"
        )
    overrides = {"series": series, "fill": fill}
    config = dict(checkpoint["config"])
    config["data"] = {**config["data"], **{k: v for k, v in overrides.items() if v is not None}}
    task, model, _ = load_trained(path, config=config)
    result = task.forecast_future(model)
    names = task.series().target_names
    columns = ["time"] + [
        f"{name}{suffix}" for name in names
        for suffix in ("", "_lower", "_upper") if suffix == "" or "lower" in result
    ]
    rows = []
    for h, time in enumerate(result["time"]):
        values = []
        for c in range(len(names)):
            values.append(float(result["point"][h, c]))
            if "lower" in result:
                values += [float(result["lower"][h, c]), float(result["upper"][h, c])]
        rows.append([str(time), *values])
    if as_json:
        print(json.dumps({"columns": columns, "rows": rows}))
    else:
        print("  ".join(f"{c:>14}" for c in columns))
        for row in rows:
            print("  ".join([f"{row[0]:>14}"] + [f"{v:>14.4f}" for v in row[1:]]))
    if output is not None:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        csv = "\n".join([",".join(columns)] + [",".join(map(str, row)) for row in rows]) + "\n"
        write_new_text(folder / "forecast.csv", csv)
        png = folder / "forecast.png"
        if png.exists():
            raise FileExistsError(f"{png} already exists; lstmkit never overwrites it")
        plot_future(png, task.series(), result)
        print(f"wrote {folder / 'forecast.csv'} and {png}")
    return 0


def evaluate(path: str, split: str, as_json: bool) -> int:
    """``lstmkit eval CHECKPOINT``: the task's metrics on a split."""
    task, model, checkpoint = load_trained(path)
    with torch.no_grad():
        metrics = {name: float(value) for name, value in task.evaluate(model, split).items()}
    if as_json:
        print(json.dumps({"split": split, "step": checkpoint["progress"]["step"], **metrics}))
    else:
        print(f"{task.name} checkpoint at step {checkpoint['progress']['step']}, {split} split:")
        for name, value in metrics.items():
            print(f"  {name:<12} {value:.6g}")
    return 0


def describe_checkpoint(path: str) -> dict:
    """What a checkpoint holds, as plain data (nothing in it is executed)."""
    resolved = resolve_checkpoint_path(path)
    checkpoint = load_checkpoint(resolved)
    parameters = {name: list(tensor.shape) for name, tensor in checkpoint["model"].items()}
    return {
        "path": str(resolved),
        "size_bytes": Path(resolved).stat().st_size,
        "task": checkpoint["task"],
        "progress": checkpoint["progress"],
        "best": checkpoint.get("best"),
        "metrics": checkpoint.get("metrics"),
        "versions": checkpoint.get("versions"),
        "model_args": checkpoint.get("model_args"),
        "parameter_count": sum(int(t.numel()) for t in checkpoint["model"].values()),
        "parameters": parameters,
        "config": checkpoint["config"],
    }


def inspect_checkpoint(path: str, as_json: bool) -> int:
    """``lstmkit inspect-checkpoint PATH``."""
    info = describe_checkpoint(path)
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    progress, best = info["progress"], info["best"] or {}
    print(f"checkpoint   {info['path']} ({info['size_bytes'] / 1e6:.2f} MB)")
    print(f"task         {info['task']}")
    print(
        f"progress     step {progress['step']}, epoch {progress['epoch']}, "
        f"{progress['items']} items seen, {progress.get('world_size', 1)} process(es)"
    )
    if best.get("value") is not None:
        print(f"best         {best['metric']} {best['value']:.6g} at step {best['step']}")
    if info["metrics"]:
        print("metrics      " + "  ".join(f"{k} {v:.6g}" for k, v in info["metrics"].items()))
    print(f"versions     {info['versions']}")
    print(f"parameters   {info['parameter_count']:,}")
    for name, shape in info["parameters"].items():
        print(f"  {name:<40} {tuple(shape)}")
    print("config:")
    print("  " + yaml.safe_dump(info["config"], sort_keys=False).replace("\n", "\n  ").rstrip())
    return 0
