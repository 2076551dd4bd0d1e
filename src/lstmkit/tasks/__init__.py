"""Tasks floor: each application plugs a model, data and metrics into the trainer."""

from .memory import MemoryConfig, MemoryTask, adding_problem
from .recurrent import RecurrentConfig, build_recurrent
from .registry import TASKS, TaskEntry, get_task

__all__ = [
    "TASKS", "MemoryConfig", "MemoryTask", "RecurrentConfig", "TaskEntry", "adding_problem",
    "build_recurrent", "get_task",
]
