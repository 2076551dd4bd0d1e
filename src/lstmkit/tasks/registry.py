"""The tasks ``lstmkit train TASK`` knows: name → config dataclass and Task class."""

from __future__ import annotations

from dataclasses import dataclass

from ..train import Task
from .classify.config import ClassifyConfig
from .classify.task import ClassifyTask
from .forecast.task import ForecastConfig, ForecastTask
from .lm.task import LanguageModelConfig, LanguageModelTask
from .memory import MemoryConfig, MemoryTask
from .music.task import MusicConfig, MusicTask
from .seq2seq.config import Seq2SeqConfig
from .seq2seq.task import Seq2SeqTask


@dataclass(frozen=True)
class TaskEntry:
    """A task as the command line sees it.

    Attributes:
        name: ``lstmkit train NAME``.
        config_class: a dataclass with ``model``, ``data``, ``train`` and ``run`` fields.
        task_class: the `Task` subclass, built from an instance of ``config_class``.
        help: one line for ``lstmkit train --help``.
    """

    name: str
    config_class: type
    task_class: type[Task]
    help: str


TASKS: dict[str, TaskEntry] = {
    entry.name: entry
    for entry in (
        TaskEntry("memory", MemoryConfig, MemoryTask, "long-time-lag memory problems (the adding problem)"),
        TaskEntry(
            "lm", LanguageModelConfig, LanguageModelTask,
            "character- or word-level language model on a corpus (then: lstmkit generate)",
        ),
        TaskEntry(
            "forecast", ForecastConfig, ForecastTask,
            "multi-step time-series forecasting with a rolling-origin backtest "
            "(then: lstmkit forecast)",
        ),
        TaskEntry(
            "classify", ClassifyConfig, ClassifyTask,
            "sequence classification: speech features, images row by row, text sentiment "
            "(then: lstmkit predict)",
        ),
        TaskEntry(
            "seq2seq", Seq2SeqConfig, Seq2SeqTask,
            "encoder-decoder with attention: grapheme-to-phoneme on cmudict or your pairs "
            "(then: lstmkit translate)",
        ),
        TaskEntry(
            "music", MusicConfig, MusicTask,
            "polyphonic music: an LSTM over piano rolls of the Bach chorales (then: lstmkit compose)",
        ),
    )
}


def get_task(name: str) -> TaskEntry:
    """The entry for ``name``; a ValueError listing the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None
