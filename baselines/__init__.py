"""Baselines, each registered in arae.models.MODELS when imported (with ARAE's own models, which they build on)."""
from arae.models import arae, image_arae, transfer  # noqa: F401  (registration)
from baselines import ae, cross_aligned, image_ae, real_data, rnn_lm, supervised, vae  # noqa: F401  (registration)
