"""Tasks floor: each application plugs a model, data and metrics into the trainer."""

from .classify.config import ClassifyConfig
from .classify.task import ClassifyTask
from .forecast.task import ForecastConfig, ForecastTask
from .lm.task import LanguageModelConfig, LanguageModelTask
from .longlag import PROBLEMS as LONG_LAG_PROBLEMS
from .longlag import adding_problem
from .memory import MemoryConfig, MemoryTask
from .music.task import MusicConfig, MusicTask
from .recurrent import RecurrentConfig, build_recurrent
from .registry import TASKS, TaskEntry, get_task
from .seq2seq.config import Seq2SeqConfig
from .seq2seq.task import Seq2SeqTask

__all__ = [
    "LONG_LAG_PROBLEMS", "TASKS", "ClassifyConfig", "ClassifyTask", "ForecastConfig", "ForecastTask",
    "LanguageModelConfig", "LanguageModelTask", "MemoryConfig", "MemoryTask", "MusicConfig",
    "MusicTask", "RecurrentConfig", "Seq2SeqConfig", "Seq2SeqTask", "TaskEntry",
    "adding_problem", "build_recurrent", "get_task",
]
