"""The commands that use a trained application model: ``predict``, ``translate``, ``compose``.

Each loads a checkpoint of its task (`commands.load_trained`), refuses another task's
with a clear error, and never overwrites a file the user already has.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import torch

from ..files import write_new_text
from ..train.checkpoint import resolve_checkpoint_path
from .commands import load_trained


def _load(path: str, task_name: str, command: str):
    task, model, checkpoint = load_trained(path)
    if task.name != task_name:
        raise ValueError(
            f"lstmkit {command} needs a {task_name!r} checkpoint; this one is a {task.name!r} run"
        )
    return task, model, checkpoint


# -- predict ------------------------------------------------------------------------------

def predict(path: str, input_path: str | None, texts: list[str] | None, output: str | None,
            as_json: bool) -> int:
    """``lstmkit predict CHECKPOINT``: classify the sequences of a file, or texts."""
    from ..data.sequences import TextSet

    task, model, _ = _load(path, "classify", "predict")
    if (input_path is None) == (not texts):
        raise ValueError("give either --input FILE or one or more --text values")
    if texts:
        raw = TextSet(name="--text", texts=list(texts), labels=None, classes=[])
    else:
        raw = task.load_unlabelled(input_path)
    encoded = task.encode(raw)
    with torch.no_grad():
        probabilities = torch.softmax(task.predict_logits(model, encoded), dim=1).numpy()
    classes = task.metadata()["classes"]
    predicted = probabilities.argmax(1)
    labels = encoded.labels.numpy()
    rows = [
        {"index": i, "prediction": classes[p], "probability": float(probabilities[i, p]),
         **({"label": classes[labels[i]]} if labels[i] >= 0 else {})}
        for i, p in enumerate(predicted)
    ]
    labelled = labels >= 0
    accuracy = float((predicted[labelled] == labels[labelled]).mean()) if labelled.any() else None
    if as_json:
        print(json.dumps({"classes": classes, "predictions": rows, "accuracy": accuracy}))
    else:
        for row in rows:
            label = f"  (label {row['label']})" if "label" in row else ""
            print(f"{row['index']:>6}  {row['prediction']:<20} {row['probability']:.3f}{label}")
        if accuracy is not None:
            print(f"accuracy on the {int(labelled.sum())} labelled sequences: {accuracy:.2%}")
    if output is not None:
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")  # quotes class names with commas
        writer.writerow(["index", "prediction", *(f"p_{name}" for name in classes)])
        for i, p in enumerate(predicted):
            writer.writerow([i, classes[p], *(f"{v:.6g}" for v in probabilities[i])])
        write_new_text(output, table.getvalue())
        print(f"wrote {output}")
    return 0


# -- translate ----------------------------------------------------------------------------

def translate(path: str, sources: list[str] | None, input_path: str | None, beam: int | None,
              length_penalty: float | None, n_best: int, output: str | None) -> int:
    """``lstmkit translate CHECKPOINT``: decode sources (words for G2P) with beam search."""
    task, model, _ = _load(path, "seq2seq", "translate")
    width = task.config.model.beam_width if beam is None else beam
    if width < 1 or n_best < 1 or n_best > width:
        raise ValueError(f"need 1 <= --n-best ({n_best}) <= --beam ({width})")
    if (input_path is None) == (not sources):
        raise ValueError("give either source sequences as arguments or --input FILE")
    references = None
    if input_path is not None:
        items, references = task.read_sources(input_path)
    else:
        items = [task.tokenize_source(text) for text in sources]
    results = task.translate(
        model, items, beam_width=width, n_best=n_best, length_penalty=length_penalty,
    )
    lines = []
    for source, hypotheses in zip(items, results):
        for tokens, score in hypotheses:
            suffix = f"\t{score:.4f}" if n_best > 1 else ""
            lines.append(f"{task.join_source(source)}\t{' '.join(tokens)}{suffix}")
    print("\n".join(lines))
    if references is not None:
        from ..tasks.seq2seq.metrics import error_rates

        rates = error_rates(references, [hyps[0][0] for hyps in results])
        print(f"against the file's targets: PER {rates['per']:.2%}  WER {rates['wer']:.2%} "
              f"({rates['words']} sources)")
    if output is not None:
        write_new_text(output, "\n".join(lines) + "\n")
        print(f"wrote {output}")
    return 0


# -- compose ------------------------------------------------------------------------------

def compose(path: str, steps: int, seed: int, temperature: float, prime_steps: int,
            output: str | None, bpm: float) -> int:
    """``lstmkit compose CHECKPOINT``: sample a piece; write it as MIDI and a piano-roll PNG."""
    from ..data.midi import write_midi
    from ..tasks.music.plot import plot_piano_roll

    task, model, _ = _load(path, "music", "compose")
    if bpm <= 0:
        raise ValueError(f"--bpm must be positive, got {bpm}")
    if prime_steps < 0:
        raise ValueError(f"--prime-steps must be >= 0, got {prime_steps}")
    folder = Path(output) if output is not None else resolve_checkpoint_path(path).parent / "compositions"
    stem = f"compose-seed{seed}-steps{steps}"
    midi, png = folder / f"{stem}.mid", folder / f"{stem}.png"
    for target in (midi, png):
        if target.exists():
            raise FileExistsError(f"{target} already exists; lstmkit never overwrites it")
    frames, probabilities = task.compose(
        model, steps, seed, temperature=temperature, prime_steps=prime_steps,
    )
    folder.mkdir(parents=True, exist_ok=True)
    spq = task.config.data.steps_per_quarter
    write_midi(midi, frames, spq, bpm=bpm)
    plot_piano_roll(
        png, frames, spq, probabilities=probabilities,
        title=f"lstmkit compose: {steps} steps, seed {seed}, temperature {temperature:g}"
        + (f", after {prime_steps} steps of a test chorale" if prime_steps else ""),
    )
    notes = int(np.count_nonzero(np.diff(np.vstack([np.zeros((1, frames.shape[1])), frames]), axis=0) > 0))
    print(f"{len(frames)} steps, {notes} note onsets, {frames.sum(1).mean():.1f} keys per step on average")
    print(f"wrote {midi} and {png}")
    return 0
