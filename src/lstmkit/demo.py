"""The main job: a few minutes of lstmkit on real data, everything into one run directory.

1. A character-level LSTM language model on the King James Bible (contiguous 90/5/5
   split), trained for a fixed wall-clock budget; its test bits-per-character next to
   a 5-gram Kneser–Ney baseline fitted on the same training text, and a sample.
2. A probabilistic (Gaussian) LSTM forecaster on the yearly sunspot numbers, with a
   rolling-origin backtest against naive, seasonal naive, ETS and ARIMA, and a plot.

Both steps are the ``lstmkit train lm`` / ``lstmkit train forecast`` commands a user
runs (shown as they start), so the demo is also their example. Run it with
``python -m lstmkit.demo`` (the README's first command does).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from .cli.main import main as lstmkit_main


def _run(argv: list[str]) -> None:
    print(f"\n$ lstmkit {shlex.join(argv)}", flush=True)
    code = lstmkit_main(argv)
    if code != 0:
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="runs", help="folder for the demo's run directory")
    parser.add_argument("--lm-seconds", type=float, default=150.0,
                        help="wall-clock training budget of the language model")
    parser.add_argument("--forecast-epochs", type=int, default=40,
                        help="training epochs of the sunspot forecaster")
    parser.add_argument("--corpus-limit", type=int, default=None,
                        help="use only the first this-many characters of the Bible (smoke tests)")
    args = parser.parse_args(argv)
    limit = [] if args.corpus_limit is None else ["--data.limit", str(args.corpus_limit)]
    started = time.perf_counter()
    run_dir = Path(args.root) / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True)  # never an existing directory: nothing is overwritten
    _run([
        "train", "lm", "--data.corpus", "kjv", "--data.level", "char",
        "--model.recurrent.hidden_size", "256", "--model.recurrent.num_layers", "1",
        "--train.batch_size", "32", "--train.bptt", "100", "--train.optimizer.lr", "0.003",
        "--train.epochs", "5", "--train.max_time", str(args.lm_seconds), "--train.eval_every", "0",
        "--train.log_every", "100", "--run.progress", "lines",
        "--run.root", str(run_dir), "--run.name", "lm", *limit,
    ])
    _run([
        "train", "forecast", "--data.series", "sunspots", "--model.distribution", "gaussian",
        "--train.epochs", str(args.forecast_epochs), "--train.eval_every", "20",
        "--train.log_every", "100", "--run.progress", "lines",
        "--run.root", str(run_dir), "--run.name", "forecast",
    ])
    minutes = (time.perf_counter() - started) / 60
    print(f"\ndemo finished in {minutes:.1f} minutes; everything it made is in {run_dir}/")
    print(f"  {run_dir}/lm: checkpoints, metrics.csv, curves.png, report.json, sample.txt")
    print(f"  {run_dir}/forecast: checkpoints, metrics.csv, backtest.csv, forecast.png")
    python = os.path.relpath(sys.executable)  # the environment the demo ran in
    print(f"try: {python} -m lstmkit generate {run_dir}/lm/best.pt --prime 'And God said' --length 300")
    return 0


if __name__ == "__main__":
    sys.exit(main())
