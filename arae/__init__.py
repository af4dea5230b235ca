"""ARAE reproducibility suite: data, models, training, metrics for Zhao et al. (ICML 2018)."""
__version__ = "0.1.0"

# Part of every run hash and artefact key: bump it whenever a change to the code can change a
# result (a training step, batching, sampling, a metric), so runs finished before the change are
# never reused silently. Benchmark specs carry their own `version` for changes to one table.
CODE_VERSION = 3
