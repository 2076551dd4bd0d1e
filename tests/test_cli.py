"""The ``lstmkit`` command line: help, configs, errors, a tiny real run, eval.

Almost everything goes through ``lstmkit.cli.main.main(argv)`` in-process (it returns
the exit code; ``--help`` raises ``SystemExit(0)`` as argparse does); two subprocesses
check the module entry point and the console script. Training runs are tiny (128
sequences of length 8, 4 hidden units, one epoch: two optimiser steps).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml

from lstmkit.cli.main import main
from lstmkit.cli.parsing import task_parser
from lstmkit.tasks import get_task

TINY = [
    "--data.train_size", "128", "--data.length", "8", "--model.recurrent.hidden_size", "4",
    "--train.epochs", "1", "--run.plots", "false",
]
STEPS = 2  # 128 training sequences / the memory task's default batch of 64, one epoch
METRICS_HEADER = "step,epoch,split,metric,value,elapsed_s"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _exit_code(argv: list[str]) -> int:
    """``main``'s exit code, whether it returns it or exits (``--help``)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return 0 if stop.code is None else stop.code


def _run_dir_from(stdout: str) -> Path:
    lines = [line for line in stdout.splitlines() if line.startswith("run directory: ")]
    assert len(lines) == 1, stdout
    return Path(lines[0][len("run directory: "):])


def _assert_one_error_line(err: str, *mentions: str) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert lines[0].startswith("lstmkit: error: "), lines[0]
    for text in mentions:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"


# -- a shared tiny run (per xdist worker) ---------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny training run, logging every step; its argv, exit code, stdout, stderr."""
    root = tmp_path_factory.mktemp("runs")
    argv = ["train", "memory", *TINY, "--train.log_every", "1", "--run.root", str(root)]
    out, err = io.StringIO(), io.StringIO()  # StringIO.isatty() is False: "not a terminal"
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    return {
        "argv": argv, "stdout": out.getvalue(), "stderr": err.getvalue(),
        "run_dir": _run_dir_from(out.getvalue()),
    }


# -- 1. help ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--help"], ["usage: lstmkit", "train", "eval", "inspect-checkpoint"]),
        (["train", "--help"], ["usage: lstmkit", "memory"]),
        (["train", "memory", "--help"], [
            "usage: lstmkit", "--train.optimizer.lr", "--model.recurrent.cell",
            "--print-config", "--resume", "Peak learning rate",
        ]),
        (["eval", "--help"], ["usage: lstmkit", "--split", "--json", "checkpoint"]),
        (["inspect-checkpoint", "--help"], ["usage: lstmkit", "--json", "path"]),
    ],
    ids=["lstmkit", "train", "train-memory", "eval", "inspect-checkpoint"],
)
def test_help_exits_zero_and_prints_usage(argv, expected, capsys):
    assert _exit_code(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: lstmkit"), out[:200]
    for text in expected:
        assert text in out
    assert err == ""


def _config_leaves(cls: type, prefix: str = "") -> tuple[list[str], list[str]]:
    """(leaf field paths, section paths) of a nested config dataclass."""
    leaves, sections = [], []
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        path = f"{prefix}{field.name}"
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind):
            sections.append(path)
            sub_leaves, sub_sections = _config_leaves(kind, path + ".")
            leaves += sub_leaves
            sections += sub_sections
        else:
            leaves.append(path)
    return leaves, sections


def test_every_train_memory_option_has_help():
    entry = get_task("memory")
    parser = task_parser(entry)
    leaves, sections = _config_leaves(entry.config_class)
    assert "train.optimizer.lr" in leaves and "model.recurrent.cell" in leaves
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    # jsonargparse adds, for every nested section (model, model.recurrent, train.optimizer,
    # ...), an option ``--SECTION CONFIG`` that loads that section from a file; its help
    # is jsonargparse's generic "Path to a configuration file." and it is not a config
    # field, so those are left out. Every other option -- every config field and the
    # command's own -c/--print-config/--resume --
    # must explain itself.
    generic = "Path to a configuration file."
    for section in sections:
        assert section in actions, f"no --{section} option"
    checked = 0
    for dest, action in actions.items():
        if dest in sections:
            continue
        help_text = action.help
        where = action.option_strings
        assert isinstance(help_text, str) and help_text.strip(), f"{where} has no help"
        assert help_text.strip() != generic, f"{where} has only generic help"
        checked += 1
    # Every config field is an option, and its help comes from its attribute docstring.
    for leaf in leaves:
        assert leaf in actions, f"config field {leaf} has no --{leaf} option"
    assert checked >= len(leaves)
    assert actions["train.optimizer.lr"].help == "Peak learning rate (> 0)."
    assert actions["model.recurrent.cell"].help.startswith("Recurrent cell:")


# -- 2. --print-config round trip -------------------------------------------------------


def test_print_config_round_trips(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    args = [*TINY, "--train.optimizer.lr", "0.05", "--run.root", str(root)]
    assert main(["train", "memory", *args, "--print-config"]) == 0
    first, err = capsys.readouterr()
    assert err == ""
    config = yaml.safe_load(first)
    assert set(config) == {"task", "model", "data", "train", "run"}
    assert config["task"] == "adding"
    assert config["train"]["optimizer"]["lr"] == 0.05
    assert config["data"]["train_size"] == 128
    assert config["model"]["recurrent"]["hidden_size"] == 4
    assert config["run"]["root"] == str(root)
    assert config["run"]["plots"] is False
    # Defaults are resolved too, including the task's own (memory: lr 1e-2, batch 64).
    assert config["train"]["batch_size"] == 64
    assert config["train"]["optimizer"]["betas"] == [0.9, 0.999]

    saved = tmp_path / "printed.yaml"
    saved.write_text(first)
    assert main(["train", "memory", "-c", str(saved), "--print-config"]) == 0
    second, err = capsys.readouterr()
    assert err == ""
    assert second == first
    # Nothing was trained: no run directory, not under run.root nor under ./runs.
    assert not root.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["printed.yaml"]


# -- 3. config file and override precedence -------------------------------------------


def test_options_after_config_file_override_it(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("train:\n  epochs: 3\n  optimizer:\n    lr: 0.003\n")

    def epochs(*argv: str) -> dict:
        assert main(["train", "memory", *argv, "--print-config"]) == 0
        out, _ = capsys.readouterr()
        return yaml.safe_load(out)["train"]

    from_file = epochs("-c", str(config))
    assert from_file["epochs"] == 3 and from_file["optimizer"]["lr"] == 0.003
    overridden = epochs("-c", str(config), "--train.epochs", "2")
    assert overridden["epochs"] == 2
    assert overridden["optimizer"]["lr"] == 0.003  # the rest of the file still applies
    # As the help says, it is the options *after* -c that win; one before it is overridden.
    assert epochs("--train.epochs", "2", "-c", str(config))["epochs"] == 3


# -- 4. bad inputs: one line, exit 2 ---------------------------------------------------

BAD_INPUTS = [
    pytest.param(["--train.nonexistent", "1"], None, ["--train.nonexistent"], id="unknown-key-cli"),
    pytest.param(
        [], "train:\n  epochs: 1\n  bogus_key: 1\n", ["bogus_key"], id="unknown-key-yaml",
    ),
    pytest.param(
        [], "bogus_section: 1\n", ["bogus_section"], id="unknown-section-yaml",
    ),
    pytest.param(["--train.epochs", "x"], None, ["train.epochs", "x"], id="wrong-type"),
    pytest.param(
        ["--train.optimizer.lr", "-1"], None, ["train.optimizer.lr", "-1"], id="negative-lr"
    ),
    pytest.param(
        ["--train.batch_size", "0"], None, ["train.batch_size", "0"], id="zero-batch-size"
    ),
    pytest.param(
        ["-c", "/nonexistent.yaml"], None, ["/nonexistent.yaml"], id="missing-config-file"
    ),
    pytest.param(
        ["--model.recurrent.cell", "gru", "--model.recurrent.peephole", "true"], None,
        ["model.recurrent.peephole", "gru"], id="lstm-option-on-gru",
    ),
    pytest.param(
        ["--train.optimizer.name", "sgd", "--train.optimizer.nesterov", "true"], None,
        ["train.optimizer.nesterov", "momentum"], id="nesterov-without-momentum",
    ),
]


@pytest.mark.parametrize("extra, yaml_text, mentions", BAD_INPUTS)
def test_bad_train_input_is_one_error_line(
    extra, yaml_text, mentions, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    argv = ["train", "memory", *TINY, "--run.root", str(root)]
    if yaml_text is not None:
        config = tmp_path / "bad.yaml"
        config.write_text(yaml_text)
        argv += ["-c", str(config)]
    # Were the input wrongly accepted, this would be a quick tiny run (exit 0): a failure.
    assert main(argv + extra) == 2
    out, err = capsys.readouterr()
    _assert_one_error_line(err, *mentions)
    assert out == ""
    assert not root.exists()


@pytest.mark.parametrize(
    "argv, mentions",
    [
        pytest.param(["train", "nosuchtask"], ["nosuchtask"], id="unknown-task"),
        pytest.param(
            ["train", "memory", "--resume", "RUN", "--train.epochs", "2"],
            ["--resume", "--train.epochs"], id="resume-with-override",
        ),
    ],
)
def test_bad_command_is_one_error_line(argv, mentions, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = [str(tmp_path / "some-run") if a == "RUN" else a for a in argv]
    # (resume: the override is refused before the -- absent -- run is even looked at,
    # which would otherwise be a run-time failure, exit 1.)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    _assert_one_error_line(err, *mentions)
    assert out == ""
    assert list(tmp_path.iterdir()) == []


# -- 5. a tiny real run -----------------------------------------------------------------


def test_training_run_writes_its_run_directory(trained_run, capsys):
    run_dir = trained_run["run_dir"]
    assert run_dir.is_dir()
    assert trained_run["stdout"].splitlines()[0].startswith(f"completed at step {STEPS} ")
    for name in ("config.yaml", "metrics.csv", "last.pt", "best.pt"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "last.pt").stat().st_size > 0 and (run_dir / "best.pt").stat().st_size > 0
    assert not (run_dir / "curves.png").exists()  # --run.plots false

    # config.yaml is exactly what --print-config prints for the same arguments.
    assert main([*trained_run["argv"], "--print-config"]) == 0
    printed, _ = capsys.readouterr()
    assert (run_dir / "config.yaml").read_text() == printed

    text = (run_dir / "metrics.csv").read_text()
    assert text.splitlines()[0] == METRICS_HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    validation = [row for row in rows if row["split"] == "validation"]
    assert {row["metric"] for row in validation} == {"loss", "solved"}
    assert all(int(row["step"]) == STEPS for row in validation)
    train_losses = [row for row in rows if row["split"] == "train" and row["metric"] == "loss"]
    assert [int(row["step"]) for row in train_losses] == list(range(1, STEPS + 1))  # log_every 1


def test_training_run_writes_tensorboard_events(trained_run):
    # tensorboard is part of the [test] extra, so the event files must be there.
    events = list((trained_run["run_dir"] / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    data = events[0].read_bytes()
    assert b"validation/loss" in data and b"train/loss" in data


def test_training_run_with_plots_writes_png(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "memory", *TINY, "--run.plots", "true", "--run.tensorboard", "false",
            "--run.root", str(tmp_path / "runs"), "--run.name", "plotted"]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    run_dir = _run_dir_from(out)
    assert run_dir == tmp_path / "runs" / "plotted"
    assert (run_dir / "curves.png").read_bytes()[:8] == PNG_MAGIC
    assert not (run_dir / "tensorboard").exists()  # --run.tensorboard false


# -- 6. progress lines without a terminal ---------------------------------------------

_PROGRESS_LINE = re.compile(
    r"^step (?P<step>\d+)/(?P<total>\d+)  loss (?P<loss>\S+)  lr (?P<lr>\S+)  "
    r"grad_norm (?P<grad_norm>\S+)  (?P<rate>\S+) sequences/s  eta (?P<eta>\S+)$"
)


def test_progress_lines_when_not_a_terminal(trained_run):
    err = trained_run["stderr"]
    assert "\r" not in err  # no progress bar
    lines = [m for m in map(_PROGRESS_LINE.match, err.splitlines()) if m]
    assert [int(m["step"]) for m in lines] == list(range(1, STEPS + 1))
    for match in lines:
        assert int(match["total"]) == STEPS
        assert float(match["loss"]) > 0
        assert float(match["lr"]) == pytest.approx(1e-2)  # the memory task's default lr
        assert float(match["grad_norm"]) > 0
        assert float(match["rate"]) > 0
        assert re.fullmatch(r"\d\d:\d\d(:\d\d)?|\?", match["eta"])
    assert f"step {STEPS} validation: loss " in err


# -- 7. entry points ------------------------------------------------------------------


def test_python_dash_m_lstmkit_help():
    result = subprocess.run(
        [sys.executable, "-m", "lstmkit", "--help"],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: lstmkit")
    assert "inspect-checkpoint" in result.stdout


def test_console_script_exists_and_propagates_exit_code(tmp_path):
    script = Path(sys.executable).parent / "lstmkit"
    assert script.is_file() and os.access(script, os.X_OK)
    result = subprocess.run(
        [str(script), "train", "memory", "--train.epochs", "x"],
        check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 2
    _assert_one_error_line(result.stderr, "train.epochs")
    assert result.stdout == ""


# -- 8. eval (and inspect-checkpoint) of the run ---------------------------------------


def test_eval_json(trained_run, capsys):
    run_dir = trained_run["run_dir"]
    assert main(["eval", str(run_dir), "--json"]) == 0
    out, _ = capsys.readouterr()
    result = json.loads(out)
    assert result["split"] == "test"
    assert result["step"] == STEPS
    assert 0 < result["loss"] < 10 and 0 <= result["solved"] <= 1

    assert main(["eval", str(run_dir), "--split", "validation", "--json"]) == 0
    out, _ = capsys.readouterr()
    result = json.loads(out)
    assert result["split"] == "validation"
    with (run_dir / "metrics.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["split"] == "validation"]
    last_step = max(int(row["step"]) for row in rows)
    logged = {row["metric"]: float(row["value"]) for row in rows if int(row["step"]) == last_step}
    assert set(logged) == {"loss", "solved"}
    for name, value in logged.items():
        assert result[name] == pytest.approx(value, rel=1e-6, abs=1e-6), name


def test_inspect_checkpoint_json(trained_run, capsys):
    run_dir = trained_run["run_dir"]
    assert main(["inspect-checkpoint", str(run_dir), "--json"]) == 0
    out, _ = capsys.readouterr()
    info = json.loads(out)
    assert info["task"] == "memory"
    assert Path(info["path"]) == run_dir / "last.pt"
    assert info["progress"]["step"] == STEPS
    assert info["config"] == yaml.safe_load((run_dir / "config.yaml").read_text())
    assert info["parameter_count"] > 0

