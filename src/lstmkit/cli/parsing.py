"""The ``lstmkit`` command's parsers, built with jsonargparse from the config dataclasses.

Every task's config is a dataclass with sections (``model``, ``data``, ``train``,
``run``); jsonargparse turns its fields into ``--section.key value`` options, reads the
same keys from ``-c config.yaml``, checks their types, and takes each option's help
from the field's docstring. This module only assembles the parsers and converts
between parsed namespaces, dataclasses and plain dicts.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from jsonargparse import ActionConfigFile, ArgumentParser, Namespace, set_parsing_settings

from ..tasks import TASKS, TaskEntry

# Option help comes from the attribute docstrings of the config dataclasses.
set_parsing_settings(docstring_parse_attribute_docstrings=True)

DESCRIPTION = (
    "lstmkit: train, evaluate and inspect LSTM-family models. "
    "Run 'lstmkit COMMAND --help' for a command's options."
)


def _parser(**kwargs: Any) -> ArgumentParser:
    # exit_on_error=False: errors come back as exceptions, and `main` prints one line.
    # print_config=None: the command has its own --print-config (the resolved config,
    # exactly as config.yaml will hold it); jsonargparse's would be a second spelling.
    return ArgumentParser(exit_on_error=False, print_config=None, **kwargs)


def task_parser(entry: TaskEntry) -> ArgumentParser:
    """``lstmkit train TASK``: the task's config options plus the run controls."""
    parser = _parser(prog=f"lstmkit train {entry.name}", description=f"Train: {entry.help}.")
    parser.add_argument(
        "-c", "--config", action=ActionConfigFile,
        help="YAML file with any of the sections below; options given after it override it.",
    )
    parser.add_argument(
        "--print-config", action="store_true",
        help="Print the resolved configuration as YAML and exit without training.",
    )
    parser.add_argument(
        "--resume", type=str, default=None,
        help="Continue the run in this run directory (or from this checkpoint file) "
        "exactly where its last checkpoint left off, with its saved configuration.",
    )
    parser.add_class_arguments(entry.config_class, nested_key=None, fail_untyped=True)
    return parser


def build_parser() -> ArgumentParser:
    """The whole ``lstmkit`` command."""
    parser = _parser(prog="lstmkit", description=DESCRIPTION)
    commands = parser.add_subcommands(dest="command", required=True)

    train = _parser(description="Train a task; writes a new run directory.")
    commands.add_subcommand("train", train, help="Train a task (see 'lstmkit train --help').")
    tasks = train.add_subcommands(dest="task", required=True)
    for entry in TASKS.values():
        tasks.add_subcommand(entry.name, task_parser(entry), help=entry.help)

    evaluate = _parser(description="Evaluate a checkpoint on a split of its task's data.")
    evaluate.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    evaluate.add_argument(
        "--split", type=str, default="test", choices=["validation", "test"],
        help="Which split to evaluate on.",
    )
    evaluate.add_argument("--json", action="store_true", help="Print the metrics as JSON.")
    commands.add_subcommand("eval", evaluate, help="Evaluate a checkpoint.")

    generate = _parser(description="Sample text from a language-model checkpoint, streamed as it comes.")
    generate.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    generate.add_argument("--prime", type=str, default="", help="Text the sample continues (default: a line break).")
    generate.add_argument("--length", type=int, default=500, help="Tokens (characters or words) to sample.")
    generate.add_argument(
        "--temperature", type=float, default=1.0,
        help="Divide the logits by this: below 1 is more conservative, 0 is greedy.",
    )
    generate.add_argument("--top-k", type=int | None, default=None, help="Sample among the k most probable tokens only.")
    generate.add_argument(
        "--top-p", type=float | None, default=None,
        help="Nucleus sampling: among the fewest most probable tokens whose probability reaches p.",
    )
    generate.add_argument("--seed", type=int, default=0, help="The same seed gives the same text.")
    commands.add_subcommand("generate", generate, help="Generate text from a language model.")

    forecast = _parser(description="Forecast the horizon after the end of a series with a forecasting checkpoint.")
    forecast.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    forecast.add_argument(
        "--series", type=str | None, default=None,
        help="Another series to forecast (built-in or CSV with the same columns); default: the training series.",
    )
    forecast.add_argument(
        "--fill", type=str | None, default=None,
        help="Missing values in --series: none (an error), linear or ffill (default: the training run's).",
    )
    forecast.add_argument(
        "--output", type=str | None, default=None,
        help="Folder to write forecast.csv and forecast.png into (never overwritten).",
    )
    forecast.add_argument("--json", action="store_true", help="Print the forecast as JSON.")
    commands.add_subcommand("forecast", forecast, help="Forecast past the end of a series.")

    predict = _parser(description="Classify sequences (or texts) with a classification checkpoint.")
    predict.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    predict.add_argument(
        "--input", type=str | None, default=None,
        help="A file in the training data's format (.ts, .npz, .csv); labels in it are optional "
        "and, when present, scored.",
    )
    predict.add_argument(
        "--text", type=list[str] | None, default=None,
        help="Texts to classify (text models), e.g. --text '[\"great\", \"awful\"]' or --text+ great.",
    )
    predict.add_argument("--output", type=str | None, default=None, help="CSV file to write (never overwritten).")
    predict.add_argument("--json", action="store_true", help="Print the predictions as JSON.")
    commands.add_subcommand("predict", predict, help="Classify sequences with a classifier.")

    translate = _parser(description="Decode sources with a sequence-to-sequence checkpoint (beam search).")
    translate.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    translate.add_argument("sources", type=str, nargs="*", default=[],
                           help="Source sequences, e.g. words for grapheme-to-phoneme.")
    translate.add_argument(
        "--input", type=str | None, default=None,
        help="A file of sources, one per line, or a TSV of source<TAB>target pairs (then scored).",
    )
    translate.add_argument("--beam", type=int | None, default=None,
                           help="Beam width (1: greedy; default: the training run's model.beam_width).")
    translate.add_argument("--length-penalty", type=float | None, default=None,
                           help="Rank by log-probability / length^alpha (default: the run's).")
    translate.add_argument("--n-best", type=int, default=1, help="Print this many hypotheses per source, with scores.")
    translate.add_argument("--output", type=str | None, default=None, help="File to write (never overwritten).")
    commands.add_subcommand("translate", translate, help="Decode with a sequence-to-sequence model.")

    compose = _parser(description="Sample a piece from a music checkpoint; write MIDI and a piano-roll PNG.")
    compose.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    compose.add_argument("--steps", type=int, default=64, help="Time steps to sample.")
    compose.add_argument("--seed", type=int, default=0, help="The same seed gives the same piece.")
    compose.add_argument("--temperature", type=float, default=1.0, help="Divide the key logits by this.")
    compose.add_argument("--prime-steps", type=int, default=0,
                         help="Start from the first this-many steps of a test chorale.")
    compose.add_argument("--bpm", type=float, default=90.0, help="Tempo of the MIDI file (quarter notes per minute).")
    compose.add_argument(
        "--output", type=str | None, default=None,
        help="Folder for the .mid and .png (default: compositions/ in the run directory; never overwritten).",
    )
    commands.add_subcommand("compose", compose, help="Compose music with a music model.")

    inspect = _parser(description="Describe a checkpoint without running anything from it.")
    inspect.add_argument("path", type=str, help="Checkpoint file or run directory (uses last.pt).")
    inspect.add_argument("--json", action="store_true", help="Print the description as JSON.")
    commands.add_subcommand(
        "inspect-checkpoint", inspect, help="Show what a checkpoint holds: task, progress, model."
    )
    return parser


def config_from_namespace(entry: TaskEntry, parser: ArgumentParser, namespace: Namespace) -> Any:
    """The task's config dataclass from a parsed (not yet instantiated) namespace."""
    sections = [name for name in entry.config_class.__dataclass_fields__]
    subset = Namespace(**{name: namespace[name] for name in sections})
    instantiated = parser.instantiate(subset)
    return entry.config_class(**{name: instantiated[name] for name in sections})


def config_from_dict(entry: TaskEntry, values: dict) -> Any:
    """The task's config dataclass from the plain dict saved in a checkpoint."""
    parser = task_parser(entry)
    namespace = parser.parse_object(values)
    return config_from_namespace(entry, parser, namespace)


def config_to_dict(config: Any) -> dict:
    """Plain data (tuples as lists) for YAML and checkpoints."""
    return _plain(asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
