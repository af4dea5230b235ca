"""Models and the registry of trainable methods (ARAE here, baselines in baselines/)."""
from arae.registry import Registry

MODELS: Registry = Registry("model")
