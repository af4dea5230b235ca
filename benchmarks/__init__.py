"""Benchmark specs, one module per paper table (and the perf benchmark); importing this package registers them all."""
from benchmarks import perf, snli_generation  # noqa: F401  (registration)
