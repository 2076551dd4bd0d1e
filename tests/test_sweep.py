"""``lstmkit sweep``: models × lags × seeds on a long-lag problem, its files and its errors.

Everything goes through ``lstmkit.cli.main.main(argv)`` in-process. The end-to-end
sweep is tiny (8 runs of 10 optimiser steps on 160 adding sequences, about 5 s) and
is trained once per module; a second, identical sweep checks determinism. One run with
a generous budget must actually solve the adding problem at T = 8 and stop there.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lstmkit.cli.main import main
from lstmkit.tasks import RecurrentConfig
from lstmkit.tasks.longlag.models import MODELS, check_model_names, recurrent_for
from lstmkit.tasks.longlag.sweep import RESULT_COLUMNS, SweepConfig
from lstmkit.tasks.longlag.sweep_report import (
    SUMMARY_COLUMNS,
    plot_sweep,
    summarise,
    summary_markdown,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HEADER = (
    "model,length,seed,solved,sequences_to_solve,sequences_seen,steps,seconds,stop_reason,"
    "validation_loss,validation_solved,test_loss,test_solved,baseline_loss"
)
ADDING_BASELINE = 1.0 / 24.0  # Var of the adding target: the memoryless predictor's MSE
MODELS_SWEPT, LENGTHS, SEEDS = ("rnn_tanh", "lstm"), (8, 12), (0, 1)
TRAIN_SIZE, BATCH = 160, 16  # the sweep's default batch is 16: 10 steps per run

TINY_SWEEP = [
    "--sweep.models", "[rnn_tanh, lstm]", "--sweep.lengths", "[8, 12]", "--sweep.seeds", "[0, 1]",
    "--data.train_size", str(TRAIN_SIZE), "--data.validation_size", "32", "--data.test_size", "32",
    "--model.recurrent.hidden_size", "8", "--train.epochs", "1", "--train.eval_every", "5",
    # in this process, one run after another; no wall-clock budget (a loaded machine
    # must not change the outcome)
    "--sweep.workers", "1", "--train.max_time", "null",
]


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with its stdout and stderr captured (usable in module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _sweep_dir(root: Path) -> Path:
    found = sorted(root.iterdir())
    assert len(found) == 1 and found[0].name.startswith("sweep-adding-"), found
    return found[0]


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert lines[0].startswith("lstmkit: error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep") / "sweeps"
    code, out, err = _run(["sweep", *TINY_SWEEP, "--run.root", str(root)])
    assert code == 0, err
    return {"root": root, "dir": _sweep_dir(root), "stdout": out}


# -- 1. the end-to-end sweep --------------------------------------------------------------


def test_sweep_directory_holds_config_and_one_run_per_combination(tiny_sweep):
    directory = tiny_sweep["dir"]
    assert {path.name for path in directory.iterdir()} == {
        "config.yaml", "results.csv", "summary.csv", "summary.md", "sweep.png", "runs",
    }
    config = yaml.safe_load((directory / "config.yaml").read_text())
    assert config["task"] == "adding"
    assert config["sweep"]["models"] == list(MODELS_SWEPT)
    assert config["sweep"]["lengths"] == list(LENGTHS) and config["sweep"]["seeds"] == list(SEEDS)
    assert config["data"]["train_size"] == TRAIN_SIZE

    expected = {f"{m}-T{t}-seed{s}" for m in MODELS_SWEPT for t in LENGTHS for s in SEEDS}
    runs = {path.name: path for path in (directory / "runs").iterdir()}
    assert set(runs) == expected
    for model in MODELS_SWEPT:
        for length in LENGTHS:
            for seed in SEEDS:
                run = yaml.safe_load((runs[f"{model}-T{length}-seed{seed}"] / "config.yaml").read_text())
                # Each run is the base config with the combination applied.
                assert run["data"]["length"] == length and run["train"]["seed"] == seed
                assert run["model"]["recurrent"]["cell"] == model
                assert run["model"]["recurrent"]["hidden_size"] == 8
                # forget_bias 5 (the sweep's default) for the LSTM, dropped for the RNN
                assert run["model"]["recurrent"]["forget_bias"] == (5.0 if model == "lstm" else None)
                assert run["train"]["early_stopping"]["target"] == 0.99
                assert (runs[f"{model}-T{length}-seed{seed}"] / "last.pt").is_file()


def test_sweep_prints_each_run_and_the_table(tiny_sweep):
    lines = tiny_sweep["stdout"].splitlines()
    assert lines[0] == f"sweep directory: {tiny_sweep['dir']} (8 runs)"
    progress = [line for line in lines if re.match(r"^\[\d/8\] ", line)]
    assert [line[:5] for line in progress] == [f"[{k}/8]" for k in range(1, 9)]
    assert all("not solved in 160 sequences (completed)" in line for line in progress)
    assert tiny_sweep["stdout"].endswith("summary.md and sweep.png\n")


def test_results_csv_has_one_row_per_run_with_consistent_counts(tiny_sweep):
    text = (tiny_sweep["dir"] / "results.csv").read_text()
    assert text.splitlines()[0] == HEADER == ",".join(RESULT_COLUMNS)
    rows = _rows(tiny_sweep["dir"] / "results.csv")
    assert len(rows) == 8
    assert {(r["model"], int(r["length"]), int(r["seed"])) for r in rows} == {
        (m, t, s) for m in MODELS_SWEPT for t in LENGTHS for s in SEEDS
    }
    for row in rows:
        # 10 steps of 16 sequences cannot reach 99% of the validation set: the whole budget.
        assert row["solved"] == "False" and row["sequences_to_solve"] == ""
        assert row["stop_reason"] == "completed"
        assert int(row["steps"]) == TRAIN_SIZE // BATCH
        assert int(row["sequences_seen"]) == int(row["steps"]) * BATCH == TRAIN_SIZE
        assert float(row["baseline_loss"]) == pytest.approx(ADDING_BASELINE, rel=1e-12)
        for key in ("validation_solved", "test_solved"):
            assert 0.0 <= float(row[key]) <= 1.0
        for key in ("validation_loss", "test_loss", "seconds"):
            assert math.isfinite(float(row[key])) and float(row[key]) >= 0


def test_results_rows_match_the_runs_own_files(tiny_sweep):
    rows = {(r["model"], r["length"], r["seed"]): r for r in _rows(tiny_sweep["dir"] / "results.csv")}
    for model, length, seed in (("lstm", 12, 1), ("rnn_tanh", 8, 0)):
        row = rows[(model, str(length), str(seed))]
        run = tiny_sweep["dir"] / "runs" / f"{model}-T{length}-seed{seed}"
        # validation figures: the run's last validation pass in its metrics.csv
        metrics = [m for m in _rows(run / "metrics.csv") if m["split"] == "validation"]
        last = {m["metric"]: m for m in metrics if int(m["step"]) == int(row["steps"])}
        assert float(row["validation_loss"]) == pytest.approx(float(last["loss"]["value"]), rel=1e-6)
        assert float(row["validation_solved"]) == pytest.approx(float(last["solved"]["value"]))
        # test figures: the final weights evaluated on the test split, as `lstmkit eval` does
        code, out, err = _run(["eval", str(run / "last.pt"), "--json"])
        assert code == 0, err
        evaluated = json.loads(out)
        assert float(row["test_loss"]) == pytest.approx(evaluated["loss"], rel=1e-6)
        assert float(row["test_solved"]) == pytest.approx(evaluated["solved"])


def test_summary_csv_aggregates_the_results_per_model_and_length(tiny_sweep):
    results = _rows(tiny_sweep["dir"] / "results.csv")
    summary = _rows(tiny_sweep["dir"] / "summary.csv")
    assert list(summary[0]) == list(SUMMARY_COLUMNS)
    # sorted by length, models in the order sweep.models gives them
    assert [(r["model"], int(r["length"])) for r in summary] == [
        ("rnn_tanh", 8), ("lstm", 8), ("rnn_tanh", 12), ("lstm", 12),
    ]
    for row in summary:
        group = [r for r in results if r["model"] == row["model"] and r["length"] == row["length"]]
        assert int(row["runs"]) == 2 and int(row["solved_runs"]) == 0
        assert float(row["success_rate"]) == 0.0
        assert row["median_sequences_to_solve"] == "" and row["mean_sequences_to_solve"] == ""
        mean_test = np.mean([float(r["test_solved"]) for r in group])
        assert float(row["mean_test_solved"]) == pytest.approx(mean_test, rel=1e-12)
        mean_loss = np.mean([float(r["test_loss"]) for r in group])
        assert float(row["mean_test_loss"]) == pytest.approx(mean_loss, rel=1e-12)


def test_summary_md_is_a_table_with_a_row_per_model_and_length(tiny_sweep):
    text = (tiny_sweep["dir"] / "summary.md").read_text()
    lines = text.splitlines()
    assert "budget per run 160 sequences" in lines[0] and "solved = 99% of 32 validation" in lines[0]
    table = [line for line in lines if line.startswith("|")]
    assert table[0].startswith("| model | T | solved runs |")
    assert set(table[1]) <= set("|-: ")
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    assert [(c[0], c[1], c[2], c[3]) for c in cells] == [
        ("rnn_tanh", "8", "0/2", "—"), ("lstm", "8", "0/2", "—"),
        ("rnn_tanh", "12", "0/2", "—"), ("lstm", "12", "0/2", "—"),
    ]
    assert all(len(c) == len(cells[0]) == 8 for c in cells)
    # the command printed the same table
    assert text in tiny_sweep["stdout"]


def test_sweep_png_is_a_png(tiny_sweep):
    data = (tiny_sweep["dir"] / "sweep.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000


@pytest.mark.parametrize("workers", [1, 2])
def test_identical_sweeps_give_identical_results_but_for_the_time(workers, tiny_sweep, tmp_path):
    # workers 2: the same runs trained in two spawned processes, rows in the same order
    root = tmp_path / "again"
    code, _, err = _run(["sweep", *TINY_SWEEP, "--sweep.workers", str(workers), "--run.root", str(root)])
    assert code == 0, err

    def without_seconds(path: Path) -> list[list[str]]:
        lines = list(csv.reader(io.StringIO(path.read_text())))
        column = lines[0].index("seconds")
        return [line[:column] + line[column + 1:] for line in lines]

    first = without_seconds(tiny_sweep["dir"] / "results.csv")
    second = without_seconds(_sweep_dir(root) / "results.csv")
    assert len(first) == 9
    assert first == second


# -- 2. a sweep that solves the problem ----------------------------------------------------


def test_lstm_solves_adding_at_t8_and_stops_at_the_target(tmp_path):
    # A 50% solve rate (|error| < 0.04 on half of 200 validation sequences) is reached
    # by a 32-unit LSTM after 175 steps (2,800 sequences, ~4 s) of the 625 the budget
    # allows; evaluating every 25 steps makes the stop point precise.
    root = tmp_path / "sweeps"
    code, out, err = _run([
        "sweep", "--sweep.models", "[lstm]", "--sweep.lengths", "[8]", "--sweep.seeds", "[0]",
        "--sweep.solve_rate", "0.5", "--data.train_size", "2000", "--data.validation_size", "200",
        "--data.test_size", "200", "--train.epochs", "5", "--train.eval_every", "25",
        "--sweep.workers", "1", "--train.max_time", "null", "--run.root", str(root),
    ])
    assert code == 0, err
    directory = _sweep_dir(root)
    (row,) = _rows(directory / "results.csv")
    assert row["solved"] == "True" and row["stop_reason"] == "target_reached"
    steps, budget = int(row["steps"]), 5 * 2000
    assert int(row["sequences_to_solve"]) == int(row["sequences_seen"]) == steps * BATCH
    assert steps * BATCH < budget  # it stopped early
    assert float(row["validation_solved"]) >= 0.5
    # The stop came at the first validation pass that reached the target, not later.
    metrics = _rows(directory / "runs" / "lstm-T8-seed0" / "metrics.csv")
    solved = [(int(m["step"]), float(m["value"])) for m in metrics
              if m["split"] == "validation" and m["metric"] == "solved"]
    assert solved[-1][0] == steps and solved[-1][1] >= 0.5
    assert all(value < 0.5 for _, value in solved[:-1])
    assert f"solved after {steps * BATCH:,} sequences" in out
    (summary,) = _rows(directory / "summary.csv")
    assert float(summary["success_rate"]) == 1.0
    assert float(summary["median_sequences_to_solve"]) == steps * BATCH
    assert f"| lstm | 8 | 1/1 | {steps * BATCH:,} |" in (directory / "summary.md").read_text()


# -- 3. summarise, summary_markdown, plot_sweep on hand-made rows ---------------------------


def _row(model, length, seed, solved, to_solve, test_solved, test_loss, seconds=1.0, baseline=0.5):
    return {
        "model": model, "length": length, "seed": seed, "solved": solved,
        "sequences_to_solve": to_solve if solved else None, "test_solved": test_solved,
        "test_loss": test_loss, "seconds": seconds, "baseline_loss": baseline,
    }


HAND_ROWS = [
    _row("lstm", 100, 0, True, 3000, 1.0, 0.01, seconds=2.0),
    _row("lstm", 100, 1, False, None, 0.5, 0.03, seconds=4.0),
    _row("lstm", 100, 2, True, 1000, 0.9, 0.02, seconds=6.0),
    _row("gru", 100, 0, False, None, 0.1, 0.05),
    _row("gru", 100, 1, False, None, 0.3, 0.07),
    _row("lstm", 50, 0, True, 800, 1.0, 0.001),
    _row("gru", 50, 0, True, 400, 0.8, 0.004),
    _row("gru", 50, 1, True, 600, 0.6, 0.002),
    _row("gru", 50, 2, True, 2000, 1.0, 0.003),
]


def test_summarise_rates_and_statistics_over_solved_runs_only():
    summary = summarise(HAND_ROWS)
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    # sorted by length; within a length, models by first appearance (lstm before gru)
    assert list(zip(summary["model"], summary["length"])) == [
        ("lstm", 50), ("gru", 50), ("lstm", 100), ("gru", 100),
    ]
    by_key = {(row.model, row.length): row for row in summary.itertuples(index=False)}
    lstm100 = by_key[("lstm", 100)]
    assert (lstm100.runs, lstm100.solved_runs) == (3, 2)
    assert lstm100.success_rate == pytest.approx(2 / 3)
    assert lstm100.median_sequences_to_solve == 2000.0  # median of 3000 and 1000
    assert lstm100.mean_sequences_to_solve == 2000.0
    assert lstm100.mean_test_solved == pytest.approx((1.0 + 0.5 + 0.9) / 3)  # all runs
    assert lstm100.mean_test_loss == pytest.approx(0.02)
    assert lstm100.mean_seconds == pytest.approx(4.0)
    assert lstm100.baseline_loss == 0.5
    gru100 = by_key[("gru", 100)]
    assert gru100.success_rate == 0.0 and gru100.solved_runs == 0
    assert math.isnan(gru100.median_sequences_to_solve) and math.isnan(gru100.mean_sequences_to_solve)
    assert gru100.mean_test_solved == pytest.approx(0.2)
    gru50 = by_key[("gru", 50)]
    assert gru50.success_rate == 1.0
    assert gru50.median_sequences_to_solve == 600.0 and gru50.mean_sequences_to_solve == 1000.0


def test_summarise_refuses_no_rows():
    with pytest.raises(ValueError, match="rows: the sweep has no finished runs"):
        summarise([])


def test_summary_markdown_dashes_unsolved_and_states_the_budget():
    config = SweepConfig()  # adding, solve_rate 0.99
    config.train.max_time = None
    config.train.epochs, config.data.train_size = 10, 10_000
    text = summary_markdown(summarise(HAND_ROWS), config)
    header = text.splitlines()[0]
    assert "budget per run 100,000 sequences;" in header
    assert "solved = 99% of 500 validation sequences" in header
    assert "batch 16, lr 0.003, hidden 32, forget bias 5.0" in header
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| model")]
    assert rows == [
        "| lstm | 50 | 1/1 | 800 | 100.0% | 0.001 | 0.5 | 1 |",
        "| gru | 50 | 3/3 | 600 | 80.0% | 0.003 | 0.5 | 1 |",
        "| lstm | 100 | 2/3 | 2,000 | 80.0% | 0.02 | 0.5 | 4 |",
        "| gru | 100 | 0/2 | — | 20.0% | 0.06 | 0.5 | 1 |",
    ]


def test_summary_markdown_adds_the_time_limit_to_the_budget():
    config = SweepConfig()
    config.train.max_time = 90.0
    config.train.epochs, config.data.train_size = 10, 10_000
    assert "budget per run 100,000 sequences or 90 s;" in summary_markdown(summarise(HAND_ROWS), config)


def test_plot_sweep_writes_a_png(tmp_path):
    path = plot_sweep(summarise(HAND_ROWS), tmp_path / "plot.png", title="hand-made")
    assert path == tmp_path / "plot.png"
    assert path.read_bytes().startswith(PNG_MAGIC)
    # a summary where nothing solved (an empty cost panel) still plots
    nothing = summarise([_row("rnn_tanh", 10, 0, False, None, 0.0, 1.0)])
    assert plot_sweep(nothing, tmp_path / "none.png").read_bytes().startswith(PNG_MAGIC)
    assert isinstance(nothing, pd.DataFrame)


# -- 4. recurrent_for ------------------------------------------------------------------------


def _lstm_base() -> RecurrentConfig:
    return RecurrentConfig(hidden_size=12, num_layers=2, forget_bias=5.0, peephole=True, proj_size=4)


@pytest.mark.parametrize("name", ["rnn_tanh", "rnn_relu", "gru"])
def test_recurrent_for_non_lstm_cells_drop_lstm_only_fields(name):
    config = recurrent_for(name, _lstm_base())
    assert config.cell == name
    assert (config.variant, config.peephole, config.cifg, config.proj_size, config.forget_bias) == (
        None, None, None, 0, None,
    )
    assert (config.hidden_size, config.num_layers) == (12, 2)  # the base's other fields stay


def test_recurrent_for_lstms_keep_or_drop_the_forget_bias():
    base = _lstm_base()
    lstm = recurrent_for("lstm", base)
    assert (lstm.cell, lstm.forget_bias, lstm.peephole, lstm.proj_size) == ("lstm", 5.0, None, 4)
    assert recurrent_for("lstm-peephole", base).peephole is True
    vanilla = recurrent_for("V", base)
    assert (vanilla.variant, vanilla.forget_bias) == ("V", 5.0)
    # NFG has no forget gate; Greff's CIFG computes f = 1 - i: no forget-gate bias to set
    assert (recurrent_for("NFG", base).variant, recurrent_for("NFG", base).forget_bias) == ("NFG", None)
    assert (recurrent_for("CIFG", base).variant, recurrent_for("CIFG", base).forget_bias) == ("CIFG", None)
    # lstm-cifg couples i = 1 - f: the forget gate is learned and keeps its bias
    coupled = recurrent_for("lstm-cifg", base)
    assert (coupled.cifg, coupled.forget_bias) == (True, 5.0)
    assert base.peephole is True and base.forget_bias == 5.0  # the base is not modified


def test_recurrent_for_every_model_gives_a_valid_config():
    base = RecurrentConfig(hidden_size=4, forget_bias=1.0)
    assert {name: recurrent_for(name, base).cell for name in MODELS} == {
        name: fields["cell"] for name, fields in MODELS.items()
    }


def test_recurrent_for_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"model: unknown model 'lstm2'; choose from rnn_tanh, .*NFG"):
        recurrent_for("lstm2", RecurrentConfig())
    with pytest.raises(ValueError, match="--cells must name at least one model"):
        check_model_names([], "--cells")


# -- 5. errors and --print-config ------------------------------------------------------------


@pytest.mark.parametrize(
    "options, mentions",
    [
        pytest.param(["--sweep.models", "[lstm, nope]"],
                     ["sweep.models: unknown model 'nope'", "rnn_tanh, rnn_relu, gru, lstm"], id="unknown-model"),
        pytest.param(["--sweep.models", "[]"], ["sweep.models must name at least one model"], id="no-models"),
        pytest.param(["--sweep.lengths", "[]"], ["sweep.lengths must not be empty"], id="no-lengths"),
        pytest.param(["--sweep.seeds", "[]"], ["sweep.seeds must not be empty"], id="no-seeds"),
        pytest.param(["--sweep.solve_rate", "0"], ["sweep.solve_rate must be in (0, 1]", "0.0"], id="rate-0"),
        pytest.param(["--sweep.solve_rate", "1.5"], ["sweep.solve_rate must be in (0, 1]", "1.5"], id="rate-1.5"),
        pytest.param(["--train.monitor", "loss"], ["train.monitor must be 'solved'", "'loss'"], id="monitor-loss"),
        pytest.param(["--train.monitor_mode", "min"], ["train.monitor_mode 'max'"], id="monitor-min"),
        pytest.param(["--sweep.lengths", "[3]"], ["data.length must be at least 6 for adding, got 3"],
                     id="too-short"),
        # the short length comes second: refused before the first (valid) one is trained
        pytest.param(["--sweep.lengths", "[8, 3]"], ["data.length must be at least 6 for adding, got 3"],
                     id="second-too-short"),
    ],
)
def test_bad_sweep_is_one_error_line_and_creates_nothing(options, mentions, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "sweeps"
    # Were the input wrongly accepted, this would be a quick tiny sweep (exit 0): a failure.
    argv = ["sweep", *TINY_SWEEP, "--sweep.seeds", "[0]", "--run.root", str(root), *options]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    line = _one_error_line(err)
    for text in mentions:
        assert text in line, line
    assert out == ""
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_model_the_base_config_cannot_build_is_refused_before_any_training(tmp_path, monkeypatch, capsys):
    # torch's fused LSTM (backend vendor) serves the plain lstm but not V (peepholes)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "sweeps"
    argv = ["sweep", *TINY_SWEEP, "--sweep.models", "[lstm, V]", "--sweep.lengths", "[8]",
            "--sweep.seeds", "[0]", "--model.recurrent.backend", "vendor", "--run.root", str(root)]
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert "vendor" in _one_error_line(err)
    assert not root.exists()


def test_print_config_prints_the_resolved_yaml_and_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "sweeps"
    assert main(["sweep", *TINY_SWEEP, "--run.root", str(root), "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    printed = yaml.safe_load(out)
    assert list(printed) == ["task", "sweep", "model", "data", "train", "run"]
    assert printed["sweep"]["models"] == ["rnn_tanh", "lstm"] and printed["sweep"]["lengths"] == [8, 12]
    assert printed["sweep"]["solve_rate"] == 0.99
    assert printed["model"]["recurrent"]["hidden_size"] == 8
    assert printed["data"]["train_size"] == TRAIN_SIZE and printed["train"]["monitor"] == "solved"
    assert printed["run"]["root"] == str(root)
    assert not root.exists() and list(tmp_path.iterdir()) == []
