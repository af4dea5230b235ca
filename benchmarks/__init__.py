"""Benchmark specs, one module per paper table (and the perf benchmark); importing this package registers them all."""
from benchmarks import perf, snli_generation, snli_semisup, word_swap_robustness, yelp_transfer  # noqa: F401  (registration)
