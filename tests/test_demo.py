"""The README's main job, in a seconds-long configuration: both steps run and everything
lands in the one run directory it names."""

from __future__ import annotations

import json

from lstmkit import demo


def test_demo_runs_both_steps_into_one_new_run_directory(tmp_path, capsys):
    assert demo.main([
        "--root", str(tmp_path), "--lm-seconds", "2", "--forecast-epochs", "2",
        "--corpus-limit", "60000",
    ]) == 0
    out = capsys.readouterr().out
    (run_dir,) = list(tmp_path.iterdir())
    assert run_dir.name.startswith("demo-")
    assert f"everything it made is in {run_dir}/" in out
    assert "test bpc: LSTM" in out and "5-gram Kneser-Ney" in out
    assert "backtest on sunspots: 6 origins, horizon 11, season 11" in out
    report = json.loads((run_dir / "lm" / "report.json").read_text())
    assert report["test"]["bpc"] > 0 and report["ngram"]["bpc"] > 0
    for path in ("lm/best.pt", "lm/sample.txt", "lm/curves.png", "forecast/best.pt",
                 "forecast/backtest.csv", "forecast/forecast.png"):
        assert (run_dir / path).is_file(), path
