"""CLI floor: the ``lstmkit`` command (parse, build a task, run it)."""

from .main import main

__all__ = ["main"]
