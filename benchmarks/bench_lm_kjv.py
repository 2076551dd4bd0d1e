"""The language-model quality bar: a 2-layer, 512-unit character LSTM trained for at most
30 minutes on the King James Bible against a Kneser–Ney character n-gram, on the same
contiguous 90/5/5 split (test = the last 5 %).

Run from the repository root (after ``python3 dev.py test`` or ``demo`` set up .venv)::

    .venv/bin/python -m benchmarks.bench_lm_kjv                 # 30-minute budget
    .venv/bin/python -m benchmarks.bench_lm_kjv --minutes 2     # a short smoke run

It trains with ``lstmkit train lm`` (the same command a user runs; the budget is
``train.max_time``, evaluations included), whose report scores the best checkpoint on
the test split next to the n-gram fitted on the same training text. The run directory
holds everything (curves.png, sample.txt, report.json); a summary goes to
``benchmarks/results/lm_kjv.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget (wall clock)")
    parser.add_argument("--hidden", type=int, default=512, help="units per layer")
    parser.add_argument("--layers", type=int, default=2, help="stacked layers")
    parser.add_argument("--batch", type=int, default=64, help="parallel streams")
    parser.add_argument("--bptt", type=int, default=100, help="truncated BPTT length")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument("--eval-every", type=int, default=400, help="steps between validations")
    parser.add_argument("--order", type=int, default=5, help="n-gram order of the baseline")
    parser.add_argument("--root", default="runs", help="folder of the run directory")
    args = parser.parse_args(argv)
    name = f"bench-lm-kjv-{time.strftime('%Y%m%d-%H%M%S')}"
    command = [
        sys.executable, "-m", "lstmkit", "train", "lm",
        "--data.corpus", "kjv", "--data.level", "char", "--data.ngram_order", str(args.order),
        "--model.recurrent.hidden_size", str(args.hidden),
        "--model.recurrent.num_layers", str(args.layers),
        "--train.batch_size", str(args.batch), "--train.bptt", str(args.bptt),
        "--train.optimizer.lr", str(args.lr), "--train.epochs", "50",
        "--train.max_time", str(args.minutes * 60), "--train.eval_every", str(args.eval_every),
        "--train.log_every", "100", "--run.progress", "lines",
        "--run.root", args.root, "--run.name", name,
    ]
    print("$ " + " ".join(command), flush=True)
    started = time.perf_counter()
    code = subprocess.run(command, check=False).returncode
    if code != 0:
        return code
    run_dir = Path(args.root) / name
    report = json.loads((run_dir / "report.json").read_text())
    summary = {
        "run_dir": str(run_dir),
        "wall_s": time.perf_counter() - started,
        "budget_minutes": args.minutes,
        "model": {"hidden": args.hidden, "layers": args.layers, "batch": args.batch, "bptt": args.bptt, "lr": args.lr},
        "lstm_test_bpc": report["test"]["bpc"],
        "ngram": report.get("ngram"),
        "lstm_beats_ngram": report.get("ngram") is not None and report["test"]["bpc"] < report["ngram"]["bpc"],
        "sample": report["sample"]["text"],
        "machine": {"platform": platform.platform(), "cpus": torch.get_num_threads(), "torch": torch.__version__},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lm_kjv.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "sample"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
