"""Numeric artefacts stored as plain arrays (.npz) whose sha256 is recorded in the artefact's manifest.

`<out>/_artefacts/` may be a folder others can write (a cluster's shared output), so nothing read from it may
run code: no pickle, and every file is checked against its recorded sha256 before it is parsed.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from arae.errors import DataError
from arae.io import atomic_write_bytes


def save_arrays(folder: Path, name: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> dict[str, Any]:
    """Write `<folder>/<name>.npz`; returns the record to keep in the manifest (file, sha256, `meta`)."""
    arrays = {k: np.asarray(a) for k, a in arrays.items()}
    if any(a.dtype.hasobject for a in arrays.values()):
        raise ValueError(f"{name}: object arrays would be pickled; store numbers or bytes only")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    atomic_write_bytes(Path(folder) / f"{name}.npz", data)
    return {"file": f"{name}.npz", "sha256": hashlib.sha256(data).hexdigest(), "meta": meta}


def load_arrays(folder: Path, name: str, record: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, meta) of `<folder>/<name>.npz`, refused unless its bytes have the sha256 in `record`."""
    path = Path(folder) / f"{name}.npz"
    if not path.is_file():
        raise DataError(path, "missing; delete its artefact folder to rebuild it")
    data = path.read_bytes()  # hash and parse the same bytes, so the file cannot change in between
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise DataError(path, "sha256 differs from the one recorded when it was built (changed since); "
                              "delete its artefact folder to rebuild it")
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        return {k: stored[k] for k in stored.files}, record["meta"]
