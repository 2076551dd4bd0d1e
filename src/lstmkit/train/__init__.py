"""Train floor: the task-agnostic loop, checkpoints, logging and multi-process training.

A task (``lstmkit.tasks``) implements `Task`; `Trainer` does the rest. See
`lstmkit.train.trainer` for the loop and `lstmkit.train.checkpoint` for the file format.
"""

from .checkpoint import (
    BEST,
    LAST,
    CheckpointError,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
)
from .config import EarlyStoppingConfig, OptimizerConfig, RunConfig, ScheduleConfig, TrainConfig
from .distributed import Context
from .task import LossOutput, Task
from .trainer import Trainer, TrainingError, TrainResult

__all__ = [
    "BEST", "LAST", "CheckpointError", "Context", "EarlyStoppingConfig", "LossOutput",
    "OptimizerConfig", "RunConfig", "ScheduleConfig", "Task", "TrainConfig", "TrainResult",
    "Trainer", "TrainingError", "load_checkpoint", "load_model_state", "save_checkpoint",
]
