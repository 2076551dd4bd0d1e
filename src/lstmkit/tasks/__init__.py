"""Tasks floor: each application plugs a model, data and metrics into the trainer."""

from .forecast.task import ForecastConfig, ForecastTask
from .lm.task import LanguageModelConfig, LanguageModelTask
from .memory import MemoryConfig, MemoryTask, adding_problem
from .recurrent import RecurrentConfig, build_recurrent
from .registry import TASKS, TaskEntry, get_task

__all__ = [
    "TASKS", "ForecastConfig", "ForecastTask", "LanguageModelConfig", "LanguageModelTask",
    "MemoryConfig", "MemoryTask", "RecurrentConfig", "TaskEntry", "adding_problem",
    "build_recurrent", "get_task",
]
