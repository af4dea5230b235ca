"""ARAE reproducibility suite: data, models, training, metrics for Zhao et al. (ICML 2018)."""
__version__ = "0.1.0"
