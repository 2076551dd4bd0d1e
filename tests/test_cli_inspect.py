"""``lstmkit inspect gradients | gates | cells`` through ``main(argv)``, checked by hand.

Three tiny checkpoints are trained once per module: an LSTM and a tanh RNN on the
adding problem (T = 8, 8 units) and a 2-layer character-level LSTM language model on a
small text with quotes, parentheses and line breaks. The views' numbers are recomputed
here independently of `lstmkit.inspect`: the checkpoint's weights are loaded into
``torch.nn.LSTM`` and run one step at a time, keeping every h(t), c(t) and gate.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import memory_argv

from lstmkit.cli.commands import load_trained
from lstmkit.cli.main import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FLOW_HEADER = "label,layer,kind,lag,h_norm,c_norm"
GATE_COLUMNS = "layer,kind,gate,activation,mean,std,left_saturated,right_saturated,saturated"
LENGTH, HIDDEN, LM_BPTT = 8, 8, 16

CORPUS_LINES = [
    'she said "hello there" to the cat.',
    "(the cat sat on the mat (a red one) all day)",
    'he "went" home at last (and slept).',
    'a note: "inside" and (outside) the text.',
    "the dog ran to the hat and sat.",
]
SHOWN = 'she said "hello there" (to the cat).\nhe went home "at last" and slept.'


def _run(argv: list) -> tuple[int, str, str]:
    """``main(argv)`` with stdout and stderr captured (usable in module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


def _error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert lines[0].startswith("lstmkit: error: "), lines[0]
    return lines[0]


def _train(argv: list) -> None:
    code, _, err = _run(argv)
    assert code == 0, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inspect-runs")
    _train(memory_argv(root, "mem", {"model.recurrent.hidden_size": HIDDEN, "data.length": LENGTH}))
    _train(memory_argv(root, "rnn", {"model.recurrent.cell": "rnn_tanh"}))
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(CORPUS_LINES * 30) + "\n", encoding="utf-8")  # about 5 KB
    _train([
        "train", "lm", "--data.corpus", corpus, "--data.level", "char", "--data.ngram_order", "2",
        "--data.eval_streams", "4", "--model.recurrent.hidden_size", "16",
        "--model.recurrent.num_layers", "2", "--train.batch_size", "8", "--train.bptt", LM_BPTT,
        "--train.epochs", "1", "--run.root", root, "--run.name", "lm", "--run.progress", "lines",
        "--run.plots", "false", "--run.tensorboard", "false",
    ])
    return {"mem": root / "mem", "rnn": root / "rnn", "lm": root / "lm"}


def _flow_rows(folder: Path) -> list[dict]:
    text = (folder / "gradient_flow.csv").read_text()
    assert text.splitlines()[0] == FLOW_HEADER
    return list(csv.DictReader(io.StringIO(text)))


def _column(rows: list[dict], label: str, key: str, layer: str = "recurrent/layer 0") -> np.ndarray:
    picked = [row for row in rows if row["label"] == label and row["layer"] == layer]
    assert [int(row["lag"]) for row in picked] == list(range(len(picked)))
    return np.array([float(row[key]) for row in picked])


def _torch_lstm(recurrent: torch.nn.Module, input_size: int, hidden: int, layers: int) -> torch.nn.LSTM:
    """``torch.nn.LSTM`` holding the weights of lstmkit's (torch's layout and gate order)."""
    lstm = torch.nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True)
    lstm.load_state_dict(recurrent.state_dict())
    return lstm


def _lstm_steps(recurrent: torch.nn.Module, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """One-layer LSTM written out, float64: per step ``h, c (N, H)`` and gates i, f, g, o.

    ``z = W_ih x(t) + b_ih + W_hh h(t-1) + b_hh`` split in torch's order i, f, g, o;
    ``c(t) = f c(t-1) + i g``, ``h(t) = o tanh(c(t))`` (so h(t) depends on c(t) in the graph).
    """
    w = {key: value.detach().double() for key, value in recurrent.state_dict().items()}
    h = torch.zeros(x.shape[0], w["weight_hh_l0"].shape[1], dtype=torch.float64)
    c = torch.zeros_like(h)
    steps = []
    for t in range(x.shape[1]):
        z = x[:, t] @ w["weight_ih_l0"].T + w["bias_ih_l0"] + h @ w["weight_hh_l0"].T + w["bias_hh_l0"]
        zi, zf, zg, zo = z.chunk(4, dim=1)
        i, f, g, o = zi.sigmoid(), zf.sigmoid(), zg.tanh(), zo.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        steps.append({"h": h, "c": c, "i": i, "f": f, "g": g, "o": o})
    return steps


def _adding_flow_by_hand(run_dir: Path, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``||dL/dh(t)||`` and ``||dL/dc(t)||`` by lag on the first training batch.

    The batch is the first ``batch_size`` training items; ``L`` = mean squared error of
    the head at the last step. Each step's h, c are kept (retain_grad), so their
    gradients are the total derivatives through later steps and the outputs.
    """
    task, model, _ = load_trained(str(run_dir))
    batch = task.collate([task.train_data()[i] for i in range(batch_size)])
    # inputs (N, T, 2); requiring their gradient puts every h(t), c(t) in the graph
    steps = _lstm_steps(model.recurrent, batch.inputs.double().requires_grad_())
    for step in steps:
        step["h"].retain_grad()
        step["c"].retain_grad()
    head = {key: value.detach().double() for key, value in model.head.state_dict().items()}
    prediction = (steps[-1]["h"] @ head["weight"].T + head["bias"])[:, 0]  # (N,)
    loss = ((prediction - batch.targets.double()) ** 2).mean()
    loss.backward()
    return tuple(
        np.array([float(step[key].grad.norm(dim=-1).mean()) for step in reversed(steps)])
        for key in ("h", "c")
    )


# -- inspect gradients ------------------------------------------------------------------------


def test_gradients_of_a_checkpoint_match_a_hand_computation(runs, tmp_path):
    folder = tmp_path / "out"
    code, out, err = _run(["inspect", "gradients", runs["mem"], "--output", folder])
    assert code == 0, err
    rows = _flow_rows(folder)
    assert len(rows) == LENGTH  # one layer, lags 0..T-1
    assert {(r["label"], r["layer"], r["kind"]) for r in rows} == {("mem/last.pt", "recurrent/layer 0", "lstm")}
    h, c = _column(rows, "mem/last.pt", "h_norm"), _column(rows, "mem/last.pt", "c_norm")
    assert np.isfinite(h).all() and np.isfinite(c).all() and (h > 0).all()
    expected_h, expected_c = _adding_flow_by_hand(runs["mem"])
    np.testing.assert_allclose(h, expected_h, rtol=2e-4)
    np.testing.assert_allclose(c, expected_c, rtol=2e-4)
    assert (folder / "gradient_flow.png").read_bytes().startswith(PNG_MAGIC)
    assert f"wrote {folder / 'gradient_flow.png'} and {folder / 'gradient_flow.csv'}" in out
    assert re.search(r"^\s+mem/last.pt\s+recurrent/layer 0\s", out, re.MULTILINE)


def test_gradients_fresh_differ_from_the_trained_weights(runs, tmp_path):
    assert _run(["inspect", "gradients", runs["mem"], "--output", tmp_path / "trained"])[0] == 0
    code, _, err = _run(["inspect", "gradients", runs["mem"], "--fresh", "--output", tmp_path / "fresh"])
    assert code == 0, err
    trained = _column(_flow_rows(tmp_path / "trained"), "mem/last.pt", "h_norm")
    fresh_rows = _flow_rows(tmp_path / "fresh")
    assert {row["label"] for row in fresh_rows} == {"mem/last.pt (fresh)"}
    fresh = _column(fresh_rows, "mem/last.pt (fresh)", "h_norm")
    assert fresh.shape == trained.shape and np.isfinite(fresh).all()
    assert not np.allclose(fresh, trained, rtol=1e-2)


def test_gradients_of_two_checkpoints_share_one_csv_and_plot(runs, tmp_path):
    folder = tmp_path / "both"
    code, _, err = _run(["inspect", "gradients", runs["mem"], runs["lm"], "--output", folder])
    assert code == 0, err
    rows = _flow_rows(folder)
    assert {row["label"] for row in rows} == {"mem/last.pt", "lm/last.pt"}
    counts = {}
    for row in rows:
        counts[(row["label"], row["layer"])] = counts.get((row["label"], row["layer"]), 0) + 1
    # the memory run's sequences (T = 8); the language model's truncated-BPTT window, 2 layers
    assert counts == {
        ("mem/last.pt", "recurrent/layer 0"): LENGTH,
        ("lm/last.pt", "recurrent/layer 0"): LM_BPTT, ("lm/last.pt", "recurrent/layer 1"): LM_BPTT,
    }
    assert all(math.isfinite(float(row["h_norm"])) for row in rows)
    assert (folder / "gradient_flow.png").read_bytes().startswith(PNG_MAGIC)


def test_gradients_labels_tell_two_last_pt_apart(runs, tmp_path):
    folder = tmp_path / "labels"
    code, _, err = _run([
        "inspect", "gradients", runs["mem"] / "last.pt", runs["rnn"] / "last.pt", "--output", folder,
    ])
    assert code == 0, err
    assert len({row["label"] for row in _flow_rows(folder)}) == 2


def test_gradients_vanish_in_a_tanh_rnn_but_not_in_an_lstm(tmp_path):
    folder = tmp_path / "cells"
    code, out, err = _run([
        "inspect", "gradients", "--cells", "rnn_tanh", "lstm", "--length", "30", "--forget-bias", "5",
        "--output", folder,
    ])
    assert code == 0, err
    rows = _flow_rows(folder)
    assert {(row["label"], row["kind"]) for row in rows} == {("rnn_tanh", "rnn_tanh"), ("lstm", "lstm")}
    rnn, lstm = _column(rows, "rnn_tanh", "h_norm"), _column(rows, "lstm", "h_norm")
    assert rnn.size == lstm.size == 30
    assert all(row["c_norm"] == "" for row in rows if row["label"] == "rnn_tanh")
    # At the largest lag the RNN's gradient is orders of magnitude below the LSTM's,
    # and far below its own at lag 0; the LSTM (forget bias 5) keeps its order of magnitude.
    assert rnn[-1] / lstm[-1] < 1e-3
    assert rnn[-1] / rnn[0] < 1e-4
    assert lstm[-1] / lstm[0] > 1e-2
    assert "lag 29" in out


def test_gradients_default_folder_is_new_under_the_run_each_time(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "copy"
    shutil.copytree(runs["mem"], run)
    assert not (run / "inspect").exists()
    for _ in range(2):
        code, _, err = _run(["inspect", "gradients", run])
        assert code == 0, err
    folders = sorted((run / "inspect").iterdir())
    assert len(folders) == 2 and folders[0] != folders[1]
    assert all(folder.name.startswith("gradients-") for folder in folders)
    csvs = [(folder / "gradient_flow.csv").read_text() for folder in folders]
    assert csvs[0] == csvs[1]  # the same numbers, written twice, nothing overwritten
    assert all((folder / "gradient_flow.png").is_file() for folder in folders)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy"]


def test_gradients_never_overwrite_an_existing_csv(runs, tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "gradient_flow.csv").write_text("precious\n")
    code, _, err = _run(["inspect", "gradients", runs["mem"], "--output", folder])
    assert code == 1
    line = _error(err)
    assert str(folder / "gradient_flow.csv") in line and "already exists" in line
    assert (folder / "gradient_flow.csv").read_text() == "precious\n"
    assert not (folder / "gradient_flow.png").exists()


@pytest.mark.parametrize(
    "argv, mentions",
    [
        pytest.param([], ["give checkpoints to inspect, or --cells"], id="nothing-to-inspect"),
        pytest.param(["--cells", "nope"], ["--cells: unknown model 'nope'", "rnn_tanh, rnn_relu, gru, lstm"],
                     id="unknown-cell"),
    ],
)
def test_gradients_usage_errors(argv, mentions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["inspect", "gradients", *argv])
    assert code == 2
    line = _error(err)
    assert all(text in line for text in mentions), line
    assert out == "" and list(tmp_path.iterdir()) == []


# -- inspect gates ------------------------------------------------------------------------------


def _gates_by_hand(run_dir: Path, batch_size: int = 64) -> dict[str, np.ndarray]:
    """Every step's i, f, g, o ``(N*T, H)`` on the first training batch, float64."""
    task, model, _ = load_trained(str(run_dir))
    x = task.collate([task.train_data()[i] for i in range(batch_size)]).inputs.double()  # (N, T, F)
    with torch.no_grad():
        steps = _lstm_steps(model.recurrent, x)
    return {name: torch.cat([step[name] for step in steps]).numpy() for name in "ifgo"}


def test_gates_statistics_and_memory_spans_match_a_hand_computation(runs, tmp_path):
    folder = tmp_path / "gates"
    code, out, err = _run(["inspect", "gates", runs["mem"], "--output", folder])
    assert code == 0, err
    text = (folder / "gate_statistics.csv").read_text()
    assert text.splitlines()[0] == GATE_COLUMNS
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["gate"] for row in rows] == ["i", "f", "g", "o"]
    assert all(row["layer"] == "recurrent/layer 0" and row["kind"] == "lstm" for row in rows)
    gates = _gates_by_hand(runs["mem"])
    for row in rows:
        values = gates[row["gate"]]
        tanh = row["gate"] == "g"
        assert row["activation"] == ("tanh" if tanh else "sigmoid")
        unit = (values + 1) / 2 if tanh else values  # tanh gates mapped to [0, 1]
        left, right = (unit < 0.1).mean(), (unit > 0.9).mean()
        assert float(row["mean"]) == pytest.approx(values.mean(), rel=1e-5, abs=1e-7)
        assert float(row["std"]) == pytest.approx(values.std(), rel=1e-5)
        one = 1.5 / values.size  # a single value on the other side of a threshold (float32)
        assert float(row["left_saturated"]) == pytest.approx(left, abs=one)
        assert float(row["right_saturated"]) == pytest.approx(right, abs=one)
        assert float(row["saturated"]) == pytest.approx(float(row["left_saturated"]) + float(row["right_saturated"]))

    (span,) = list(csv.DictReader(io.StringIO((folder / "memory_spans.csv").read_text())))
    per_unit = -1.0 / np.log(gates["f"]).mean(axis=0)  # (H,) steps to fall to 1/e
    assert (span["gate"], int(span["units"]), int(span["sequence_length"])) == ("f", HIDDEN, LENGTH)
    assert float(span["span_median"]) == pytest.approx(np.quantile(per_unit, 0.5, method="lower"), rel=1e-5)
    assert float(span["span_p90"]) == pytest.approx(np.quantile(per_unit, 0.9, method="lower"), rel=1e-5)
    assert float(span["longer_than_sequence"]) == pytest.approx((per_unit > LENGTH).mean())
    assert (folder / "gates.png").read_bytes().startswith(PNG_MAGIC)
    assert f"wrote {folder / 'gates.png'}, gate_statistics.csv and memory_spans.csv" in out


def test_gates_of_a_plain_rnn_is_a_usage_error(runs, tmp_path):
    folder = tmp_path / "none"
    code, out, err = _run(["inspect", "gates", runs["rnn"], "--output", folder])
    assert code == 2
    assert "no gates" in _error(err) and "plain RNN" in _error(err)
    assert out == "" and not folder.exists()


# -- inspect cells ------------------------------------------------------------------------------


def _lm_states(run_dir: Path, text: str) -> tuple[np.ndarray, np.ndarray]:
    """``tanh(c(t))`` and ``h(t)`` of the last layer after each character, ``(T, H)`` each."""
    task, model, _ = load_trained(str(run_dir))
    tokens = torch.tensor([task.vocabulary.index[char] for char in text])
    lstm = _torch_lstm(model.recurrent, model.embedding.embedding_dim, 16, 2)
    x = model.embedding(tokens)[None]  # (1, T, E)
    state, cells, hiddens = None, [], []
    with torch.no_grad():
        for t in range(len(text)):
            _, state = lstm(x[:, t:t + 1], state)
            hiddens.append(state[0][-1, 0])
            cells.append(state[1][-1, 0].tanh())
    return torch.stack(cells).numpy(), torch.stack(hiddens).numpy()


def _inside_quotes(text: str) -> np.ndarray:
    """1 from an opening straight quote up to (not including) the closing one."""
    inside, out = False, []
    for char in text:
        if char == '"':
            inside = not inside
        out.append(1.0 if inside else 0.0)
    return np.array(out)


class _Page(HTMLParser):
    """The character spans (``class="c"``) of each ``<section>``: characters and titles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[dict] = []
        self.span: dict | None = None
        self.in_heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append({"heading": "", "chars": [], "titles": []})
        elif tag == "h2" and self.sections:
            self.in_heading = True
        elif tag == "span" and "c" in (attrs.get("class") or "").split():
            self.span = {"text": "", "newline": "nl" in attrs["class"].split(), "title": attrs["title"]}

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_heading = False
        if tag == "span" and self.span is not None:
            section = self.sections[-1]
            section["chars"].append("\n" if self.span["newline"] else self.span["text"])
            section["titles"].append(float(self.span["title"]))
            self.span = None

    def handle_data(self, data):
        if self.span is not None:
            self.span["text"] += data
        elif self.in_heading:
            self.sections[-1]["heading"] += data


def _page(folder: Path) -> tuple[str, list[dict]]:
    page = (folder / "cells.html").read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    parser.close()
    return page, parser.sections


def test_cells_finds_the_cells_most_correlated_with_quotes(runs, tmp_path):
    folder = tmp_path / "quotes"
    code, out, err = _run([
        "inspect", "cells", runs["lm"], "--text", SHOWN, "--predicate", "inside-quotes", "--top", "3",
        "--output", folder,
    ])
    assert code == 0, err
    printed = re.findall(r"^\s+cell\s+(\d+)\s+r = ([+-]\d\.\d{3})$", out, re.MULTILINE)
    found = [(int(cell), float(r)) for cell, r in printed]
    assert len(found) == 3
    activations, _ = _lm_states(runs["lm"], SHOWN)
    target = _inside_quotes(SHOWN)
    r = np.array([np.corrcoef(activations[:, k], target)[0, 1] for k in range(activations.shape[1])])
    best = np.argsort(-np.abs(r))[:3]
    assert [cell for cell, _ in found] == [int(k) for k in best]
    for cell, printed in found:
        assert printed == pytest.approx(r[cell], abs=1.5e-3)

    page, sections = _page(folder)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "&quot;" in page  # the text's quotes, escaped
    assert [int(re.search(r"cell (\d+)", s["heading"]).group(1)) for s in sections] == [c for c, _ in found]
    for section, (cell, _) in zip(sections, found):
        assert "".join(section["chars"]) == SHOWN
        # each character's hover title is its activation (3 decimals)
        np.testing.assert_allclose(section["titles"], activations[:, cell], atol=1.1e-3)


def test_cells_shows_exactly_the_cells_asked_for(runs, tmp_path):
    folder = tmp_path / "chosen"
    code, out, err = _run(["inspect", "cells", runs["lm"], "--text", SHOWN, "--cells", "[0, 1]", "--output", folder])
    assert code == 0, err
    assert "r = " not in out and "cells 0, 1" in out
    _, sections = _page(folder)
    assert [re.search(r"cell (\d+)", s["heading"]).group(1) for s in sections] == ["0", "1"]
    activations, _ = _lm_states(runs["lm"], SHOWN)
    for section, cell in zip(sections, (0, 1)):
        assert "".join(section["chars"]) == SHOWN
        np.testing.assert_allclose(section["titles"], activations[:, cell], atol=1.1e-3)


def test_cells_state_hidden_shows_h(runs, tmp_path):
    folder = tmp_path / "hidden"
    code, _, err = _run([
        "inspect", "cells", runs["lm"], "--text", SHOWN, "--state", "hidden", "--cells", "[2, 5]",
        "--output", folder,
    ])
    assert code == 0, err
    _, sections = _page(folder)
    assert [s["heading"].endswith(": h") for s in sections] == [True, True]
    _, hidden = _lm_states(runs["lm"], SHOWN)
    for section, cell in zip(sections, (2, 5)):
        np.testing.assert_allclose(section["titles"], hidden[:, cell], atol=1.1e-3)


def test_cells_defaults_to_the_validation_text(runs, tmp_path):
    folder = tmp_path / "default"
    code, out, err = _run(["inspect", "cells", runs["lm"], "--length", "120", "--top", "2", "--output", folder])
    assert code == 0, err
    assert "(120 characters, cells " in out
    _, sections = _page(folder)
    assert len(sections) == 2 and all(len(s["chars"]) == 120 for s in sections)
    assert "".join(sections[0]["chars"]) in "\n".join(CORPUS_LINES * 3)


@pytest.mark.parametrize(
    "run, options, mentions",
    [
        pytest.param("mem", ["--text", "she"], ["character-level language model", "'memory' run"],
                     id="not-a-language-model"),
        pytest.param("lm", ["--text", "she Zed €"], ["vocabulary lacks", "'Z'", "'€'"], id="unknown-character"),
        pytest.param("lm", ["--text", "she", "--layer", "2"], ["--layer must be between 0 and 1, got 2"],
                     id="layer-out-of-range"),
        pytest.param("lm", ["--text", "she", "--text-file", "FILE"], ["give --text or --text-file, not both"],
                     id="text-and-text-file"),
        pytest.param("lm", ["--text", "she", "--cells", "[99]"], ["out of range for 16 cell(s)"],
                     id="cell-out-of-range"),
    ],
)
def test_cells_usage_errors(runs, run, options, mentions, tmp_path):
    folder = tmp_path / "out"
    text_file = tmp_path / "text.txt"
    text_file.write_text("she\n", encoding="utf-8")
    options = [str(text_file) if option == "FILE" else option for option in options]
    code, out, err = _run(["inspect", "cells", runs[run], *options, "--output", folder])
    assert code == 2
    line = _error(err)
    assert all(text in line for text in mentions), line
    assert out == ""
    assert not (folder / "cells.html").exists()


def test_cells_error_leaves_no_empty_folder_in_the_run(runs, tmp_path):
    run = tmp_path / "lm"
    shutil.copytree(runs["lm"], run)
    code, _, err = _run(["inspect", "cells", run, "--text", "she", "--cells", "[99]"])
    assert code == 2 and "out of range" in _error(err)
    assert not (run / "inspect").exists() or list((run / "inspect").iterdir()) == []
