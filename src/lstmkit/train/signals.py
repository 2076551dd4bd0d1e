"""SIGINT/SIGTERM become a request to stop after the current step, not a dead process.

While `GracefulStop` is active, the first SIGINT or SIGTERM sets ``requested`` (the
trainer then saves a checkpoint and returns); a second SIGINT raises
KeyboardInterrupt as usual, for a user who really wants out now.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


class GracefulStop:
    """Context manager that records the first stop signal instead of dying on it."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum

    def __enter__(self) -> GracefulStop:  # noqa: PYI034  (3.10 has no typing.Self)
        # Signal handlers can only be installed from the main thread (not in a test
        # runner's worker thread); elsewhere the default behaviour stays.
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
