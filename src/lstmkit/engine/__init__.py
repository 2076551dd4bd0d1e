"""Floor 2: running one layer over a whole sequence, forward and backward."""

from .dispatch import BACKENDS, check_backend, run_layer, select_backend

__all__ = ["BACKENDS", "check_backend", "run_layer", "select_backend"]
