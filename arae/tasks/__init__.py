"""Tasks: what a benchmark's runs do, one module each (generation, transfer, semisup, word_swap, interpolation,
images, perf). Every module of this package is imported here, so a task is registered by existing."""
import importlib
import pkgutil

from arae.tasks.base import TASKS, Produced, RunPlan, Task

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["TASKS", "Produced", "RunPlan", "Task"]
