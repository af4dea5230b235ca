"""Benchmark specs, one module per paper table; importing this package registers them all."""
from benchmarks import snli_generation  # noqa: F401  (registration)
