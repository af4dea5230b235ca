"""User-facing errors: the CLI prints these as one line and exits non-zero, never a traceback."""
from __future__ import annotations

from pathlib import Path


class SuiteError(Exception):
    """An error whose message alone tells the user what went wrong and where."""


class DataError(SuiteError):
    """Bad or missing input data; the message names the file and, where it applies, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path, self.line = str(path), line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def download_hint(dataset: str, data_dir: str | Path) -> str:
    """How to fetch a missing dataset, in the same words for every dataset."""
    return f"fetch it with: python run_all.py --download {dataset} --data-dir {data_dir}"


class ConfigError(SuiteError):
    """A bad override, unknown name, or a checkpoint that does not match the run's config."""


class MetricNotComputable(SuiteError):
    """A metric could not be computed from these inputs; the reason is recorded, never a number."""


class DivergenceError(SuiteError):
    """Training produced NaN/inf losses or exploded."""
