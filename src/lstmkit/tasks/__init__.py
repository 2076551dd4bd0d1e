"""Tasks floor: each application plugs a model, data and metrics into the trainer."""

from .classify.config import ClassifyConfig
from .classify.task import ClassifyTask
from .forecast.task import ForecastConfig, ForecastTask
from .lm.task import LanguageModelConfig, LanguageModelTask
from .memory import MemoryConfig, MemoryTask, adding_problem
from .music.task import MusicConfig, MusicTask
from .recurrent import RecurrentConfig, build_recurrent
from .registry import TASKS, TaskEntry, get_task
from .seq2seq.config import Seq2SeqConfig
from .seq2seq.task import Seq2SeqTask

__all__ = [
    "TASKS", "ClassifyConfig", "ClassifyTask", "ForecastConfig", "ForecastTask",
    "LanguageModelConfig", "LanguageModelTask", "MemoryConfig", "MemoryTask", "MusicConfig",
    "MusicTask", "RecurrentConfig", "Seq2SeqConfig", "Seq2SeqTask", "TaskEntry",
    "adding_problem", "build_recurrent", "get_task",
]
