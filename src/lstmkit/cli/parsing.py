"""The ``lstmkit`` command's parsers, built with jsonargparse from the config dataclasses.

Every task's config is a dataclass with sections (``model``, ``data``, ``train``,
``run``); jsonargparse turns its fields into ``--section.key value`` options, reads the
same keys from ``-c config.yaml``, checks their types, and takes each option's help
from the field's docstring. This module only assembles the parsers and converts
between parsed namespaces, dataclasses and plain dicts.
"""

from __future__ import annotations

from typing import Any

from jsonargparse import ActionConfigFile, ArgumentParser, Namespace, set_parsing_settings

from ..tasks import TASKS, TaskEntry
from ..tasks.longlag.sweep import SweepConfig
from ..train.config import config_to_dict  # noqa: F401  (the CLI's name for it)

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


def _add_config_file_options(parser: ArgumentParser) -> None:
    """``-c FILE`` and ``--print-config``, for every command built from a config dataclass."""
    parser.add_argument(
        "-c", "--config", action=ActionConfigFile,
        help="YAML file with any of the sections below; options given after it override it.",
    )
    parser.add_argument(
        "--print-config", action="store_true",
        help="Print the resolved configuration as YAML and exit without training.",
    )


def _add_batch_options(parser: ArgumentParser, batch_size: int, outputs: str) -> None:
    """``--fresh``, ``--batch-size``, ``--seed`` and ``--output`` of the inspect views."""
    parser.add_argument("--fresh", action="store_true",
                        help="Use a fresh initialisation of the model instead of its weights.")
    parser.add_argument("--batch-size", type=int, default=batch_size, help="Sequences in the batch.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of fresh initialisations.")
    parser.add_argument("--output", type=str | None, default=None,
                        help=f"Folder for {outputs} (default: a new folder under the run's inspect/).")


def task_parser(entry: TaskEntry) -> ArgumentParser:
    """``lstmkit train TASK``: the task's config options plus the run controls."""
    parser = _parser(prog=f"lstmkit train {entry.name}", description=f"Train: {entry.help}.")
    _add_config_file_options(parser)
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

    commands.add_subcommand(
        "sweep", sweep_parser(),
        help="Train models x lags x seeds on a long-lag problem; success table and plot.",
    )

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

    inspect_views = _parser(description="See inside a model of any task (see each view's --help).")
    commands.add_subcommand(
        "inspect", inspect_views,
        help="See inside a model: gradient flow, gate statistics, cell activations.",
    )
    _add_inspect_views(inspect_views)  # jsonargparse: a subcommand's own subcommands after it

    inspect = _parser(description="Describe a checkpoint without running anything from it.")
    inspect.add_argument("path", type=str, help="Checkpoint file or run directory (uses last.pt).")
    inspect.add_argument("--json", action="store_true", help="Print the description as JSON.")
    commands.add_subcommand(
        "inspect-checkpoint", inspect, help="Show what a checkpoint holds: task, progress, model."
    )
    return parser


def _add_inspect_views(parser: ArgumentParser) -> None:
    """``lstmkit inspect gradients | gates | cells``."""
    views = parser.add_subcommands(dest="view", required=True)

    gradients = _parser(description=(
        "The norm of dloss/dh(t) (and dloss/dc(t) for an LSTM) at every step, against the "
        "lag: the vanishing gradient made visible. Checkpoints of any task, and/or fresh "
        "models of a memory problem (--cells), all on one plot."
    ))
    gradients.add_argument("checkpoints", type=str, nargs="*", default=[],
                           help="Checkpoint files or run directories (use last.pt).")
    gradients.add_argument("--cells", type=str, nargs="*", default=[],
                           help="Fresh models of a memory problem to compare, e.g. --cells rnn_tanh lstm gru.")
    gradients.add_argument("--task", type=str, default="adding",
                           help="The memory problem the --cells models read (see 'lstmkit train memory --help').")
    gradients.add_argument("--length", type=int | None, default=None,
                           help="Sequence length of the --cells problem (default: the problem's).")
    gradients.add_argument("--hidden-size", type=int, default=32, help="Units of the --cells models.")
    gradients.add_argument("--forget-bias", type=float | None, default=None,
                           help="Initial forget-gate bias of the --cells LSTMs (default: the standard init).")
    _add_batch_options(gradients, 32, "gradient_flow.png/.csv")
    views.add_subcommand("gradients", gradients, help="Gradient norm against the lag.")

    gates = _parser(description=(
        "Per layer and gate: the fraction of activations saturated near 0 or 1, "
        "histograms, and the forget gate's memory span -1/mean(ln f), on a batch of the "
        "checkpoint's training data."
    ))
    gates.add_argument("checkpoint", type=str, help="Checkpoint file or run directory (uses last.pt).")
    _add_batch_options(gates, 64, "gates.png and the CSV tables")
    gates.add_argument("--low", type=float, default=0.1, help="Left-saturated below this.")
    gates.add_argument("--high", type=float, default=0.9, help="Right-saturated above this.")
    views.add_subcommand("gates", gates, help="Gate saturation and memory span.")

    cells = _parser(description=(
        "A self-contained HTML page colouring each character of a text by cells' "
        "activations (character-level language models), and the cells most correlated "
        "with a property of the text."
    ))
    cells.add_argument("checkpoint", type=str, help="Checkpoint of a character-level 'lm' run.")
    cells.add_argument("--text", type=str | None, default=None, help="The text (default: the run's validation text).")
    cells.add_argument("--text-file", type=str | None, default=None, help="Read the text from this UTF-8 file.")
    cells.add_argument("--length", type=int, default=2000, help="Characters of the text to show.")
    cells.add_argument("--layer", type=int | None, default=None, help="Layer to show (default: the last).")
    cells.add_argument("--state", type=str, default="cell", choices=["cell", "hidden"],
                       help="cell: tanh(c(t)); hidden: h(t).")
    cells.add_argument("--cells", type=list[int] | None, default=None,
                       help="Cells to show, e.g. --cells '[3, 17]' (default: the top ones).")
    cells.add_argument("--predicate", type=str | None, default=None, help=(
        "Find the cells most correlated with: inside-quotes, inside-parentheses, "
        "line-position, vowel, whitespace, or regex:PATTERN."
    ))
    cells.add_argument("--top", type=int, default=5, help="How many cells to find and show.")
    cells.add_argument("--output", type=str | None, default=None,
                       help="Folder for cells.html (default: a new folder under the run's inspect/).")
    views.add_subcommand("cells", cells, help="Cell activations over a text, as HTML.")


def config_from_namespace(entry: TaskEntry, parser: ArgumentParser, namespace: Namespace) -> Any:
    """The task's config dataclass from a parsed (not yet instantiated) namespace."""
    return dataclass_from_namespace(entry.config_class, parser, namespace)


def dataclass_from_namespace(config_class: type, parser: ArgumentParser, namespace: Namespace) -> Any:
    """A config dataclass (fields = top-level sections) from a parsed namespace."""
    sections = [name for name in config_class.__dataclass_fields__]
    subset = Namespace(**{name: namespace[name] for name in sections})
    instantiated = parser.instantiate(subset)
    return config_class(**{name: instantiated[name] for name in sections})


def sweep_parser() -> ArgumentParser:
    """``lstmkit sweep``: the sweep's options (models, lags, seeds) and the base run's."""
    parser = _parser(
        prog="lstmkit sweep",
        description=(
            "Train every model of sweep.models at every length of sweep.lengths with every "
            "seed of sweep.seeds on a long-time-lag problem; write results.csv, summary.md "
            "and sweep.png (success rate and sequences to solve) into a new sweep directory."
        ),
    )
    _add_config_file_options(parser)
    parser.add_class_arguments(SweepConfig, nested_key=None, fail_untyped=True)
    return parser


def config_from_dict(entry: TaskEntry, values: dict) -> Any:
    """The task's config dataclass from the plain dict saved in a checkpoint."""
    parser = task_parser(entry)
    namespace = parser.parse_object(values)
    return config_from_namespace(entry, parser, namespace)
