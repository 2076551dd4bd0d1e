"""Speed benchmarks for lstmkit: run ``python -m benchmarks.bench_engines`` from the repo root."""
