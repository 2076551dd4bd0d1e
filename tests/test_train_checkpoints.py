"""Checkpoints and runs survive failure: atomic writes, clear errors for bad files,
exact resume after SIGKILL, graceful SIGTERM/SIGINT, NaN detection, reproducibility,
run directories that are never reused, and the eval / inspect-checkpoint commands.

Models are tiny (hidden size 8, sequences of 8-10 steps); the command-line tests run
``python -m lstmkit`` in subprocesses with ``--train.threads 1``.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import re
import signal
import stat
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml
from train_helpers import (
    fit,
    logs,
    memory_argv,
    memory_config,
    one_line_error,
    read_tree,
    run_cli,
    start_cli,
    wait_for,
)

import lstmkit.files as files_module
import lstmkit.train.checkpoint as checkpoint_module
from lstmkit.cli.commands import load_trained
from lstmkit.cli.main import main as cli_main
from lstmkit.files import write_atomic, write_new_text, write_text_atomic
from lstmkit.tasks import MemoryTask
from lstmkit.train import (
    CheckpointError,
    LossOutput,
    RunConfig,
    Task,
    TrainConfig,
    Trainer,
    TrainingError,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
)
from lstmkit.train.checkpoint import FORMAT, VERSION
from lstmkit.train.metrics_log import read_metrics
from lstmkit.train.rundir import CONFIG_FILE, create_run_directory, write_config


def _payload(step: int = 1) -> dict:
    return {
        "task": "memory", "config": {"train": {"seed": 0}},
        "model": {"w": torch.arange(6.0).reshape(2, 3) + step, "b": torch.zeros(2)},
        "progress": {"step": step},
    }


def _leftovers(directory: Path, name: str) -> list[str]:
    return sorted(p.name for p in directory.glob(f".{name}.*.tmp"))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A finished tiny run (16 steps), trained in this process through the CLI code."""
    root = tmp_path_factory.mktemp("trained")
    assert cli_main(memory_argv(root, "base")) == 0
    return root / "base"


# ================================================================ 1. atomic writes


class _Interrupted(BaseException):
    """Stands in for a KeyboardInterrupt without disturbing pytest."""


@pytest.mark.parametrize("failure", ["pickling", "half-written", "interrupt", "fsync", "replace"])
def test_failed_checkpoint_save_keeps_previous_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "last.pt"
    save_checkpoint(path, _payload(1))
    before = path.read_bytes()
    payload = _payload(2)
    seen_temporaries: list[list[str]] = []
    expected: type[BaseException] = OSError

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if failure == "pickling":
        payload["config"] = {"not data": lambda: None}  # torch.save cannot pickle it
        expected = Exception
    elif failure in ("half-written", "interrupt"):
        real_write_atomic = files_module.write_atomic

        def write_half_then_fail(target, write):
            def partial(handle):
                buffer = io.BytesIO()
                write(buffer)
                handle.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
                handle.flush()
                seen_temporaries.append(_leftovers(tmp_path, "last.pt"))
                if failure == "interrupt":
                    raise _Interrupted
                disk_full()

            return real_write_atomic(target, partial)

        monkeypatch.setattr(checkpoint_module, "write_atomic", write_half_then_fail)
        expected = _Interrupted if failure == "interrupt" else OSError
    elif failure == "fsync":
        monkeypatch.setattr(files_module.os, "fsync", disk_full)
    else:
        monkeypatch.setattr(files_module.os, "replace", disk_full)

    with pytest.raises(expected):
        save_checkpoint(path, payload)
    monkeypatch.undo()

    if failure in ("half-written", "interrupt"):  # the data really went to `.last.pt.*.tmp`
        assert len(seen_temporaries) == 1 and len(seen_temporaries[0]) == 1, seen_temporaries
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    assert load_checkpoint(path)["progress"]["step"] == 1
    # and a later save still works
    save_checkpoint(path, _payload(3))
    assert torch.equal(load_checkpoint(path)["model"]["w"], _payload(3)["model"]["w"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


@pytest.mark.parametrize("failure", ["callback", "replace"])
def test_write_atomic_failure_leaves_old_content_and_no_temporary(tmp_path, monkeypatch, failure):
    path = tmp_path / "notes.txt"
    write_text_atomic(path, "old\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600

    def write(handle):
        handle.write(b"new, partial")
        if failure == "callback":
            raise RuntimeError("writer failed midway")

    if failure == "replace":
        def refuse(*args):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(files_module.os, "replace", refuse)
    with pytest.raises((RuntimeError, PermissionError)):
        write_atomic(path, write)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_write_new_text_refuses_an_existing_file(tmp_path):
    path = tmp_path / "config.yaml"
    assert write_new_text(path, "a: 1\n") == path
    assert path.read_text() == "a: 1\n"
    with pytest.raises(FileExistsError, match="already exists"):
        write_new_text(path, "a: 2\n")
    assert path.read_text() == "a: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


# ============================================================ 2. load_checkpoint errors


class _OpensAFile:
    """Unpickling this calls ``open(path, "w")``: a stand-in for arbitrary code."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@dataclass
class _PlainObject:
    value: int = 1


def _write_real_checkpoint(path: Path) -> bytes:
    save_checkpoint(path, _payload(7))
    return path.read_bytes()


def _make_bad_file(case: str, directory: Path) -> tuple[Path, str]:
    """A file (or directory) that is not a usable checkpoint, and a message fragment."""
    path = directory / "bad.pt"
    if case == "missing":
        return directory / "missing.pt", "does not exist"
    if case == "directory-without-last":
        (directory / "run").mkdir()
        return directory / "run", "without a last.pt"
    if case in ("truncated-half", "truncated-last-byte"):
        data = _write_real_checkpoint(path)
        path.write_bytes(data[: len(data) // 2] if case == "truncated-half" else data[:-1])
        return path, "truncated or corrupt"
    if case == "empty":
        path.write_bytes(b"")
        return path, "truncated or corrupt"
    if case == "random-bytes":
        generator = torch.Generator().manual_seed(5)
        noise = torch.randint(0, 256, (4096,), generator=generator, dtype=torch.uint8)
        path.write_bytes(noise.numpy().tobytes())
        return path, "truncated or corrupt"
    if case == "yaml-text":
        path.write_text("train:\n  epochs: 3\n")
        return path, "truncated or corrupt"
    if case == "zip-not-torch":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "not a checkpoint")
        return path, "truncated or corrupt"
    if case == "no-format-tag":
        torch.save({"model": {"w": torch.zeros(2)}, "progress": {"step": 1}}, path)
        return path, "not an lstmkit checkpoint"
    if case == "not-a-dict":
        torch.save([torch.zeros(2)], path)
        return path, "not an lstmkit checkpoint"
    if case == "wrong-version":
        torch.save({"format": FORMAT, "version": VERSION + 98, **_payload()}, path)
        return path, f"version {VERSION + 98}"
    if case == "missing-keys":
        torch.save({"format": FORMAT, "version": VERSION, "task": "memory"}, path)
        return path, "lacks config, model, progress"
    raise AssertionError(case)


BAD_FILES = [
    "missing", "directory-without-last", "truncated-half", "truncated-last-byte", "empty",
    "zip-not-torch", "no-format-tag", "not-a-dict", "wrong-version", "missing-keys",
]
#: bad files whose damage surfaces as other exceptions inside torch.load
UNCAUGHT_BAD_FILES = ["random-bytes", "yaml-text", "byte-in-a-pickled-string", "zip-header-byte"]


@pytest.mark.parametrize("case", BAD_FILES)
def test_load_checkpoint_rejects_bad_files_naming_the_path(tmp_path, case):
    path, fragment = _make_bad_file(case, tmp_path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert str(path) in message
    assert fragment in message


def test_load_checkpoint_accepts_a_file_and_a_run_directory(tmp_path):
    _write_real_checkpoint(tmp_path / "last.pt")
    for source in (tmp_path / "last.pt", tmp_path):
        checkpoint = load_checkpoint(source)
        assert checkpoint["format"] == FORMAT and checkpoint["version"] == VERSION
        assert checkpoint["progress"] == {"step": 7}
        assert torch.equal(checkpoint["model"]["w"], _payload(7)["model"]["w"])


@pytest.mark.parametrize("kind", ["reduce-calls-open", "plain-object"])
def test_load_checkpoint_refuses_pickled_objects_without_running_them(tmp_path, kind):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pt"
    extra = _OpensAFile(marker) if kind == "reduce-calls-open" else _PlainObject()
    torch.save({"format": FORMAT, "version": VERSION, **_payload(), "extra": extra}, path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)
    assert not marker.exists()
    if kind == "reduce-calls-open":
        # The file really is an exploit: an unrestricted load runs its code.
        torch.load(path, weights_only=False)
        assert marker.exists()


def _corrupt_one_byte(case: str, directory: Path) -> Path:
    path = directory / "last.pt"
    data = bytearray(_write_real_checkpoint(path))
    if case == "byte-in-a-pickled-string":
        data[data.index(FORMAT.encode())] ^= 0xFF  # -> invalid UTF-8
    else:  # the file-name length field of the first local zip header (offset 26)
        data[26] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _uncaught_bad_file(case: str, directory: Path) -> Path:
    if case in ("random-bytes", "yaml-text"):
        return _make_bad_file(case, directory)[0]
    return _corrupt_one_byte(case, directory)


@pytest.mark.parametrize("case", UNCAUGHT_BAD_FILES)
def test_load_checkpoint_reports_garbage_as_checkpoint_error(tmp_path, case):
    path = _uncaught_bad_file(case, tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        load_checkpoint(path)


@pytest.mark.parametrize("case", ["random-bytes", "yaml-text"])
def test_cli_inspect_on_garbage_exits_1_with_one_line(tmp_path, capsys, case):
    path = _uncaught_bad_file(case, tmp_path)
    code = cli_main(["inspect-checkpoint", str(path)])
    line = one_line_error(capsys.readouterr().err)
    assert code == 1
    assert str(path) in line


# ========================================================= 3. a different model shape


def test_load_model_state_names_each_mismatched_parameter_and_both_shapes(tmp_path):
    small = MemoryTask(memory_config(tmp_path, recurrent={"hidden_size": 8})).build_model()
    large = MemoryTask(memory_config(tmp_path, recurrent={"hidden_size": 12})).build_model()
    state, own = small.state_dict(), large.state_dict()
    untouched = {name: tensor.clone() for name, tensor in own.items()}
    mismatched = sorted(name for name in own if own[name].shape != state[name].shape)
    assert len(mismatched) == 5  # every recurrent tensor and head.weight

    with pytest.raises(CheckpointError) as error:
        load_model_state(large, state, "small.pt")
    message = str(error.value)
    assert "small.pt" in message
    for name in mismatched[:3]:  # the message names three, then counts the rest
        assert f"{name} has shape {tuple(state[name].shape)}" in message
        assert f"{tuple(own[name].shape)} in this model" in message
    assert "and 2 more" in message
    # nothing was loaded
    for name, tensor in large.state_dict().items():
        assert torch.equal(tensor, untouched[name])


def test_load_model_state_names_missing_and_unexpected_parameters(tmp_path):
    plain = MemoryTask(memory_config(tmp_path)).build_model()
    normed = MemoryTask(memory_config(tmp_path, recurrent={"layer_norm": True})).build_model()
    extra = sorted(set(normed.state_dict()) - set(plain.state_dict()))
    assert extra
    with pytest.raises(CheckpointError, match=re.escape(f"{extra[0]} missing from the checkpoint")):
        load_model_state(normed, plain.state_dict(), "plain.pt")
    unexpected = re.escape(f"{extra[0]} in the checkpoint is not a parameter")
    with pytest.raises(CheckpointError, match=unexpected):
        load_model_state(plain, normed.state_dict(), "normed.pt")
    load_model_state(plain, plain.state_dict(), "same.pt")  # a matching state loads


def test_cli_init_from_a_checkpoint_of_another_shape_fails_with_one_line(tmp_path, trained_run):
    root = tmp_path / "runs"
    checkpoint = trained_run / "last.pt"
    result = run_cli(memory_argv(root, "bigger", {
        "model.recurrent.hidden_size": 12, "train.init_from": checkpoint, "train.threads": 1,
    }))
    assert result.returncode == 1, result.stderr
    line = one_line_error(result.stderr)
    assert str(checkpoint) in line
    assert "head.weight has shape (1, 8) in the checkpoint but (1, 12) in this model" in line
    assert not (root / "bigger").exists()  # failed before creating a run directory


# ===================================================== 4. exact resume after SIGKILL

KILL_RUN = {
    "data.train_size": 6400, "data.length": 10, "data.validation_size": 64,
    "model.recurrent.hidden_size": 8, "model.recurrent.zoneout": 0.1,
    "train.epochs": 2, "train.batch_size": 32, "train.checkpoint_every": 5,
    "train.log_every": 1, "train.threads": 1, "train.seed": 3,
}
KILL_RUN_STEPS = 2 * 6400 // 32


def _complete_rows(path: Path) -> list[str]:
    if not path.exists():
        return []
    text = path.read_text()
    return text[: text.rfind("\n") + 1].splitlines()[1:]


def _is_stopped(process: subprocess.Popen) -> bool:
    """Whether ``process`` has really stopped (signals are delivered asynchronously)."""
    stat_file = Path(f"/proc/{process.pid}/stat")
    if not stat_file.exists():  # no procfs: give the signal time to land
        time.sleep(0.05)
        return True
    return stat_file.read_text().rsplit(")", 1)[1].split()[0] in ("T", "t")


def _kill_between_checkpoints(process: subprocess.Popen, run_dir: Path, timeout: float = 120):
    """SIGKILL ``process`` once ``metrics.csv`` holds steps after those in ``last.pt``.

    The process is frozen (SIGSTOP) while the two files are compared, so that the state
    seen is the state killed.
    """
    last, metrics = run_dir / "last.pt", run_dir / "metrics.csv"
    wait_for(last.exists, timeout=timeout, process=process)
    for _ in range(2000):
        process.send_signal(signal.SIGSTOP)
        wait_for(lambda: _is_stopped(process), timeout=30, process=process, interval=0.0005)
        step = load_checkpoint(last)["progress"]["step"]
        logged = [int(row.split(",")[0]) for row in _complete_rows(metrics)]
        if logged and max(logged) > step:
            process.kill()
            process.wait(timeout=30)
            return
        process.send_signal(signal.SIGCONT)
        time.sleep(0.003)
        if process.poll() is not None:
            break
    raise AssertionError(f"could not kill the run between checkpoints (exit code {process.poll()})")


def _assert_same_tensors(left, right, where: str) -> None:
    if isinstance(left, torch.Tensor):
        assert isinstance(right, torch.Tensor) and torch.equal(left, right), where
    elif isinstance(left, dict):
        assert left.keys() == right.keys(), where
        for key in left:
            _assert_same_tensors(left[key], right[key], f"{where}.{key}")
    elif isinstance(left, (list, tuple)):
        assert len(left) == len(right), where
        for index, (a, b) in enumerate(zip(left, right)):
            _assert_same_tensors(a, b, f"{where}[{index}]")
    else:
        assert left == right, where


def _deterministic_rows(run_dir: Path) -> list[tuple[str, str, str, str]]:
    return [
        (row["step"], row["split"], row["metric"], row["value"])
        for row in read_metrics(run_dir / "metrics.csv") if row["metric"] != "sequences/s"
    ]


def test_resume_after_sigkill_ends_exactly_like_an_uninterrupted_run(tmp_path):
    root = tmp_path / "runs"
    # The reference run trains while the other one is killed and resumed.
    reference = start_cli(memory_argv(root, "reference", KILL_RUN), tmp_path / "reference-log")
    victim = start_cli(memory_argv(root, "killed", KILL_RUN), tmp_path / "killed-log")
    run_dir = root / "killed"
    try:
        _kill_between_checkpoints(victim, run_dir)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert victim.returncode == -signal.SIGKILL

    killed_at = load_checkpoint(run_dir)["progress"]["step"]
    assert 0 < killed_at < KILL_RUN_STEPS  # the kill came mid-run
    rows_before = read_metrics(run_dir / "metrics.csv")
    assert max(int(row["step"]) for row in rows_before) > killed_at  # rows to be recomputed
    config_before = (run_dir / CONFIG_FILE).read_bytes()

    resumed = run_cli([
        "train", "memory", "--resume", run_dir, "--run.progress", "lines",
        "--run.plots", "false", "--run.tensorboard", "false",
    ])
    assert resumed.returncode == 0, resumed.stderr
    assert f"completed at step {KILL_RUN_STEPS}" in resumed.stdout
    assert reference.wait(timeout=180) == 0, logs(tmp_path / "reference-log")[1]

    final, expected = load_checkpoint(run_dir), load_checkpoint(root / "reference")
    assert final["progress"]["step"] == expected["progress"]["step"] == KILL_RUN_STEPS
    assert final["model"].keys() == expected["model"].keys()
    for name, tensor in expected["model"].items():
        assert torch.equal(final["model"][name], tensor), name
    _assert_same_tensors(final["optimizer"], expected["optimizer"], "optimizer")
    assert final["metrics"] == expected["metrics"]
    best = load_checkpoint(run_dir / "best.pt")
    expected_best = load_checkpoint(root / "reference" / "best.pt")
    _assert_same_tensors(best["model"], expected_best["model"], "best.model")

    rows = read_metrics(run_dir / "metrics.csv")
    keys = [(row["step"], row["split"], row["metric"]) for row in rows]
    assert len(keys) == len(set(keys)), "metrics.csv repeats a (step, split, metric) row"
    assert _deterministic_rows(run_dir) == _deterministic_rows(root / "reference")
    assert (run_dir / CONFIG_FILE).read_bytes() == config_before
    assert _leftovers(run_dir, "last.pt") == _leftovers(run_dir, "best.pt") == []


class _Killed(Exception):
    """Stands in for SIGKILL at a precise point of a run."""


class _DiesInEvaluation(MemoryTask):
    """Raises `_Killed` on the evaluation call number ``when`` (1-based)."""

    def __init__(self, config, when: int) -> None:
        super().__init__(config)
        self.calls, self.when = 0, when

    def evaluate(self, model, split):
        self.calls += 1
        if self.calls == self.when:
            raise _Killed
        return super().evaluate(model, split)


def _killed_then_resumed(tmp_path, train: dict, when: int):
    killed = memory_config(tmp_path, "killed", train=train)
    with pytest.raises(_Killed):
        fit(killed, _DiesInEvaluation(killed, when))
    checkpoint = load_checkpoint(tmp_path / "killed")
    _, resumed = fit(killed, resume=checkpoint, resume_dir=tmp_path / "killed")
    _, reference = fit(memory_config(tmp_path, "reference", train=train))
    return checkpoint, resumed, reference


def test_resume_from_a_checkpoint_at_max_steps_trains_no_further(tmp_path):
    # killed during the final evaluation, after the checkpoint of the last step
    train = {"epochs": 50, "max_steps": 6, "checkpoint_every": 6}
    checkpoint, resumed, reference = _killed_then_resumed(tmp_path, train, when=1)
    assert checkpoint["progress"]["step"] == 6
    assert (reference.step, reference.reason) == (6, "max_steps")
    assert (resumed.step, resumed.reason) == (6, "max_steps")


def test_resume_at_the_last_step_still_runs_the_final_evaluation(tmp_path):
    # 8 steps; evaluations at 3 and 6 and the final one at 8; killed during the final one
    train = {"epochs": 1, "eval_every": 3, "checkpoint_every": 4}
    checkpoint, resumed, reference = _killed_then_resumed(tmp_path, train, when=3)
    assert checkpoint["progress"]["step"] == 8
    assert resumed.metrics == reference.metrics
    final, expected = load_checkpoint(tmp_path / "killed"), load_checkpoint(tmp_path / "reference")
    assert final["progress"]["epoch"] == expected["progress"]["epoch"] == 1
    assert final["metrics"] == expected["metrics"]


# ======================================================= 5. SIGTERM and SIGINT

SIGNAL_RUN = {
    "data.train_size": 9600, "data.length": 10, "model.recurrent.hidden_size": 8,
    "train.epochs": 2, "train.batch_size": 32, "train.checkpoint_every": 5,
    "train.log_every": 1000, "train.threads": 1,
}
SIGNAL_RUN_STEPS = 2 * 9600 // 32


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_saves_a_checkpoint_and_exits_128_plus_signum(tmp_path, signum):
    root, log_dir = tmp_path / "runs", tmp_path / "log"
    run_dir = root / "stopped"
    process = start_cli(memory_argv(root, "stopped", SIGNAL_RUN), log_dir)
    try:
        wait_for((run_dir / "last.pt").exists, process=process)
        process.send_signal(signum)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stdout, stderr = logs(log_dir)
    assert code == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert f"resume with: lstmkit train memory --resume {run_dir}" in stdout
    reported = re.search(rf"{signal.Signals(signum).name} at step (\d+)", stdout)
    assert reported, stdout
    checkpoint = load_checkpoint(run_dir)
    step = checkpoint["progress"]["step"]
    assert 0 < step < SIGNAL_RUN_STEPS
    assert step == int(reported.group(1))  # saved at the stop, not an older periodic save
    assert f"stopped by {signal.Signals(signum).name} at step {step}; checkpoint saved" in stderr
    assert _leftovers(run_dir, "last.pt") == []


# =============================================================== 6. NaN or inf


class _GoesBadTask(Task):
    """Linear regression whose loss (or gradient) turns non-finite at step ``bad_step``."""

    name = "goes_bad"

    def __init__(self, bad_step: int, mode: str) -> None:
        super().__init__(config=None)
        self.bad_step, self.mode, self.calls = bad_step, mode, 0
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(64, 3, generator=generator)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5])

    def build_model(self):
        return torch.nn.Linear(3, 1)

    def train_data(self):
        return torch.utils.data.TensorDataset(self.x, self.y)

    def loss(self, model, batch, state=None):
        self.calls += 1
        x, y = batch
        total = ((model(x).squeeze(-1) - y) ** 2).sum()
        if self.calls >= self.bad_step:
            if self.mode == "nan-loss":
                total = total * float("nan")
            elif self.mode == "inf-loss":
                total = total + float("inf")
            else:  # finite loss, infinite gradient: d/dz z**0.5 at z = 0
                z = model.weight.sum() - model.weight.sum().detach()
                total = total + z**0.5
        return LossOutput(total, y.shape[0])

    def evaluate(self, model, split):
        return {"loss": float(((model(self.x).squeeze(-1) - self.y) ** 2).mean())}


@pytest.mark.parametrize(
    ("mode", "what"),
    [("nan-loss", "loss became nan"), ("inf-loss", "loss became inf"),
     ("inf-gradient", "gradient norm became inf")],
    ids=["nan-loss", "inf-loss", "inf-gradient"],
)
def test_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, mode, what):
    task = _GoesBadTask(bad_step=4, mode=mode)
    config = TrainConfig(epochs=3, batch_size=8, checkpoint_every=1, log_every=1, seed=0)
    run = RunConfig(
        root=str(tmp_path), name="bad", progress="lines", tensorboard=False, plots=False,
    )
    trainer = Trainer(task, config, run, full_config={"task": "goes_bad"})
    with pytest.raises(TrainingError) as error:
        trainer.fit()
    message = str(error.value)
    assert what in message.lower()
    assert "at step 4" in message
    assert str(tmp_path / "bad" / "last.pt") in message

    checkpoint = load_checkpoint(tmp_path / "bad")
    assert checkpoint["progress"]["step"] == 3  # nothing written after the bad step
    for name, tensor in trainer.model.state_dict().items():
        assert torch.isfinite(checkpoint["model"][name]).all()
        assert torch.equal(checkpoint["model"][name], tensor)  # the bad step was not applied
    assert _leftovers(tmp_path / "bad", "last.pt") == []


def test_cli_reports_a_diverging_run_on_one_line_with_exit_code_1(tmp_path, capsys):
    code = cli_main(memory_argv(tmp_path, "diverges", {
        "train.optimizer.lr": 1e30, "train.clip_norm": None, "train.optimizer.name": "sgd",
        "train.checkpoint_every": 1,
    }))
    stderr = capsys.readouterr().err
    assert code == 1
    last = stderr.strip().splitlines()[-1]
    match = re.fullmatch(
        r"lstmkit: error: the (loss|gradient norm) became (nan|inf|-inf) at step (\d+) .*", last
    )
    assert match, stderr
    failed_at = int(match.group(3))
    assert failed_at > 1
    assert load_checkpoint(tmp_path / "diverges")["progress"]["step"] == failed_at - 1


# ============================================================ 7. reproducibility


@pytest.mark.parametrize(
    "recurrent", [{}, {"zoneout": 0.1, "recurrent_dropout": 0.1}], ids=["plain", "regularised"]
)
def test_same_seed_gives_bit_identical_runs_and_another_seed_does_not(tmp_path, recurrent):
    def run(name: str, seed: int):
        config = memory_config(tmp_path, name, train={"seed": seed}, recurrent=recurrent)
        trainer, result = fit(config)
        return result.losses, {k: v.clone() for k, v in trainer.model.state_dict().items()}

    losses_a, params_a = run("a", 0)
    torch.rand(5)  # disturb the global generators: fit must seed them itself
    random.random()
    losses_b, params_b = run("b", 0)
    losses_c, params_c = run("c", 1)
    assert len(losses_a) == 16
    assert losses_a == losses_b
    assert params_a.keys() == params_b.keys()
    for name in params_a:
        assert torch.equal(params_a[name], params_b[name]), name
    assert losses_c != losses_a
    assert any(not torch.equal(params_a[name], params_c[name]) for name in params_a)
    saved = load_checkpoint(tmp_path / "b")["model"]
    for name in params_b:
        assert torch.equal(saved[name], params_b[name]), name


# ===================================================== 8. run directories, config.yaml


def test_a_named_run_directory_is_never_reused(trained_run, capsys):
    root = trained_run.parent
    before = read_tree(trained_run)
    assert {"config.yaml", "metrics.csv", "last.pt", "best.pt"} <= before.keys()
    entries = sorted(os.listdir(root))
    code = cli_main(memory_argv(root, trained_run.name, {"model.recurrent.hidden_size": 12}))
    captured = capsys.readouterr()
    assert code == 1
    line = one_line_error(captured.err)
    assert str(trained_run) in line and "already exists" in line
    assert captured.out == ""
    assert read_tree(trained_run) == before
    assert sorted(os.listdir(root)) == entries


def test_write_config_never_replaces_config_yaml(tmp_path):
    run_dir = create_run_directory(tmp_path, "memory", "exp")
    write_config(run_dir, {"train": {"seed": 1}})
    before = (run_dir / CONFIG_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        write_config(run_dir, {"train": {"seed": 2}})
    assert (run_dir / CONFIG_FILE).read_bytes() == before
    with pytest.raises(FileExistsError, match="not empty"):
        create_run_directory(tmp_path, "memory", "exp")
    (tmp_path / "empty").mkdir()
    assert create_run_directory(tmp_path, "memory", "empty") == tmp_path / "empty"


def test_unnamed_runs_get_different_directories(tmp_path):
    directories = []
    for seed in (1, 2):
        config = memory_config(tmp_path, None, train={"seed": seed, "max_steps": 1})
        directories.append(fit(config)[1].run_dir)
    assert directories[0] != directories[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(d.name for d in directories)
    for directory, seed in zip(directories, (1, 2)):
        assert directory.name.startswith("memory-")
        assert yaml.safe_load((directory / CONFIG_FILE).read_text())["train"]["seed"] == seed
    # created within the same second, the names still differ
    assert create_run_directory(tmp_path, "x") != create_run_directory(tmp_path, "x")


def test_resume_keeps_the_saved_plots_and_tensorboard_settings(tmp_path, capsys):
    assert cli_main(memory_argv(tmp_path, "quiet", {"train.max_steps": 3})) == 0
    assert cli_main(["train", "memory", "--resume", str(tmp_path / "quiet")]) == 0
    capsys.readouterr()
    assert not (tmp_path / "quiet" / "curves.png").exists()
    assert not (tmp_path / "quiet" / "tensorboard").exists()


# ===================================================== 9. eval and inspect-checkpoint


def test_cli_eval_json_matches_the_checkpoint(trained_run):
    result = run_cli(["eval", trained_run, "--json", "--split", "validation"])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    checkpoint = load_checkpoint(trained_run)
    assert report["split"] == "validation"
    assert report["step"] == checkpoint["progress"]["step"] == 16
    # the final validation metrics were computed on the same weights at the same step
    assert report["loss"] == pytest.approx(checkpoint["metrics"]["loss"], rel=1e-5)
    assert report["solved"] == pytest.approx(checkpoint["metrics"]["solved"])
    task, model, _ = load_trained(str(trained_run / "last.pt"))
    with torch.no_grad():
        assert report["loss"] == pytest.approx(task.evaluate(model, "validation")["loss"], rel=1e-5)


def test_inspect_checkpoint_json_describes_task_step_and_shapes(trained_run, capsys):
    assert cli_main(["inspect-checkpoint", str(trained_run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    checkpoint = load_checkpoint(trained_run)
    assert info["path"] == str(trained_run / "last.pt")
    assert info["task"] == "memory"
    assert info["progress"]["step"] == checkpoint["progress"]["step"] == 16
    assert info["parameters"] == {name: list(t.shape) for name, t in checkpoint["model"].items()}
    assert info["parameters"]["recurrent.weight_hh_l0"] == [32, 8]
    assert info["parameter_count"] == sum(t.numel() for t in checkpoint["model"].values())
    assert info["config"]["model"]["recurrent"]["hidden_size"] == 8


def test_inspect_checkpoint_and_eval_text_output(trained_run, capsys):
    best = load_checkpoint(trained_run / "best.pt")
    progress = best["progress"]
    assert cli_main(["inspect-checkpoint", str(trained_run / "best.pt")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^task\s+memory$", out, re.MULTILINE)
    assert re.search(
        rf"^progress\s+step {progress['step']}, epoch {progress['epoch']}, "
        rf"{progress['items']} items seen",
        out, re.MULTILINE,
    )
    for name, tensor in best["model"].items():
        shape = re.escape(str(tuple(tensor.shape)))
        assert re.search(rf"^  {re.escape(name)}\s+{shape}$", out, re.MULTILINE)
    assert cli_main(["eval", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("memory checkpoint at step 16, test split:")
    assert re.search(r"^  loss\s+\S+$", out, re.MULTILINE)


def test_cli_on_a_corrupt_checkpoint_exits_1_with_one_line(tmp_path):
    path, _ = _make_bad_file("truncated-half", tmp_path)
    result = run_cli(["eval", path])
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    assert str(path) in line and "truncated or corrupt" in line
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["eval", "inspect-checkpoint"])
@pytest.mark.parametrize("case", ["missing", "truncated-half", "no-format-tag"])
def test_cli_commands_on_bad_files_exit_1(tmp_path, capsys, command, case):
    path, fragment = _make_bad_file(case, tmp_path)
    assert cli_main([command, str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    line = one_line_error(captured.err)
    assert str(path) in line and fragment in line
