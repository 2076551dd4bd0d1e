"""How fast lstmkit's engines and variants run, next to torch.nn.LSTM and a hand-written cell.

Run from the repository root::

    python -m benchmarks.bench_engines            # the full grid (long; see --help)
    python -m benchmarks.bench_engines --quick    # a small grid, for smoke tests

Every competitor runs in this one process on the same input and, where the function is
the same, the same weights, with threads pinned; medians of interleaved repeats after
warm-up (see `benchmarks.timing`). Machines are noisy, so what counts are the ratios to
``torch.nn.LSTM`` measured side by side, not the absolute times. Results go to a JSON
file (rewritten after every shape, so an interrupted run keeps what it measured), with
the speed targets of `benchmarks.targets` checked row by row.

Competitors, all single layer, unidirectional, time-major ``(T, B, H)`` float32 with
input size = hidden size = ``H``:

- ``torch``: ``torch.nn.LSTM(H, H)``, the floor;
- ``lstmkit_auto``, ``lstmkit_native``: the vanilla ``lstmkit.LSTM`` with its torch
  weights, backend ``"auto"`` / ``"native"``;
- ``peephole``, ``cifg``, ``layer_norm``, ``lstmp`` (``proj_size=H // 2``), ``zoneout``
  (0.1; sampled masks in training, the expectation in eval): variants, backend native;
- ``plain_peephole``: `benchmarks.plain_peephole.PlainPeepholeLSTM`, the peephole LSTM
  a user would write in plain PyTorch, with the ``peephole`` competitor's weights.

Plus streaming: per-step latency of ``lstmkit.LSTM.step`` against ``torch.nn.LSTM``
called on length-1 sequences, B = 1.

A competitor that cannot be built or run (a backend or API that does not exist yet) is
recorded as unavailable with its error and shown as ``n/a``; the rest goes on.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

import lstmkit

from . import report, targets
from .plain_peephole import PlainPeepholeLSTM
from .timing import Budget, Case, Measurement, attempt, measure_interleaved

IMPLS = (
    "torch", "lstmkit_auto", "lstmkit_native", "peephole", "cifg", "layer_norm", "lstmp",
    "zoneout", "plain_peephole",
)
MODES = ("infer", "train")
FULL_GRID = {"batch": (1, 32, 128), "length": (100, 512), "hidden": (128, 512, 1024)}
QUICK_GRID = {"batch": (1, 32), "length": (100,), "hidden": (128, 512)}
DEFAULT_OUT = Path("benchmarks/results/engines.json")
STREAM_HIDDEN = 128
NOISY_SPREAD = 1.5  # slowest / fastest timed run above which a measurement is called noisy
NATIVE = "native"

# Who should compute the same function as whom: checked on the first inference run.
SAME_FUNCTION_AS = {
    "lstmkit_auto": "torch", "lstmkit_native": "torch", "plain_peephole": "peephole",
}


def lstmkit_options(impl: str, hidden: int, native_backend: str) -> dict | None:
    """Keyword arguments of ``lstmkit.LSTM(H, H, ...)`` for an impl; None if not lstmkit."""
    options = {
        "lstmkit_auto": {},
        "lstmkit_native": {"backend": native_backend},
        "peephole": {"peephole": True, "backend": native_backend},
        "cifg": {"cifg": True, "backend": native_backend},
        "layer_norm": {"layer_norm": True, "backend": native_backend},
        "lstmp": {"proj_size": hidden // 2, "backend": native_backend},
        "zoneout": {"zoneout": 0.1, "backend": native_backend},
    }
    return options.get(impl)


# ---------------------------------------------------------------------------- building


@dataclass
class Built:
    """A competitor ready to run, or the reason it is not."""

    model: torch.nn.Module | None = None
    error: str | None = None
    backend: str | None = None  # the backend asked of lstmkit
    fallback_from: str | None = None  # why native was replaced by --backend-fallback
    warnings: list[str] = field(default_factory=list)


def _copy_matching(model: torch.nn.Module, source: dict[str, torch.Tensor]) -> None:
    """Copy every tensor of ``source`` whose name and shape a parameter of ``model`` shares.

    The variants share torch's names; the ones whose shapes differ (CIFG's three gates,
    the projection's narrower ``weight_hh``) keep their own seeded initialisation.
    """
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            tensor = source.get(name)
            if tensor is not None and tensor.shape == parameter.shape:
                parameter.copy_(tensor)


def _build_lstmkit(impl: str, hidden: int, weights: dict[str, torch.Tensor],
                   peephole: torch.Tensor, fallback: str | None) -> Built:
    options = lstmkit_options(impl, hidden, NATIVE)
    assert options is not None
    built = Built(backend=options.get("backend", "auto"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, built.error = attempt(lambda: lstmkit.LSTM(hidden, hidden, **options))
        if model is None and fallback is not None and built.backend == NATIVE:
            built.fallback_from, built.backend = built.error, fallback
            model, built.error = attempt(
                lambda: lstmkit.LSTM(hidden, hidden, **{**options, "backend": fallback}))
        if model is None:
            return built
        if options.keys() <= {"backend"}:
            # Vanilla: torch's state_dict must load unchanged (a promise of the API).
            _, built.error = attempt(lambda: model.load_state_dict(weights))
        else:
            _copy_matching(model, {**weights, "weight_peephole_l0": peephole})
    built.warnings = sorted({str(w.message) for w in caught})
    if built.error is None:
        built.model = model
    return built


def build_impls(impls: list[str], base: torch.nn.LSTM, peephole: torch.Tensor,
                fallback: str | None) -> dict[str, Built]:
    """Every requested competitor of one shape, sharing ``base``'s weights.

    ``peephole`` (3, H) is given to both the lstmkit peephole LSTM and the plain one, so
    those two compute the same function, as torch and the vanilla lstmkit LSTMs do.
    """
    hidden = base.hidden_size
    weights = {name: tensor.detach() for name, tensor in base.state_dict().items()}
    built: dict[str, Built] = {}
    for impl in impls:
        if impl == "torch":
            built[impl] = Built(model=base)
        elif impl == "plain_peephole":
            bias = weights["bias_ih_l0"] + weights["bias_hh_l0"]
            built[impl] = Built(model=PlainPeepholeLSTM.from_weights(
                weights["weight_ih_l0"], weights["weight_hh_l0"], bias, peephole))
        else:
            built[impl] = _build_lstmkit(impl, hidden, weights, peephole, fallback)
    return built


def engine_in_use(model: torch.nn.Module, x: torch.Tensor) -> str | None:
    """Which lstmkit backend would run ``model`` on ``x`` (best effort; None if unknown).

    Uses ``lstmkit.engine.select_backend``, the dispatcher's own choice, so "auto" shows
    whether it found a fast engine or fell back to reference.
    """
    if not isinstance(model, lstmkit.LSTM):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module, _ = attempt(lambda: lstmkit.engine.select_backend(model.backend, model.spec, x))
    if module is None:
        return None
    return getattr(module, "NAME", module.__name__.rsplit(".", 1)[-1])


# ---------------------------------------------------------------------------- measuring


def make_case(model: torch.nn.Module, x: torch.Tensor, mode: str) -> Case:
    """One forward (infer, under no_grad) or forward + backward of ``y.sum()`` (train)."""
    if mode == "infer":
        def infer() -> torch.Tensor:
            with torch.no_grad():
                return model(x)[0]
        return Case(run=infer)

    def zero_grads() -> None:
        model.zero_grad(set_to_none=True)

    def train() -> None:
        y = model(x)[0]
        y.sum().backward()
    return Case(run=train, setup=zero_grads)


class OutputComparer:
    """Max |difference| between outputs of competitors that compute the same function.

    Called with each competitor's first warm-up output; keeps an output only until its
    partner has been seen.
    """

    def __init__(self, impls: list[str]) -> None:
        self.pending = {(a, b) for a, b in SAME_FUNCTION_AS.items() if a in impls and b in impls}
        self.outputs: dict[str, torch.Tensor] = {}
        self.diffs: dict[str, dict] = {}

    def __call__(self, impl: str, output: object) -> None:
        if not isinstance(output, torch.Tensor) or not any(impl in p for p in self.pending):
            return
        self.outputs[impl] = output.detach()
        for pair in sorted(self.pending):
            mine, theirs = pair
            if mine in self.outputs and theirs in self.outputs:
                self.diffs[mine] = {"vs": theirs,
                                    "max_abs_diff": _max_abs_diff(self.outputs[mine],
                                                                  self.outputs[theirs])}
                self.pending.discard(pair)
        wanted = {name for pair in self.pending for name in pair}
        self.outputs = {name: out for name, out in self.outputs.items() if name in wanted}


def _max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float | str:
    if a.shape != b.shape:
        return f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}"
    value = (a - b).abs().max().item()
    return value if math.isfinite(value) else str(value)


def measure_shape(batch: int, length: int, hidden: int, modes: list[str], impls: list[str],
                  budget: Budget, seed: int, fallback: str | None) -> list[dict]:
    """Records of every (mode, impl) at one shape, printed as they complete."""
    torch.manual_seed(seed)
    base = torch.nn.LSTM(hidden, hidden)
    bound = 1.0 / math.sqrt(hidden)
    peephole = torch.empty(3, hidden).uniform_(-bound, bound)
    x = torch.randn(length, batch, hidden)  # (T, B, H)
    built = build_impls(impls, base, peephole, fallback)
    records = []
    for mode in modes:
        cases = {}
        for impl, item in built.items():
            if item.model is not None:
                item.model.train(mode == "train")
                cases[impl] = make_case(item.model, x, mode)
        comparer = OutputComparer(impls) if mode == "infer" else None
        results = measure_interleaved(cases, budget, comparer)
        torch_time = results["torch"].median if "torch" in results else None
        for impl in impls:
            record = _record(mode, batch, length, hidden, impl, built[impl],
                             results.get(impl), torch_time, x)
            if comparer is not None and impl in comparer.diffs:
                record["agreement"] = comparer.diffs[impl]
            print(_line(record), flush=True)
            records.append(record)
    return records


def _record(mode: str, batch: int, length: int, hidden: int, impl: str, built: Built,
            measurement: Measurement | None, torch_time: float | None,
            x: torch.Tensor) -> dict:
    record: dict = {"mode": mode, "B": batch, "T": length, "H": hidden, "impl": impl}
    error = built.error if measurement is None else measurement.error
    median = None if measurement is None else measurement.median
    record.update({
        "available": median is not None,
        "median_s": median,
        "min_s": min(measurement.times) if median is not None else None,
        "spread": max(measurement.times) / min(measurement.times) if median is not None else None,
        "repeats": 0 if measurement is None else len(measurement.times),
        "times": [] if measurement is None else measurement.times,
        "warmup_runs": 0 if measurement is None else measurement.warmup_runs,
        "ratio_to_torch": None if median is None or torch_time is None else median / torch_time,
    })
    if error is not None:
        record["error"] = error
    if built.backend is not None:
        record["backend"] = built.backend
        if built.model is not None:
            record["engine"] = engine_in_use(built.model, x)
    if built.fallback_from is not None:
        record["fallback_from"] = built.fallback_from
    record["load_average"] = _load_average()  # after the runs: was the machine quiet?
    messages = sorted(set(built.warnings + ([] if measurement is None else measurement.warnings)))
    if messages:
        record["warnings"] = messages
    return record


def _line(record: dict) -> str:
    where = f"{record['mode']:<5} B={record['B']:<4} T={record['T']:<4} H={record['H']:<5}"
    head = f"{where} {record['impl']:<15}"
    if not record["available"]:
        return f"{head} n/a  ({record.get('error', 'not run')})"
    text = f"{head} {record['median_s'] * 1e3:10.3f} ms"
    if record["ratio_to_torch"] is not None:
        text += f"  x{record['ratio_to_torch']:.3f} torch"
    text += f"  n={record['repeats']}"
    if record.get("engine"):
        text += f"  engine={record['engine']}"
    if "agreement" in record:
        agreement = record["agreement"]
        diff = agreement["max_abs_diff"]
        diff_text = f"{diff:.1e}" if isinstance(diff, float) else diff
        text += f"  |y - y_{agreement['vs']}|max={diff_text}"
    return text


def measure_stream(hidden: int, steps: int, budget: Budget, seed: int) -> dict:
    """Per-step latency of ``lstmkit.LSTM.step`` against ``torch.nn.LSTM`` on length-1 input.

    Both carry their state from step to step, B = 1, under ``torch.no_grad()`` in eval;
    the lstmkit LSTM has the torch LSTM's weights. One timed run is ``steps`` steps.
    """
    torch.manual_seed(seed)
    base = torch.nn.LSTM(hidden, hidden).eval()
    xs = torch.randn(steps, 1, hidden)  # (steps, N=1, H_in)
    torch_inputs = list(xs.unsqueeze(1))  # each (L=1, N=1, H_in)
    step_inputs = list(xs)  # each (N=1, H_in)

    def torch_stream() -> torch.Tensor:
        h = torch.zeros(1, 1, hidden)
        c = torch.zeros(1, 1, hidden)
        with torch.no_grad():
            for x_t in torch_inputs:
                y, (h, c) = base(x_t, (h, c))
        return y.reshape(-1)

    result: dict = {"B": 1, "H": hidden, "steps": steps}
    cases = {"torch": Case(run=torch_stream)}

    def build_stepper() -> Callable:
        model = lstmkit.LSTM(hidden, hidden)
        model.load_state_dict(base.state_dict())
        return model.eval().step  # AttributeError while lstmkit has no step API

    step, build_error = attempt(build_stepper)
    if step is not None:
        def step_stream() -> torch.Tensor:
            state = None
            with torch.no_grad():
                for x_t in step_inputs:
                    y, state = step(x_t, state)
            return y.reshape(-1)
        cases["lstmkit_step"] = Case(run=step_stream)

    outputs: dict[str, torch.Tensor] = {}
    results = measure_interleaved(cases, budget, lambda name, out: outputs.setdefault(name, out))
    for name in ("torch", "lstmkit_step"):
        measurement = results.get(name)
        median = None if measurement is None else measurement.median
        entry = {
            "available": median is not None,
            "us_per_step": None if median is None else median / steps * 1e6,
            "median_s": median,
            "repeats": 0 if measurement is None else len(measurement.times),
            "times": [] if measurement is None else measurement.times,
        }
        error = build_error if measurement is None else measurement.error
        if error is not None:
            entry["error"] = error
        result[name] = entry
    torch_us, step_us = result["torch"]["us_per_step"], result["lstmkit_step"]["us_per_step"]
    result["ratio"] = None if torch_us is None or step_us is None else step_us / torch_us
    if "torch" in outputs and "lstmkit_step" in outputs:
        result["agreement"] = {"vs": "torch", "max_abs_diff": _max_abs_diff(
            outputs["lstmkit_step"], outputs["torch"])}
    return result


def _stream_lines(stream: dict) -> list[str]:
    lines = []
    for name in ("torch", "lstmkit_step"):
        entry = stream[name]
        if entry["available"]:
            lines.append(f"stream B=1 H={stream['H']} {name:<13} {entry['us_per_step']:9.2f} "
                         f"us/step  n={entry['repeats']}")
        else:
            lines.append(f"stream B=1 H={stream['H']} {name:<13} n/a  ({entry.get('error')})")
    if stream["ratio"] is not None:
        lines.append(f"stream step / torch = {stream['ratio']:.3f}")
    return lines


# ---------------------------------------------------------------------------- the run


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_engines",
        description="Time lstmkit's engines and variants against torch.nn.LSTM and a "
                    "plain-PyTorch peephole LSTM; write JSON and print ratio tables.",
    )
    full = FULL_GRID
    parser.add_argument("--batch", type=_positive_int, nargs="+", metavar="B",
                        help=f"batch sizes (default {' '.join(map(str, full['batch']))})")
    parser.add_argument("--length", type=_positive_int, nargs="+", metavar="T",
                        help=f"sequence lengths (default {' '.join(map(str, full['length']))})")
    parser.add_argument("--hidden", type=_positive_int, nargs="+", metavar="H",
                        help="hidden = input sizes "
                             f"(default {' '.join(map(str, full['hidden']))})")
    parser.add_argument("--quick", action="store_true",
                        help="small grid for smoke tests: B 1 32, T 100, H 128 512 "
                             "(explicit --batch/--length/--hidden still win)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                        help="infer (eval, no_grad) and/or train (forward + backward)")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS),
                        metavar="IMPL", help=f"competitors to time, from: {', '.join(IMPLS)} "
                                             "(torch is always added: ratios need it)")
    parser.add_argument("--repeats", type=_positive_int, default=10,
                        help="most timed runs per measurement (default 10)")
    parser.add_argument("--min-repeats", type=_positive_int, default=3,
                        help="fewest timed runs per measurement, capped by --repeats "
                             "(default 3)")
    parser.add_argument("--min-time", type=_non_negative_float, default=0.5,
                        help="seconds of timed runs to aim for per measurement before "
                             "stopping short of --repeats (default 0.5)")
    parser.add_argument("--warmup", type=_positive_int, default=2,
                        help="most warm-up runs per measurement; fewer once they took "
                             "--min-time (default 2)")
    parser.add_argument("--threads", type=_positive_int, default=os.cpu_count() or 1,
                        help=f"torch threads (default os.cpu_count() = {os.cpu_count()})")
    parser.add_argument("--seed", type=int, default=0, help="weights and inputs (default 0)")
    parser.add_argument("--stream-steps", type=_positive_int, default=2000,
                        help="steps per timed streaming run (default 2000)")
    parser.add_argument("--no-stream", action="store_true",
                        help="skip the streaming step-latency measurement")
    parser.add_argument("--backend-fallback", choices=("reference", "auto", "vendor"),
                        help="for development: when backend='native' cannot be built, build "
                             "with this backend instead (recorded); default: no fallback, "
                             "native impls are n/a")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"JSON results, written atomically (default {DEFAULT_OUT})")
    parser.add_argument("--markdown", type=Path,
                        help="also write the table and target summary as markdown here")
    args = parser.parse_args(argv)
    grid = QUICK_GRID if args.quick else FULL_GRID
    for name in ("batch", "length", "hidden"):
        if getattr(args, name) is None:
            setattr(args, name, list(grid[name]))
    if "torch" not in args.impls:
        args.impls = ["torch", *args.impls]
    # Keep the canonical order (it is the table's column order) and drop duplicates.
    args.impls = [impl for impl in IMPLS if impl in args.impls]
    args.modes = [mode for mode in MODES if mode in args.modes]
    return args


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*command: str) -> str | None:
    try:
        done = subprocess.run(["git", *command], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def metadata(args: argparse.Namespace) -> dict:
    """What the numbers depend on: versions, machine, threads, date, arguments."""
    status = _git("status", "--porcelain")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "lstmkit_version": getattr(lstmkit, "__version__", None),
        "lstmkit_path": str(Path(lstmkit.__file__).resolve().parent),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "load_average_start": _load_average(),
        "args": {key: str(value) if isinstance(value, Path) else value
                 for key, value in vars(args).items()},
    }


def _medians(records: list[dict]) -> dict[tuple[str, int, int, int], dict[str, float | None]]:
    table: dict[tuple[str, int, int, int], dict[str, float | None]] = {}
    for record in records:
        row = (record["mode"], record["B"], record["T"], record["H"])
        table.setdefault(row, {})[record["impl"]] = record["median_s"]
    return table


def _refresh_targets(document: dict, impls: list[str]) -> None:
    checks = targets.check_rows(_medians(document["records"]), impls)
    checks += targets.check_stream(document["streaming"])
    document["targets"] = {"summary": targets.summarize(checks), "checks": checks}


def _progress_writer(path: Path, impls: list[str]) -> Callable[[dict], None]:
    def write(document: dict) -> None:
        _refresh_targets(document, impls)
        report.write_json(path, document)
    return write


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    budget = Budget(min_time=args.min_time, min_repeats=min(args.min_repeats, args.repeats),
                    max_repeats=args.repeats, warmup=args.warmup)
    document: dict = {"benchmark": "lstmkit engines", "complete": False,
                      "metadata": metadata(args), "records": [], "streaming": None,
                      "targets": {}}
    write = _progress_writer(args.out, args.impls)
    meta = document["metadata"]
    print(f"torch {meta['torch_version']}, lstmkit {meta['lstmkit_version']}, "
          f"{meta['threads']} threads, {meta['cpu_model']}", flush=True)
    load = meta["load_average_start"]
    if load is not None and load[0] > 0.5:
        # Threads oversubscribed by other processes can stall in every parallel region
        # (torch.nn.LSTM steps were seen 100x slower): fused multi-threaded code suffers
        # most, so even the ratios are biased, not just noisy.
        print(f"note: 1-minute load average {load[0]} on {os.cpu_count()} CPUs before "
              "starting: other processes compete for the cores; timings will be noisy "
              "(a quiet machine, or --threads 1, gives steadier numbers)", flush=True)
    if args.backend_fallback:
        print(f"note: backend='native' falls back to {args.backend_fallback!r} when "
              "unavailable (--backend-fallback)", flush=True)

    # Small shapes first: early, cheap feedback before the long ones.
    shapes = sorted(((b, t, h) for b in args.batch for t in args.length for h in args.hidden),
                    key=lambda s: (s[0] * s[1] * s[2], s))
    for batch, length, hidden in shapes:
        document["records"] += measure_shape(batch, length, hidden, args.modes, args.impls,
                                             budget, args.seed, args.backend_fallback)
        write(document)
    if not args.no_stream:
        document["streaming"] = measure_stream(STREAM_HIDDEN, args.stream_steps, budget,
                                               args.seed)
        for line in _stream_lines(document["streaming"]):
            print(line, flush=True)
    document["complete"] = True
    meta["load_average_end"] = _load_average()
    write(document)

    cells = report.table_cells(_medians(document["records"]), args.impls)
    summary = targets.format_summary(document["targets"]["summary"])
    print("\ntorch in ms; every other column time / time(torch); the last one "
          "time(plain_peephole) / time(peephole)")
    print(report.format_text(cells))
    print("\ntargets:")
    print("\n".join(summary) if summary else "(no target applies to this grid)")
    noisy = [r for r in document["records"] if (r["spread"] or 0) > NOISY_SPREAD]
    if noisy:
        print(f"\nnote: {len(noisy)} of {len(document['records'])} measurements have a slowest "
              f"run over {NOISY_SPREAD}x their fastest ('spread' in the JSON): the machine was "
              "not quiet; rerun on a quiet machine or with --threads 1")
    print(f"\nwrote {args.out}")
    if args.markdown is not None:
        text = (report.format_markdown(cells) + "\n\nTargets:\n\n"
                + "\n".join(f"- {line}" for line in summary) + "\n")
        report.write_atomic(args.markdown, text)
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
