"""The language-model task: training, evaluation with carried state, generation, CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch
from train_helpers import fit, one_line_error, run_cli

from lstmkit.tasks import LanguageModelConfig, LanguageModelTask, RecurrentConfig
from lstmkit.tasks.lm.task import LanguageModelDataConfig, LanguageModelModelConfig
from lstmkit.train import OptimizerConfig, RunConfig, TrainConfig

VERSE = "the quick brown fox jumps over the lazy dog.\na stitch in time saves nine.\n"


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(VERSE * 60, encoding="utf-8")  # 4,440 characters
    return path


def lm_config(corpus, root, *, level="char", hidden=16, train=None, **data) -> LanguageModelConfig:
    return LanguageModelConfig(
        model=LanguageModelModelConfig(recurrent=RecurrentConfig(hidden_size=hidden)),
        data=LanguageModelDataConfig(
            corpus=str(corpus), level=level, ngram_order=3, eval_streams=4, eval_bptt=32, **data
        ),
        train=TrainConfig(**{
            "epochs": 4, "batch_size": 8, "bptt": 16, "eval_every": 0, "log_every": 10,
            "optimizer": OptimizerConfig(name="adam", lr=1e-2), **(train or {}),
        }),
        run=RunConfig(root=str(root), progress="lines", tensorboard=False, plots=False),
    )


def test_training_lowers_the_loss_and_bpc_is_loss_in_bits(corpus, tmp_path):
    config = lm_config(corpus, tmp_path)
    task = LanguageModelTask(config)
    _trainer, result = fit(config, task)
    first, last = sum(result.losses[:3]) / 3, sum(result.losses[-3:]) / 3
    assert last < 0.6 * first, (first, last)
    assert result.metrics["bpc"] == pytest.approx(result.metrics["loss"] / math.log(2))
    # An untrained model is near uniform over the vocabulary: loss ≈ ln V.
    fresh = task.build_model().eval()
    with torch.no_grad():
        untrained = task.evaluate(fresh, "validation")["loss"]
    assert untrained == pytest.approx(math.log(len(task.vocabulary)), rel=0.1)
    assert result.metrics["loss"] < 0.5 * untrained


def test_evaluation_in_streams_with_carried_state_equals_one_full_pass(corpus, tmp_path):
    config = lm_config(corpus, tmp_path)
    config.data.eval_streams, config.data.eval_bptt = 1, 7  # many chunks, state carried
    task = LanguageModelTask(config)
    model = task.build_model().eval()
    tokens = task.tokens("test")
    with torch.no_grad():
        logits, _ = model(tokens[None, :-1])
        expected = torch.nn.functional.cross_entropy(logits[0], tokens[1:]).item()
        assert task.evaluate(model, "test")["loss"] == pytest.approx(expected, rel=1e-5)


def test_vocabulary_comes_from_the_training_split_only(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("ab" * 450 + "Z" * 100, encoding="utf-8")  # Z only in validation/test
    task = LanguageModelTask(lm_config(path, tmp_path))
    assert "Z" not in task._vocabulary().index
    assert set(task.tokens("test").tolist()) == {0}  # all <unk>


def test_word_level_reports_perplexity_and_maps_rare_words_to_unknown(corpus, tmp_path):
    config = lm_config(corpus, tmp_path, level="word", min_freq=2)
    task = LanguageModelTask(config)
    _, result = fit(config, task)
    assert "perplexity" in result.metrics and "bpc" not in result.metrics
    assert result.metrics["perplexity"] == pytest.approx(math.exp(result.metrics["loss"]))
    assert task.vocabulary.tokens[:2] == ["<unk>", "\n"] or "\n" in task.vocabulary.index
    assert result.metrics["perplexity"] < len(task.vocabulary)  # better than uniform


def test_generation_is_reproducible_for_a_seed_and_respects_top_k(corpus, tmp_path):
    config = lm_config(corpus, tmp_path)
    task = LanguageModelTask(config)
    _, result = fit(config, task)
    model = task.build_model()
    model.load_state_dict(torch.load(result.run_dir / "best.pt", weights_only=True)["model"])

    def sample(**options):
        return "".join(task.generate(model, "the ", 80, **options))

    assert sample(seed=3) == sample(seed=3)
    assert sample(seed=3) != sample(seed=4)
    greedy = sample(temperature=0.0)
    assert sample(top_k=1, seed=9) == greedy  # top-1 sampling is greedy whatever the seed
    assert len(greedy) == 80
    assert set(sample(seed=5)) <= set(task.vocabulary.tokens)


def test_generation_errors(corpus, tmp_path):
    task = LanguageModelTask(lm_config(corpus, tmp_path))
    model = task.build_model()
    with pytest.raises(ValueError, match=r"--prime holds tokens the model's vocabulary lacks: 'Q'"):
        list(task.generate(model, "Quick", 5))
    with pytest.raises(ValueError, match="--length must be a non-negative int"):
        list(task.generate(model, "the", -1))
    with pytest.raises(ValueError, match="--top-p"):
        list(task.generate(model, "the", 5, top_p=1.5))


def test_model_config_errors(corpus, tmp_path):
    config = lm_config(corpus, tmp_path)
    config.model.embedding_size = 12
    with pytest.raises(ValueError, match=r"model.tie_weights needs model.embedding_size \(12\) equal"):
        LanguageModelTask(config).build_model()
    config.model.tie_weights = False
    model = LanguageModelTask(config).build_model()
    assert model.output.weight is not model.embedding.weight
    config = lm_config(corpus, tmp_path)
    config.model.recurrent.bidirectional = True
    with pytest.raises(ValueError, match="bidirectional must be false for a language model"):
        LanguageModelTask(config).build_model()


def test_tied_weights_share_one_matrix(corpus, tmp_path):
    model = LanguageModelTask(lm_config(corpus, tmp_path)).build_model()
    assert model.output.weight is model.embedding.weight


def test_cli_train_report_then_generate(corpus, tmp_path):
    root = tmp_path / "runs"
    train = run_cli([
        "train", "lm", "--data.corpus", corpus, "--data.ngram_order", "3",
        "--data.eval_streams", "4", "--model.recurrent.hidden_size", "16",
        "--train.batch_size", "8", "--train.bptt", "16", "--train.epochs", "2",
        "--run.root", root, "--run.name", "lm", "--run.progress", "lines",
        "--run.plots", "false", "--run.tensorboard", "false",
    ])
    assert train.returncode == 0, train.stderr
    assert "test bpc: LSTM" in train.stdout and "3-gram Kneser-Ney" in train.stdout
    report = json.loads((root / "lm" / "report.json").read_text())
    assert report["ngram"]["order"] == 3 and report["test"]["bpc"] > 0
    assert (root / "lm" / "sample.txt").read_text().strip()
    args = ["generate", root / "lm", "--prime", "the ", "--length", "40", "--seed", "7"]
    first, second = run_cli(args), run_cli(args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.startswith("the ") and len(first.stdout) == len("the ") + 40 + 1


def test_cli_generate_refuses_other_tasks_and_bad_options(tmp_path):
    from train_helpers import memory_argv

    assert run_cli(memory_argv(tmp_path, "m")).returncode == 0
    wrong = run_cli(["generate", tmp_path / "m", "--length", "5"])
    assert wrong.returncode == 2
    assert "needs a language-model ('lm') checkpoint; this one is a 'memory' run" in one_line_error(wrong.stderr)


def test_lm_needs_truncated_bptt(corpus, tmp_path):
    config = lm_config(corpus, tmp_path, train={"bptt": None})
    with pytest.raises(ValueError, match="train.bptt must be set for lm"):
        LanguageModelTask(config)
