"""Baselines, each registered in arae.models.MODELS when imported."""
from baselines import ae, cross_aligned, real_data, rnn_lm  # noqa: F401  (registration)
