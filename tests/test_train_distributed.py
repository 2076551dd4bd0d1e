"""Multi-process data parallelism (gloo on CPU, over loopback), end to end.

- ``torchrun --nproc_per_node 2 -m lstmkit train memory`` equals a 1-process run with
  the same global batch, and only rank 0 writes (one run directory, one report);
- every rank holds the same parameters after training, although each draws its own
  dropout/zoneout noise (the API in two processes, so every rank's weights are seen);
- gradient accumulation: batch 32 x accumulate 2 equals batch 64 x accumulate 1;
- a 2-process run stopped by SIGTERM and resumed with 2 processes ends where an
  uninterrupted run ends; resuming it with 1 process is refused with one clear line.

Models are tiny (hidden 8, length 10, a few hundred sequences) and every process runs
one thread: what costs time here is starting Python processes, not training.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from lstmkit.cli.parsing import config_to_dict
from lstmkit.tasks import MemoryConfig, MemoryTask, RecurrentConfig
from lstmkit.tasks.memory import MemoryDataConfig, MemoryModelConfig
from lstmkit.train import Context, OptimizerConfig, RunConfig, TrainConfig, Trainer

needs_gloo = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available in this torch build",
)

TIMEOUT_S = 180  # per child process; a hung collective fails the test instead of CI

# Tiny adding problem. 251 sequences in global batches of 32: the last global batch holds
# 27, split 14 + 13 across two ranks, so per-rank means would not average to the global
# mean; SGD without clipping makes the update proportional to the gradient's scale
# (Adam would hide a wrong constant factor).
TINY = [
    "--data.train_size", "251", "--data.length", "10", "--data.validation_size", "64",
    "--data.test_size", "8", "--model.recurrent.hidden_size", "8",
    "--train.batch_size", "32", "--train.threads", "1", "--train.device", "cpu",
    "--run.plots", "false", "--run.tensorboard", "false", "--run.progress", "lines",
]
SGD = ["--train.optimizer.name", "sgd", "--train.optimizer.lr", "0.5", "--train.clip_norm", "null"]


def _clean_env() -> dict[str, str]:
    """This environment without anything a launcher sets (a child must not inherit a rank)."""
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                       "ROLE_RANK", "MASTER_ADDR", "MASTER_PORT"}
        and not key.startswith("TORCHELASTIC_")
    }
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _lstmkit(nproc: int, *args: str) -> list[str]:
    """The command line of ``lstmkit ARGS``, under torchrun when ``nproc`` > 1."""
    if nproc == 1:
        return [sys.executable, "-m", "lstmkit", *args]
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc_per_node", str(nproc), "-m", "lstmkit", *args,
    ]


class _Child:
    """A child process whose stdout and stderr go to files (no pipe can fill up)."""

    def __init__(self, command: list[str], logs: Path, env: dict[str, str] | None = None) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = logs / "stdout.txt", logs / "stderr.txt"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                env=env or _clean_env(), cwd=logs,
            )

    def finish(self) -> tuple[int, str, str]:
        try:
            code = self.process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            log = self.err_path.read_text()[-3000:]
            pytest.fail(f"child did not finish in {TIMEOUT_S} s:\n{log}")
        return code, self.out_path.read_text(), self.err_path.read_text()


def _run(command: list[str], logs: Path) -> tuple[int, str, str]:
    return _Child(command, logs).finish()


def _ok(result: tuple[int, str, str], *, done: str | None = None) -> str:
    """stdout of a child that succeeded and printed ``done`` (when given)."""
    code, out, err = result
    assert code == 0, f"exit {code}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    assert done is None or done in out, f"no {done!r} in stdout:\n{out[-3000:]}"
    return out


def _checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _assert_same_model(actual: dict, expected: dict, **tolerance) -> None:
    assert actual.keys() == expected.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(
            actual[name], tensor, msg=lambda m, n=name: f"{n}: {m}", **tolerance
        )


# -- 1. two processes equal one ------------------------------------------------------------


@needs_gloo
def test_two_processes_equal_one_with_the_same_global_batch(tmp_path):
    common = ["train", "memory", *TINY, *SGD, "--train.epochs", "2"]
    two_root, one_root = tmp_path / "two", tmp_path / "one"
    # Both runs at once: each is mostly process start-up.
    two = _Child(
        _lstmkit(2, *common, "--run.root", str(two_root), "--run.name", "ddp"), tmp_path / "log2"
    )
    one = _Child(
        _lstmkit(1, *common, "--run.root", str(one_root), "--run.name", "single"), tmp_path / "log1"
    )
    out2, out1 = _ok(two.finish(), done="run directory:"), _ok(one.finish())

    # Rank 0 alone writes: one run directory, one final report.
    assert sorted(p.name for p in two_root.iterdir()) == ["ddp"]
    assert out2.count("run directory:") == 1, out2
    assert f"run directory: {two_root / 'ddp'}" in out2
    assert out2.count("completed at step") == 1, out2
    assert out1.count("run directory:") == 1

    ddp = _checkpoint(two_root / "ddp" / "last.pt")
    single = _checkpoint(one_root / "single" / "last.pt")
    assert ddp["progress"]["world_size"] == 2 and single["progress"]["world_size"] == 1
    assert len(ddp["rng"]) == 2 and len(single["rng"]) == 1  # every rank's RNG state
    # 8 global batches per epoch (7 x 32 + 27): the same steps and the same items.
    for checkpoint in (ddp, single):
        assert checkpoint["progress"]["step"] == 16
        assert checkpoint["progress"]["items"] == 2 * 251
    _assert_same_model(ddp["model"], single["model"], rtol=1e-5, atol=1e-5)
    # The comparison is not vacuous: training moved the weights a long way.
    torch.manual_seed(0)  # train.seed 0: the weights both runs started from
    fresh = MemoryTask(MemoryConfig(model=MemoryModelConfig(RecurrentConfig(hidden_size=8))))
    start = fresh.build_model().state_dict()
    moved = max(float((start[k] - v).abs().max()) for k, v in single["model"].items())
    assert moved > 1e-2


# -- 2. every rank ends with the same parameters ---------------------------------------------

_API_RUN = textwrap.dedent(
    """
    import os, sys
    import torch
    from lstmkit.cli.parsing import config_to_dict
    from lstmkit.tasks import MemoryConfig, MemoryTask, RecurrentConfig
    from lstmkit.tasks.memory import MemoryDataConfig, MemoryModelConfig
    from lstmkit.train import OptimizerConfig, RunConfig, TrainConfig, Trainer

    out = sys.argv[1]
    rank = int(os.environ["RANK"])
    config = MemoryConfig(
        model=MemoryModelConfig(recurrent=RecurrentConfig(
            hidden_size=8, recurrent_dropout=0.2, zoneout=0.1, backend="reference",
        )),
        # 256 = 8 x 32: both ranks take 16 sequences per step and draw as many random
        # numbers, so their generators differ at the end only if they were seeded apart.
        data=MemoryDataConfig(length=10, train_size=256, validation_size=32, test_size=8),
        train=TrainConfig(
            epochs=2, batch_size=32, threads=1, device="cpu",
            optimizer=OptimizerConfig(name="sgd", lr=0.5), clip_norm=None,
        ),
        run=RunConfig(root=os.path.join(out, "runs"), name="api", progress="lines",
                      tensorboard=False, plots=False),
    )
    task = MemoryTask(config)
    trainer = Trainer(task, config.train, config.run, full_config=config_to_dict(config))
    try:
        result = trainer.fit()
        noise = torch.rand(16)  # from this rank's generator, after training
        torch.save({
            "model": trainer.model.state_dict(), "rank": trainer.context.rank,
            "world_size": trainer.context.world_size, "step": result.step,
            "run_dir": None if result.run_dir is None else str(result.run_dir),
            "noise": noise,
        }, os.path.join(out, f"rank{rank}.pt"))
        print(f"saved rank{rank}", flush=True)
    finally:
        trainer.context.close()
    # As lstmkit's command does under torchrun: gloo threads may outlive the group.
    sys.stderr.flush()
    os._exit(0)
    """
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@needs_gloo
def test_every_rank_holds_the_same_parameters_despite_per_rank_noise(tmp_path):
    script = tmp_path / "api_run.py"
    script.write_text(_API_RUN)
    port = str(_free_port())
    children = []
    for rank in range(2):
        env = _clean_env() | {
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "RANK": str(rank),
            "WORLD_SIZE": "2", "LOCAL_RANK": str(rank),
        }
        command = [sys.executable, str(script), str(tmp_path)]
        children.append(_Child(command, tmp_path / f"log{rank}", env))
    for rank, child in enumerate(children):
        _ok(child.finish(), done=f"saved rank{rank}")

    rank0, rank1 = _checkpoint(tmp_path / "rank0.pt"), _checkpoint(tmp_path / "rank1.pt")
    assert (rank0["rank"], rank0["world_size"]) == (0, 2)
    assert (rank1["rank"], rank1["world_size"]) == (1, 2)
    assert rank0["step"] == rank1["step"] == 16
    assert rank0["run_dir"] == str(tmp_path / "runs" / "api") and rank1["run_dir"] is None
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["api"]
    # Each rank draws its own noise (its generator was seeded with seed + rank) ...
    assert not torch.equal(rank0["noise"], rank1["noise"])
    # ... and yet the weights are bit-for-bit the same: DDP averaged the gradients.
    assert rank0["model"].keys() == rank1["model"].keys()
    for name, tensor in rank0["model"].items():
        assert torch.equal(tensor, rank1["model"][name]), name
    # Rank 0's checkpoint holds those weights, and both ranks' (different) RNG states.
    saved = _checkpoint(tmp_path / "runs" / "api" / "last.pt")
    for name, tensor in rank0["model"].items():
        assert torch.equal(tensor, saved["model"][name]), name
    assert len(saved["rng"]) == 2
    assert not torch.equal(saved["rng"][0]["torch"], saved["rng"][1]["torch"])


# -- 3. gradient accumulation ------------------------------------------------------------------


@pytest.fixture
def _one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _fit_in_process(root: Path, name: str, batch_size: int, accumulate: int):
    config = MemoryConfig(
        model=MemoryModelConfig(recurrent=RecurrentConfig(hidden_size=8)),
        # 250 sequences: the last 64-batch holds 58, i.e. a 32-batch and a 26-batch, so
        # the micro-batches of the last step have unequal sizes.
        data=MemoryDataConfig(length=10, train_size=250, validation_size=32, test_size=8),
        train=TrainConfig(
            epochs=2, batch_size=batch_size, accumulate=accumulate, threads=1, device="cpu",
            optimizer=OptimizerConfig(name="sgd", lr=0.5), clip_norm=None,
        ),
        run=RunConfig(root=str(root), name=name, progress="lines", tensorboard=False, plots=False),
    )
    trainer = Trainer(
        MemoryTask(config), config.train, config.run,
        full_config=config_to_dict(config), context=Context(),
    )
    result = trainer.fit()
    return result, {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def test_accumulating_two_micro_batches_equals_one_batch_twice_as_big(tmp_path, _one_thread):
    accumulated, accumulated_model = _fit_in_process(tmp_path, "acc", batch_size=32, accumulate=2)
    big, big_model = _fit_in_process(tmp_path, "big", batch_size=64, accumulate=1)
    assert accumulated.step == big.step == 8  # 4 optimiser steps per epoch
    torch.testing.assert_close(accumulated.losses, big.losses, rtol=1e-5, atol=1e-6)
    _assert_same_model(accumulated_model, big_model, rtol=1e-5, atol=1e-5)
    # The saved checkpoints agree too (they are what a user gets).
    _assert_same_model(
        _checkpoint(tmp_path / "acc" / "last.pt")["model"],
        _checkpoint(tmp_path / "big" / "last.pt")["model"], rtol=1e-5, atol=1e-5,
    )
    assert _checkpoint(tmp_path / "acc" / "last.pt")["progress"]["items"] == 2 * 250


# -- 4. distributed resume -----------------------------------------------------------------------

# Per-rank noise (the RNG states of both ranks must be restored), SGD with momentum
# (optimiser state), a checkpoint after every step (so one exists to stop after), and
# 2 x 16 steps so that the run is still going when the signal lands.
RESUMABLE = [
    "train", "memory", *TINY, "--data.train_size", "512", "--train.batch_size", "32",
    "--train.epochs", "2", "--train.checkpoint_every", "1",
    "--model.recurrent.recurrent_dropout", "0.2", "--model.recurrent.zoneout", "0.1",
    "--model.recurrent.backend", "reference",
    "--train.optimizer.name", "sgd", "--train.optimizer.lr", "0.3",
    "--train.optimizer.momentum", "0.9",
]
RESUMABLE_STEPS = 32


def _stop_after_first_checkpoint(child: _Child, checkpoint: Path) -> None:
    """SIGTERM torchrun as soon as ``checkpoint`` exists (torchrun forwards it to the ranks)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not checkpoint.exists():
        if child.process.poll() is not None:
            log = child.err_path.read_text()[-3000:]
            pytest.fail(f"the run ended before its first checkpoint:\n{log}")
        if time.monotonic() > deadline:
            child.process.kill()
            pytest.fail("no checkpoint appeared")
        time.sleep(0.005)
    child.process.send_signal(signal.SIGTERM)


@needs_gloo
@pytest.mark.skipif(os.name != "posix", reason="stops a run with SIGTERM (POSIX signals)")
def test_two_process_run_stopped_and_resumed_equals_an_uninterrupted_one(tmp_path):
    root = tmp_path / "runs"
    # The uninterrupted run and the one to stop, side by side.
    reference = _Child(
        _lstmkit(2, *RESUMABLE, "--run.root", str(root), "--run.name", "whole"),
        tmp_path / "log-whole",
    )
    stopped = _Child(
        _lstmkit(2, *RESUMABLE, "--run.root", str(root), "--run.name", "cut"),
        tmp_path / "log-cut",
    )
    _stop_after_first_checkpoint(stopped, root / "cut" / "last.pt")
    code, out, err = stopped.finish()
    _ok(reference.finish(), done="run directory:")

    first_leg = _checkpoint(root / "cut" / "last.pt")
    stopped_at = first_leg["progress"]["step"]
    assert 1 <= stopped_at < RESUMABLE_STEPS, (
        f"the signal landed after training finished (step {stopped_at}); nothing to resume"
        f"\nstdout:\n{out}\nstderr:\n{err[-3000:]}"
    )
    assert code != 0
    assert first_leg["progress"]["world_size"] == 2 and len(first_leg["rng"]) == 2
    assert "stopped by SIGTERM" in out + err

    # Resuming with one process is refused, in one line, and leaves the run untouched.
    before = (root / "cut" / "last.pt").read_bytes()
    code, out, err = _run(
        _lstmkit(1, "train", "memory", "--resume", str(root / "cut"),
                 "--run.plots", "false", "--run.tensorboard", "false"),
        tmp_path / "log-one",
    )
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lstmkit: error: "), err
    message = lines[0]
    assert "process" in message, message  # names both counts: written by 2, run with 1
    assert re.search(r"\b2\b", message) and re.search(r"\b1\b", message), message
    assert (root / "cut" / "last.pt").read_bytes() == before

    # Resuming with two processes continues exactly.
    out = _ok(_run(
        _lstmkit(2, "train", "memory", "--resume", str(root / "cut"),
                 "--run.plots", "false", "--run.tensorboard", "false"),
        tmp_path / "log-resume",
    ), done="run directory:")
    assert out.count("run directory:") == 1
    assert sorted(p.name for p in root.iterdir()) == ["cut", "whole"]  # no new directory
    resumed = _checkpoint(root / "cut" / "last.pt")
    whole = _checkpoint(root / "whole" / "last.pt")
    assert resumed["progress"]["step"] == whole["progress"]["step"] == RESUMABLE_STEPS
    assert resumed["progress"]["items"] == whole["progress"]["items"] == 2 * 512
    _assert_same_model(resumed["model"], whole["model"], rtol=1e-5, atol=1e-5)
