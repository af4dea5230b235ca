"""Models and the registry of trainable methods (ARAE here, baselines in baselines/)."""
from arae.registry import Registry

MODELS: Registry = Registry("model")

from arae.models import arae, transfer  # noqa: E402,F401  (registration, after MODELS exists)
