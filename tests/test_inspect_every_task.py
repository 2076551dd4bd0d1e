"""``lstmkit inspect gradients`` and ``inspect gates`` on a checkpoint of every task.

One tiny checkpoint per task is trained through ``main(["train", ...])`` with the option
sets of the tasks' own tests (built-in or generated data, one epoch, a few units), lazily
and once per module: forecast (a noisy sine CSV), classify (JapaneseVowels, and keyword
texts through a bidirectional GRU), seq2seq (cmudict, 200 training pairs), music (33
chorales, parsed into a fresh cache as the music tests do) and a 2-layer char LM with
truncated BPTT.

The views' numbers are recomputed here without `lstmkit.inspect`: a forward hook on each
recurrent module replaces its output by the same stack unrolled by hand in float64, one
real step of one sequence at a time (``c = f c + i g``, ``h = o tanh c`` for an LSTM;
``h = (1 - z) n + z h`` for a GRU), keeping every gate, ``h(t)`` and ``c(t)``. After
``loss.backward()`` their ``.grad`` is the total derivative ``∂L/∂h(t)`` the gradient view
reports, averaged over the sequences at each lag. The seq2seq decoder runs through
``step()`` and is checked for its shape and sanity only.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from test_classify_task import write_texts
from test_forecast_task import write_series

from lstmkit.cli.commands import load_trained
from lstmkit.cli.main import main
from lstmkit.nn.recurrent import RecurrentLayer
from lstmkit.train.sample import first_batch

BATCH = 4
FLOW_HEADER = ["label", "layer", "kind", "lag", "h_norm", "c_norm"]
GATES = {"lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}
TANH_GATES = {"lstm": "g", "gru": "n"}
KEEP_GATE = {"lstm": "f", "gru": "z"}
QUIET = ["--run.progress", "lines", "--run.tensorboard", "false", "--run.plots", "false",
         "--run.report", "false"]
VERSE = "the quick brown fox jumps over the lazy dog.\na stitch in time saves nine.\n"


def _sktime_vowels() -> bool:
    """The condition under which test_data_sequences_builtin runs JapaneseVowels."""
    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "JapaneseVowels"
    return (folder / "JapaneseVowels_TRAIN.ts").is_file()


# -- the tiny runs ------------------------------------------------------------------------------


def _forecast_argv(root: Path) -> list:
    return [
        "train", "forecast", "--data.series", write_series(root / "s.csv"), "--data.context", "16",
        "--data.horizon", "4", "--data.season", "8", "--data.test_windows", "3",
        "--data.validation_windows", "2", "--model.recurrent.hidden_size", "8",
        "--model.baselines", '["naive","seasonal_naive"]', "--train.epochs", "1",
    ]


def _vowels_argv(root: Path) -> list:
    return [
        "train", "classify", "--data.dataset", "japanese-vowels", "--data.limit", "60",
        "--model.recurrent.hidden_size", "8", "--train.epochs", "1",
    ]


def _text_gru_argv(root: Path) -> list:
    return [
        "train", "classify", "--data.dataset", write_texts(root / "reviews.csv"), "--data.min_freq", "1",
        "--model.embedding_size", "8", "--model.recurrent.cell", "gru",
        "--model.recurrent.hidden_size", "8", "--train.epochs", "1",
    ]


def _seq2seq_argv(root: Path) -> list:
    return [
        "train", "seq2seq", "--data.dataset", "cmudict", "--data.limit", "200", "--data.eval_limit", "20",
        "--model.encoder.hidden_size", "8", "--model.decoder.hidden_size", "8",
        "--model.embedding_size", "8", "--model.beam_width", "2", "--train.epochs", "1",
    ]


def _music_argv(root: Path) -> list:
    return [
        "train", "music", "--data.limit", "33", "--data.cache_dir", root / "chorale-cache",
        "--model.recurrent.hidden_size", "8", "--train.epochs", "1",
    ]


def _lm_argv(root: Path, *extra: str) -> list:
    corpus = root / "corpus.txt"
    if not corpus.exists():
        corpus.write_text(VERSE * 60, encoding="utf-8")  # 4,440 characters
    return [
        "train", "lm", "--data.corpus", corpus, "--data.ngram_order", "3", "--data.eval_streams", "4",
        "--model.recurrent.hidden_size", "16", "--train.batch_size", "8", "--train.bptt", "16",
        "--train.epochs", "1", *extra,
    ]


@dataclass(frozen=True)
class Case:
    """One task's tiny run and what its model must show.

    Attributes:
        name: run name and test id.
        argv: ``train ...`` arguments for a run under a root folder.
        layers: trace name (``module/layer k[ reverse]``) -> cell kind, every one expected.
        steps: the first batch -> trace name -> its recorded steps ``T`` (lags 0 .. T-1).
    """

    name: str
    argv: Callable[[Path], list]
    layers: dict[str, str]
    steps: Callable[[object], dict[str, int]]


def _same(layers: dict[str, str], count: Callable[[object], int]) -> Callable[[object], dict[str, int]]:
    return lambda batch: {layer: count(batch) for layer in layers}


def _case(name, argv, layers, count) -> Case:
    return Case(name, argv, layers, _same(layers, count))


ONE = {"recurrent/layer 0": "lstm"}
BOTH_WAYS = {"recurrent/layer 0": "lstm", "recurrent/layer 0 reverse": "lstm"}
SEQ2SEQ_LAYERS = {"encoder/layer 0": "lstm", "encoder/layer 0 reverse": "lstm", "decoder/layer 0": "lstm"}
CASES = {
    case.name: case
    for case in (
        # forecast: [history (N, L, C), covariates, future]; L = data.context
        _case("forecast", _forecast_argv, ONE, lambda b: b[0].shape[1]),
        # classify: (inputs, lengths, labels); the longest real sequence
        _case("classify-japanese-vowels", _vowels_argv, BOTH_WAYS, lambda b: int(b[1].max())),
        _case("classify-text-gru", _text_gru_argv,
              {"recurrent/layer 0": "gru", "recurrent/layer 0 reverse": "gru"}, lambda b: int(b[1].max())),
        # seq2seq: (source, source_lengths, target_in, target_out); the decoder is stepped
        Case("seq2seq-cmudict", _seq2seq_argv, SEQ2SEQ_LAYERS, lambda b: {
            "encoder/layer 0": int(b[1].max()), "encoder/layer 0 reverse": int(b[1].max()),
            "decoder/layer 0": b[2].shape[1],
        }),
        # music: (rolls, lengths)
        _case("music-chorales", _music_argv, ONE, lambda b: int(b[1].max())),
        # lm: a chunk of train.bptt steps
        _case("lm-bptt", _lm_argv, {"recurrent/layer 0": "lstm", "recurrent/layer 1": "lstm"},
              lambda b: 16),
    )
}
PARAMS = [
    pytest.param(
        name, id=name,
        marks=[pytest.mark.skipif(not _sktime_vowels(), reason="sktime's JapaneseVowels not installed")]
        if name == "classify-japanese-vowels" else [],
    )
    for name in CASES
]
EXTRA_RUNS = {"lm-rnn": lambda root: _lm_argv(root, "--model.recurrent.cell", "rnn_tanh")}


def _run(argv: list) -> tuple[int, str, str]:
    """``main(argv)`` with stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


class Runs:
    """Run folders by case name, each trained on first use (a failed run fails only its tests)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folders: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.folders:
            argv = CASES[name].argv if name in CASES else EXTRA_RUNS[name]
            code, _, err = _run([*argv(self.root), *QUIET, "--run.root", self.root, "--run.name", name])
            assert code == 0, f"training {name} failed:\n{err}"
            self.folders[name] = self.root / name
        return self.folders[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("every-task"))


# -- the stacks by hand -------------------------------------------------------------------------


def _cell_steps(kind: str, w: dict[str, torch.Tensor], x: torch.Tensor) -> dict[str, list]:
    """One direction of one layer over ``x (L, I)`` from zero state, float64.

    LSTM (torch's gate order i, f, g, o): ``z = W_ih x + b_ih + W_hh h + b_hh``,
    ``c = f c + i g``, ``h = o tanh(c)``. GRU (r, z, n): ``n = tanh(W_in x + b_in +
    r (W_hn h + b_hn))``, ``h = (1 - z) n + z h``. Every ``h(t)``/``c(t)`` keeps its grad.
    """
    size = w["weight_hh"].shape[1]
    h = x.new_zeros(size)
    c = x.new_zeros(size)
    steps: dict[str, list] = {"h": [], "c": [], **{gate: [] for gate in GATES[kind]}}
    for t in range(x.shape[0]):
        if kind == "lstm":
            z = w["weight_ih"] @ x[t] + w["bias_ih"] + w["weight_hh"] @ h + w["bias_hh"]
            zi, zf, zg, zo = z.chunk(4)
            gates = {"i": zi.sigmoid(), "f": zf.sigmoid(), "g": zg.tanh(), "o": zo.sigmoid()}
            c = gates["f"] * c + gates["i"] * gates["g"]
            h = gates["o"] * c.tanh()
            c.retain_grad()
            steps["c"].append(c)
        else:
            xr, xz, xn = (w["weight_ih"] @ x[t] + w["bias_ih"]).chunk(3)
            hr, hz, hn = (w["weight_hh"] @ h + w["bias_hh"]).chunk(3)
            gates = {"r": (xr + hr).sigmoid(), "z": (xz + hz).sigmoid()}
            gates["n"] = (xn + gates["r"] * hn).tanh()
            h = (1 - gates["z"]) * gates["n"] + gates["z"] * h
        h.retain_grad()
        steps["h"].append(h)
        for name, value in gates.items():
            steps[name].append(value)
    return steps


@dataclass
class HandLayer:
    """One layer and direction unrolled by hand: per sequence, its real steps in time order."""

    kind: str
    reverse: bool
    steps: list[dict[str, list]]  # per sequence: "h", "c", gates -> list over t (time order)


def _weights(module: RecurrentLayer, layer: int, direction: int) -> dict[str, torch.Tensor]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    state = module.state_dict()
    names = {key for key in state if key.endswith(suffix)}
    assert names == {f"{base}{suffix}" for base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}, (
        f"the hand unroll knows plain LSTM/GRU layers only, got {sorted(names)}"
    )
    return {key[: -len(suffix)]: state[key].detach().double().requires_grad_() for key in names}


def _unroll(module: RecurrentLayer, x: torch.Tensor, lengths: torch.Tensor | None, prefix: str):
    """The whole stack by hand over ``x (N, T, I)``: output ``(N, T, D·H)`` (zero on padding),
    the final state as ``forward`` returns it, and a `HandLayer` per trace name."""
    kind = module.spec.kind
    n, total = x.shape[:2]
    lengths = [total] * n if lengths is None else [int(k) for k in lengths]
    directions = module.num_directions
    layers: dict[str, HandLayer] = {}
    outputs, finals = [], {"h": [], "c": []}
    for s in range(n):
        inputs = x[s, : lengths[s]].detach().double()
        last: dict[str, list] = {"h": [], "c": []}
        for k in range(module.num_layers):
            halves = []
            for d in range(directions):
                name = f"{prefix}/layer {k}" + (" reverse" if d else "")
                steps = _cell_steps(kind, _weights(module, k, d), inputs.flip(0) if d else inputs)
                for key in ("h", "c"):
                    if steps[key]:
                        last[key].append(steps[key][-1])  # final state of layer k, direction d
                if d:  # back into time order
                    steps = {key: values[::-1] for key, values in steps.items()}
                layers.setdefault(name, HandLayer(kind, bool(d), [])).steps.append(steps)
                halves.append(torch.stack(steps["h"]))  # (L, H)
            inputs = torch.cat(halves, dim=-1)  # (L, D·H): the next layer's input
        outputs.append(torch.cat([inputs, inputs.new_zeros(total - inputs.shape[0], inputs.shape[1])]))
        for key in ("h", "c"):
            if last[key]:
                finals[key].append(torch.stack(last[key]))  # (layers·D, H)
    output = torch.stack(outputs)  # (N, T, D·H)
    final = tuple(torch.stack(finals[key], dim=1) for key in ("h", "c") if finals[key])  # (layers·D, N, H)
    return output, final, layers


def _by_hand(task, model: torch.nn.Module, batch) -> dict[str, HandLayer]:
    """Run ``task.loss`` with every recurrent module's forward replaced by `_unroll`, then
    backpropagate ``total / count``; a module only ever stepped (a decoder) is left alone."""
    layers: dict[str, HandLayer] = {}
    handles = []

    def hook(name):
        def replace(module, args, kwargs, output):
            hx = args[1] if len(args) > 1 else kwargs.get("hx")
            assert hx is None, f"{name}: the hand unroll starts from zero state"
            mine, final, found = _unroll(module, args[0], kwargs.get("lengths"), name)
            real_output, real_final = output
            real_final = real_final if isinstance(real_final, tuple) else (real_final,)
            lengths = kwargs.get("lengths")
            valid = torch.ones(mine.shape[:2], dtype=torch.bool) if lengths is None else (
                torch.arange(mine.shape[1])[None] < lengths.cpu()[:, None])
            # the hand stack computes what the module computed: the check of the check
            torch.testing.assert_close(mine[valid].float(), real_output[valid], rtol=1e-4, atol=1e-5)
            for a, b in zip(final, real_final):
                torch.testing.assert_close(a.float(), b, rtol=1e-4, atol=1e-5)
            layers.update(found)
            final = tuple(part.float() for part in final)
            return mine.float(), final if len(final) == 2 else final[0]

        return replace

    for name, module in model.named_modules():
        if isinstance(module, RecurrentLayer):
            handles.append(module.register_forward_hook(hook(name), with_kwargs=True))
    try:
        out = task.loss(model, batch, None)
        (out.total / out.count).backward()
    finally:
        for handle in handles:
            handle.remove()
    model.zero_grad(set_to_none=True)
    return layers


def _flow_by_hand(layer: HandLayer, which: str) -> np.ndarray:
    """Mean over sequences of ``||∂L/∂which(t)||`` at each lag (``L_n - 1 - t``, or ``t`` reversed)."""
    longest = max(len(steps["h"]) for steps in layer.steps)
    total, count = np.zeros(longest), np.zeros(longest)
    for steps in layer.steps:
        size = len(steps[which])
        for t, state in enumerate(steps[which]):
            lag = t if layer.reverse else size - 1 - t
            grad = torch.zeros_like(state) if state.grad is None else state.grad
            total[lag] += float(grad.norm())
            count[lag] += 1
    return total / count


def _gates_by_hand(layer: HandLayer) -> dict[str, np.ndarray]:
    """Gate -> every real unit-step's activation, ``(steps, H)``, pooled over sequences."""
    return {
        gate: torch.cat([torch.stack(steps[gate]) for steps in layer.steps]).detach().numpy()
        for gate in GATES[layer.kind]
    }


# -- reading the views' files -------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _model_layers(model: torch.nn.Module) -> dict[str, str]:
    """Trace name -> kind of every layer and direction of every recurrent module."""
    return {
        f"{name}/layer {k}" + (" reverse" if d else ""): module.spec.kind
        for name, module in model.named_modules() if isinstance(module, RecurrentLayer)
        for k in range(module.num_layers) for d in range(module.num_directions)
    }


def _flows(rows: list[dict], label: str) -> dict[str, dict]:
    """Layer -> kind, lags and the two norm columns, for one label."""
    flows: dict[str, dict] = {}
    for row in rows:
        if row["label"] != label:
            continue
        flow = flows.setdefault(row["layer"], {"kind": row["kind"], "lag": [], "h": [], "c": []})
        assert row["kind"] == flow["kind"]
        flow["lag"].append(int(row["lag"]))
        flow["h"].append(float(row["h_norm"]))
        flow["c"].append(float(row["c_norm"]) if row["c_norm"] else None)
    return flows


def _check_flows(flows: dict[str, dict], expected: dict[str, str], steps: dict[str, int]) -> None:
    assert {layer: flow["kind"] for layer, flow in flows.items()} == expected
    for layer, flow in flows.items():
        assert flow["lag"] == list(range(steps[layer])), layer
        h = np.array(flow["h"])
        assert np.all(np.isfinite(h)) and np.all(h >= 0) and np.any(h > 0), (layer, h)
        if flow["kind"] == "lstm":
            c = np.array(flow["c"], dtype=float)
            assert np.all(np.isfinite(c)) and np.all(c >= 0) and np.any(c > 0), (layer, c)
        else:
            assert all(value is None for value in flow["c"]), layer


def _check_flows_by_hand(flows: dict[str, dict], hand: dict[str, HandLayer]) -> None:
    for layer, mine in hand.items():
        np.testing.assert_allclose(flows[layer]["h"], _flow_by_hand(mine, "h"), rtol=1e-4, atol=1e-9,
                                   err_msg=layer)
        if mine.kind == "lstm":
            np.testing.assert_allclose(flows[layer]["c"], _flow_by_hand(mine, "c"), rtol=1e-4,
                                       atol=1e-9, err_msg=layer)


def _setup(runs: Runs, name: str, fresh_seed: int | None = None):
    """The task, model (trained, or fresh from ``fresh_seed``), first batch and hand stack."""
    task, model, _ = load_trained(str(runs[name]))
    if fresh_seed is not None:
        torch.manual_seed(fresh_seed)
        model = task.build_model().eval()
    batch = first_batch(task, BATCH, task.config.train.bptt)
    return task, model, batch, _by_hand(task, model, batch)


# -- inspect gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PARAMS)
def test_gradients_on_every_task(runs, name, tmp_path):
    case = CASES[name]
    folder = tmp_path / "gradients"
    code, out, err = _run(["inspect", "gradients", runs[name], "--output", folder, "--batch-size", BATCH])
    assert code == 0, err
    assert f"wrote {folder / 'gradient_flow.png'} and {folder / 'gradient_flow.csv'}" in out
    assert (folder / "gradient_flow.csv").read_text().splitlines()[0] == ",".join(FLOW_HEADER)
    rows = _csv_rows(folder / "gradient_flow.csv")
    assert {row["label"] for row in rows} == {f"{name}/last.pt"}

    _, model, batch, hand = _setup(runs, name)
    assert _model_layers(model) == case.layers  # the model is what the case says it is
    flows = _flows(rows, f"{name}/last.pt")
    _check_flows(flows, case.layers, case.steps(batch))
    # every layer run by forward() is recomputed (all but the stepped seq2seq decoder)
    assert set(hand) == set(case.layers) - {"decoder/layer 0"}
    _check_flows_by_hand(flows, hand)


# -- inspect gates --------------------------------------------------------------------------------


def _check_gate_row(row: dict, values: np.ndarray, kind: str, gate: str, low=0.1, high=0.9) -> None:
    """One gate_statistics row against the activations by hand (float64)."""
    unit = (values + 1) / 2 if gate == TANH_GATES[kind] else values
    assert float(row["mean"]) == pytest.approx(values.mean(), rel=1e-5, abs=1e-6)
    assert float(row["std"]) == pytest.approx(values.std(), rel=1e-4, abs=1e-6)
    for column, hits, cut in (("left_saturated", unit < low, low), ("right_saturated", unit > high, high)):
        # a float32 value within rounding of the threshold may fall on either side
        slack = (np.sum(np.abs(unit - cut) < 1e-5) + 0.5) / unit.size
        assert abs(float(row[column]) - hits.mean()) <= slack, (row["layer"], gate, column)


@pytest.mark.parametrize("name", PARAMS)
def test_gates_on_every_task(runs, name, tmp_path):
    case = CASES[name]
    folder = tmp_path / "gates"
    code, out, err = _run(["inspect", "gates", runs[name], "--output", folder, "--batch-size", BATCH])
    assert code == 0, err
    assert f"wrote {folder / 'gates.png'}, gate_statistics.csv and memory_spans.csv" in out
    rows = _csv_rows(folder / "gate_statistics.csv")
    by_layer: dict[str, list[dict]] = {}
    for row in rows:
        by_layer.setdefault(row["layer"], []).append(row)
    assert set(by_layer) == set(case.layers)
    for layer, layer_rows in by_layer.items():
        kind = case.layers[layer]
        assert [row["gate"] for row in layer_rows] == GATES[kind], layer
        for row in layer_rows:
            assert row["kind"] == kind
            tanh = row["gate"] == TANH_GATES[kind]
            assert row["activation"] == ("tanh" if tanh else "sigmoid")
            assert (-1.0 if tanh else 0.0) <= float(row["mean"]) <= 1.0
            fractions = [float(row[key]) for key in ("left_saturated", "right_saturated", "saturated")]
            assert all(0.0 <= value <= 1.0 for value in fractions), row
            assert fractions[2] == pytest.approx(fractions[0] + fractions[1])
    spans = _csv_rows(folder / "memory_spans.csv")
    assert {(row["layer"], row["gate"]) for row in spans} == {
        (layer, KEEP_GATE[kind]) for layer, kind in case.layers.items()
    }
    _, _, batch, hand = _setup(runs, name)
    assert {row["layer"]: int(row["sequence_length"]) for row in spans} == case.steps(batch)
    for layer, mine in hand.items():
        for row, (gate, values) in zip(by_layer[layer], _gates_by_hand(mine).items()):
            assert row["gate"] == gate
            _check_gate_row(row, values, mine.kind, gate)


# -- fresh models, several checkpoints at once, a cell without gates, bad input ----------------


def test_fresh_forecast_model_gives_its_own_numbers(runs, tmp_path):
    name = "forecast"
    trained, fresh = tmp_path / "trained", tmp_path / "fresh"
    for folder, options in ((trained, []), (fresh, ["--fresh", "--seed", "3"])):
        code, _, err = _run(["inspect", "gradients", runs[name], *options, "--output", folder,
                             "--batch-size", BATCH])
        assert code == 0, err
    trained_flows = _flows(_csv_rows(trained / "gradient_flow.csv"), f"{name}/last.pt")
    fresh_flows = _flows(_csv_rows(fresh / "gradient_flow.csv"), f"{name}/last.pt (fresh)")
    _check_flows(fresh_flows, ONE, {"recurrent/layer 0": 16})
    # the fresh numbers are those of the model torch.manual_seed(3) initialises ...
    _, _, _, hand = _setup(runs, name, fresh_seed=3)
    _check_flows_by_hand(fresh_flows, hand)
    # ... and not the trained weights'
    ratio = np.array(fresh_flows["recurrent/layer 0"]["h"]) / np.array(trained_flows["recurrent/layer 0"]["h"])
    assert np.max(np.abs(ratio - 1)) > 0.05, ratio

    gates = {}
    for label, options in (("trained", []), ("fresh", ["--fresh", "--seed", "3"])):
        folder = tmp_path / f"gates-{label}"
        code, _, err = _run(["inspect", "gates", runs[name], *options, "--output", folder,
                             "--batch-size", BATCH])
        assert code == 0, err
        gates[label] = _csv_rows(folder / "gate_statistics.csv")
    for row, (gate, values) in zip(gates["fresh"], _gates_by_hand(hand["recurrent/layer 0"]).items()):
        _check_gate_row(row, values, "lstm", gate)
    means = {label: np.array([float(row["mean"]) for row in rows]) for label, rows in gates.items()}
    assert np.max(np.abs(means["fresh"] - means["trained"])) > 1e-3


def test_gradients_of_checkpoints_of_different_tasks_in_one_call(runs, tmp_path):
    together, alone = tmp_path / "together", {}
    code, _, err = _run(["inspect", "gradients", runs["forecast"], runs["lm-bptt"], "--output", together,
                         "--batch-size", BATCH])
    assert code == 0, err
    rows = _csv_rows(together / "gradient_flow.csv")
    assert [row["label"] for row in rows] == (
        ["forecast/last.pt"] * 16 + ["lm-bptt/last.pt"] * 32
    )
    for name in ("forecast", "lm-bptt"):
        folder = tmp_path / name
        code, _, err = _run(["inspect", "gradients", runs[name], "--output", folder, "--batch-size", BATCH])
        assert code == 0, err
        alone = _flows(_csv_rows(folder / "gradient_flow.csv"), f"{name}/last.pt")
        assert _flows(rows, f"{name}/last.pt") == alone  # each model on its own task's batch


def test_plain_rnn_language_model_has_gradients_but_no_gates(runs, tmp_path):
    folder = tmp_path / "rnn"
    code, _, err = _run(["inspect", "gradients", runs["lm-rnn"], "--output", folder, "--batch-size", BATCH])
    assert code == 0, err
    flows = _flows(_csv_rows(folder / "gradient_flow.csv"), "lm-rnn/last.pt")
    layers = {"recurrent/layer 0": "rnn_tanh", "recurrent/layer 1": "rnn_tanh"}  # lm: 2 layers by default
    _check_flows(flows, layers, dict.fromkeys(layers, 16))  # no c_norm for a plain RNN
    gates = tmp_path / "gates"
    code, out, err = _run(["inspect", "gates", runs["lm-rnn"], "--output", gates])
    assert code == 2 and out == ""
    assert err.startswith("lstmkit: error: ") and "no gates" in err and "plain RNN" in err
    assert not gates.exists()


@pytest.mark.parametrize("view", ["gradients", "gates"])
def test_a_bad_batch_size_is_refused_before_anything_is_written(runs, view, tmp_path):
    folder = tmp_path / "out"
    code, out, err = _run(["inspect", view, runs["lm-bptt"], "--output", folder, "--batch-size", "0"])
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("lstmkit: error: ") and "batch_size must be a positive int, got 0" in lines[0]
    assert not folder.exists()
