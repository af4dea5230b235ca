"""Benchmark specs, one module per paper table (and the perf benchmark): every module of this package is imported
here, and each registers its spec in arae.benchmark.BENCHMARKS."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
