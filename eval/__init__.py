"""Batch evaluation and benchmarks. Scripts here are run by hand (`python -m bench.bench_ingest`);
pytest never collects them."""

__all__: list[str] = []
