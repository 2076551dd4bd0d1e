"""Language modelling: the recurrent LM, its n-gram baseline, sampling, and the task."""

from .model import RecurrentLanguageModel
from .task import LanguageModelConfig, LanguageModelTask

__all__ = ["LanguageModelConfig", "LanguageModelTask", "RecurrentLanguageModel"]
