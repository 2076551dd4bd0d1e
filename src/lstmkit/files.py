"""Atomic writes for files that hold a user's work (checkpoints, configs, outputs).

Every writer here writes a temporary file in the destination's directory, flushes it
to disk, then renames it over the destination (``os.replace``, atomic on POSIX and
Windows). A process killed at any instant therefore leaves either the old file or the
new one, never a torn mix. `write_new_text` refuses to replace an existing file, for
files a later run must never overwrite (a run's ``config.yaml``).

This module is the package's ground floor for file writing: it imports nothing else
from lstmkit, so every floor may use it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def _temporary_beside(path: Path, mode: str) -> Iterator[tuple[IO, Path]]:
    """A temporary file in ``path``'s directory, removed again if the write fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain
        # open() would, so the result is not harder to share than any other output.
        os.chmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as handle:
            yield handle, temporary
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _sync_directory(directory: Path) -> None:
    # The rename itself must reach the disk for the new file to survive a power cut.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(handle)`` on a temporary binary file, then rename it to ``path``."""
    path = Path(path)
    with _temporary_beside(path, "wb") as (handle, temporary):
        write(handle)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    return write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_new_text(path: str | os.PathLike, text: str) -> Path:
    """Create ``path`` holding ``text``; raise FileExistsError if it already exists.

    The content is written to a temporary file first and then hard-linked into place,
    so the file appears complete or not at all, and an existing file is never touched.
    """
    path = Path(path)
    with _temporary_beside(path, "wb") as (handle, temporary):
        handle.write(text.encode("utf-8"))
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; lstmkit never overwrites it") from None
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)
    return path
