"""Compiling the native kernels on first use, and loading the cached build afterwards.

The C++ sources in ``csrc/`` are compiled against the installed PyTorch with
`torch.utils.cpp_extension` (ninja from PyPI) into a cache directory keyed by
everything that changes the binary: the sources, the compiler flags, the PyTorch and
Python versions and the CPU's instruction-set flags (the build targets the machine it
runs on). A finished build leaves a marker file; a later process that finds the marker
loads the library directly and compiles nothing.

Environment: ``LSTMKIT_CACHE_DIR`` overrides the cache root (default
``~/.cache/lstmkit``); ``LSTMKIT_NATIVE=0`` turns the native backend off.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

CSRC = Path(__file__).resolve().parent / "csrc"
SOURCES = ("ops.cpp", "lstm.cpp", "gru.cpp", "step.cpp", "linear.cpp")
HEADERS = ("common.h", "lstm.h", "gru.h", "step.h", "linear.h")

# -O3 -ffast-math lets gcc vectorise the tanh/exp loops through glibc's libmvec;
# -ffast-math is a compile flag only (never at link time, where gcc < 13 would add
# crtfastmath.o and flush denormals process-wide). -fopenmp makes ATen's inline
# at::parallel_for use the OpenMP runtime PyTorch already loaded (libgomp.so.1).
CFLAGS = ("-O3", "-ffast-math", "-march=native", "-fopenmp", "-std=c++17")
LDFLAGS = ("-fopenmp",)
_MARKER = "BUILT"


@dataclass(frozen=True)
class BuildInfo:
    """Where the loaded library is, and whether this process had to compile it."""

    path: Path
    compiled: bool


_lock = threading.Lock()
_loaded: BuildInfo | None = None
_failure: str | None = None


def cache_root() -> Path:
    """``LSTMKIT_CACHE_DIR``, else ``~/.cache/lstmkit``, else a folder in the temp dir
    (for machines whose home directory is read-only)."""
    configured = os.environ.get("LSTMKIT_CACHE_DIR")
    if configured:
        return Path(configured)
    home = Path.home() / ".cache" / "lstmkit"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(tempfile.gettempdir()) / "lstmkit-cache"
    return home if os.access(home, os.W_OK) else Path(tempfile.gettempdir()) / "lstmkit-cache"


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor()


def build_key() -> str:
    """A digest of everything the compiled binary depends on."""
    digest = hashlib.sha256()
    for name in SOURCES + HEADERS:
        digest.update(name.encode())
        digest.update((CSRC / name).read_bytes())
    for part in (CFLAGS, LDFLAGS, torch.__version__, sys.version, platform.machine(), _cpu_flags()):
        digest.update(repr(part).encode())
    return digest.hexdigest()[:16]


def _library_name(key: str) -> str:
    return f"lstmkit_native_{key}"


def load_library() -> BuildInfo:
    """Load the native kernels, compiling them first if no cached build exists.

    Raises RuntimeError when the build fails (no compiler, for instance).
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        key = build_key()
        directory = cache_root() / "native" / key
        library = directory / f"{_library_name(key)}.so"
        compiled = False
        if not (directory / _MARKER).exists() or not library.exists():
            _compile(key, directory)
            compiled = True
        torch.ops.load_library(str(library))
        _loaded = BuildInfo(library, compiled)
        return _loaded


def _compile(key: str, directory: Path) -> None:
    from torch.utils import cpp_extension

    directory.mkdir(parents=True, exist_ok=True)
    _put_ninja_on_path()
    # cpp_extension serialises concurrent builds of one directory with a file baton,
    # so two processes starting at once compile once.
    cpp_extension.load(
        name=_library_name(key),
        sources=[str(CSRC / name) for name in SOURCES],
        extra_cflags=list(CFLAGS),
        extra_ldflags=list(LDFLAGS),
        build_directory=str(directory),
        is_python_module=False,
        verbose=os.environ.get("LSTMKIT_NATIVE_VERBOSE") == "1",
    )
    marker = directory / _MARKER
    temporary = marker.with_suffix(".tmp")
    temporary.write_text(key)
    temporary.replace(marker)


def _put_ninja_on_path() -> None:
    # The ninja wheel puts its binary in the environment's bin directory, which is not
    # on PATH when the interpreter is run without activating the environment.
    try:
        import ninja
    except ImportError:
        return
    bin_dir = str(ninja.BIN_DIR)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path


def availability() -> tuple[bool, str | None]:
    """``(True, None)`` once the kernels are loaded; ``(False, why)`` if they cannot be."""
    global _failure
    if os.environ.get("LSTMKIT_NATIVE", "1") == "0":
        return False, "it is turned off by the environment variable LSTMKIT_NATIVE=0"
    if _loaded is not None:
        return True, None
    if _failure is not None:
        return False, _failure
    try:
        load_library()
    except (RuntimeError, OSError, ImportError, subprocess.SubprocessError) as error:
        _failure = f"the native kernels could not be built ({type(error).__name__}: {error})"
        return False, _failure
    return True, None
