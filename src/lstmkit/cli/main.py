"""``lstmkit`` entry point: parse, run the command, turn errors into one clear line.

A user's mistake (an unknown key, a wrong type, a missing or corrupt file, a NaN
loss) prints ``lstmkit: error: ...`` on stderr and exits non-zero: 2 for a bad command
line or config, 1 when the work itself failed. Tracebacks are kept for real bugs.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..tasks import TASKS
from ..train import CheckpointError, TrainingError
from . import applications, commands, inspection, sweep
from .parsing import build_parser, sweep_parser, task_parser

USAGE_ERROR, RUN_ERROR = 2, 1


def _one_line(error: BaseException) -> str:
    return " ".join(part.strip() for part in str(error).strip().splitlines() if part.strip())


def _fail(message: str, code: int) -> int:
    print(f"lstmkit: error: {message}", file=sys.stderr)
    return code


def _dispatch(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "train" and argv[1] in TASKS:
        # `train TASK` is parsed by the task's own parser: jsonargparse checks the keys
        # of a -c file correctly only at the top level of a parser.
        entry = TASKS[argv[1]]
        namespace = task_parser(entry).parse_args(argv[2:])
        return commands.train(entry.name, namespace, argv[2:])
    if argv and argv[0] == "sweep":  # its own parser, for the same -c reason
        return sweep.sweep(sweep_parser().parse_args(argv[1:]))
    namespace = build_parser().parse_args(argv)  # refuses an unknown task
    if namespace.command == "eval":
        args = namespace["eval"]
        return commands.evaluate(args.checkpoint, args.split, args.json)
    if namespace.command == "generate":
        args = namespace["generate"]
        return commands.generate(
            args.checkpoint, args.prime, args.length, args.temperature, args.top_k, args.top_p,
            args.seed,
        )
    if namespace.command == "forecast":
        args = namespace["forecast"]
        return commands.forecast(args.checkpoint, args.series, args.fill, args.output, args.json)
    if namespace.command == "predict":
        args = namespace["predict"]
        return applications.predict(args.checkpoint, args.input, args.text, args.output, args.json)
    if namespace.command == "translate":
        args = namespace["translate"]
        return applications.translate(
            args.checkpoint, args.sources, args.input, args.beam, args.length_penalty, args.n_best,
            args.output,
        )
    if namespace.command == "compose":
        args = namespace["compose"]
        return applications.compose(
            args.checkpoint, args.steps, args.seed, args.temperature, args.prime_steps, args.output,
            args.bpm,
        )
    if namespace.command == "inspect":
        return _inspect(namespace["inspect"])
    args = namespace["inspect-checkpoint"]
    return commands.inspect_checkpoint(args.path, args.json)


def _inspect(namespace) -> int:
    view, args = namespace.view, namespace[namespace.view]
    if view == "gradients":
        return inspection.gradients(
            args.checkpoints, args.fresh, args.cells, args.task, args.length, args.hidden_size,
            args.forget_bias, args.batch_size, args.seed, args.output,
        )
    if view == "gates":
        return inspection.gates(
            args.checkpoint, args.fresh, args.batch_size, args.seed, args.low, args.high, args.output
        )
    return inspection.cells(
        args.checkpoint, args.text, args.text_file, args.length, args.layer, args.state,
        args.cells, args.predicate, args.top, args.output,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except (CheckpointError, FileExistsError, FileNotFoundError, TrainingError) as error:
        return _fail(_one_line(error), RUN_ERROR)
    except (ValueError, TypeError, argparse.ArgumentError) as error:
        return _fail(_one_line(error), USAGE_ERROR)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``lstmkit inspect-checkpoint x | head``): not an error
        # worth a traceback. Point stdout at devnull so the exit flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Under torchrun, gloo's worker threads can outlive the process group (DDP
        # holds it) and abort the process while the interpreter finalises, after all
        # work is done and saved. Leave without finalising: everything is flushed.
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
