#!/usr/bin/env python3
"""Set up and run lstmkit on a fresh machine that has only ``python3``.

    python3 dev.py demo    # the main job: set up, then run the demonstration
    python3 dev.py test    # set up, then run the test suite
    python3 dev.py bench   # set up, then run the engine benchmark (benchmarks/)

Set-up creates ``.venv`` in the repository and installs lstmkit into it (editable,
with its test extras); it runs again only when ``pyproject.toml`` changes. Fashion-MNIST
(for ``lstmkit train classify --data.dataset fashion-mnist``) comes from the Debian
package ``dataset-fashion-mnist``: when its folder is absent and we are root on a
machine with apt-get, set-up installs it; otherwise it says how, and goes on.
Everything after the command name is passed on (to pytest for ``test``, to the
benchmark for ``bench``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".lstmkit-installed"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

COMMANDS = {
    "demo": ["-m", "lstmkit.demo"],
    "test": ["-m", "pytest", "-n", "auto", "-q"],
    "bench": ["-m", "benchmarks.bench_engines"],
}


def _requirements_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def set_up() -> None:
    """Create the virtual environment and install the package when needed."""
    if not PYTHON.exists():
        print("lstmkit: creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = _requirements_digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("lstmkit: installing lstmkit and its dependencies into .venv ...", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", f"{ROOT}[test]"],
        check=True,
    )
    STAMP.write_text(digest)


FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def install_fashion_mnist() -> None:
    """Install the Debian package with Fashion-MNIST when it is absent and we can."""
    if FASHION_MNIST.is_dir() or os.environ.get("LSTMKIT_FASHION_MNIST"):
        return
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print("lstmkit: Fashion-MNIST is not installed (optional): "
              "sudo apt-get install dataset-fashion-mnist", flush=True)
        return
    print("lstmkit: installing Fashion-MNIST (Debian package dataset-fashion-mnist) ...", flush=True)
    try:
        done = subprocess.run(
            [apt, "install", "-y", "-q", "dataset-fashion-mnist"], capture_output=True, text=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600, check=False,
        )
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0:
        # Optional data: everything else works without it, so warn and go on.
        print("lstmkit: could not install dataset-fashion-mnist; the fashion-mnist dataset "
              "will be unavailable", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args...]", file=sys.stderr)
        return 2
    try:
        set_up()
        install_fashion_mnist()
    except subprocess.CalledProcessError as error:
        print(f"lstmkit: set-up failed ({error}); see the pip output above", file=sys.stderr)
        return 1
    command = [str(PYTHON), *COMMANDS[argv[0]], *argv[1:]]
    return subprocess.run(command, check=False, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
