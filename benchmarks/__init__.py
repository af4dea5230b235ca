"""Benchmark specs, one module per paper table (and the perf benchmark); importing this package registers them all."""
from benchmarks import (bmnist, interpolation_smoothness, perf, snli_generation, snli_semisup,  # noqa: F401  (registration)
                        word_swap_robustness, yelp_transfer)
