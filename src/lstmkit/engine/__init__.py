"""Floor 2: running one layer (or a whole stack) over a sequence, forward and backward."""

from .dispatch import BACKENDS, check_backend, run_layer, run_stack, select_backend
from .streaming import run_step

__all__ = ["BACKENDS", "check_backend", "run_layer", "run_stack", "run_step", "select_backend"]
