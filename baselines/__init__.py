"""Baselines, each registered in arae.models.MODELS when imported (with ARAE's own models, which they build on):
every module of this package is imported here."""
import importlib
import pkgutil

from arae.models import arae, given, image_arae, transfer  # noqa: F401  (registration)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
