"""Artefacts that several runs share (a forward LM of a training split, later a style judge or a
pretrained encoder): built once under `<out>/_artefacts/<kind>-<hash8>/`, keyed by everything they
depend on (the code fingerprint included), and rebuilt only when that key changes. A lock makes concurrent runs wait, not race."""
from __future__ import annotations

import fcntl
import sys
import time
from pathlib import Path
from typing import Any, Callable

from arae.config import config_hash
from arae.fingerprint import code_fingerprint
from arae.io import atomic_write_json, read_json

MANIFEST = "artefact.json"


def build_once(root: Path, kind: str, key: dict[str, Any], build: Callable[[Path], dict[str, Any]]
               ) -> tuple[Path, dict[str, Any]]:
    """(folder, info): `build(folder)` fills the folder and returns what to record about it; it runs
    only if no finished artefact with this key exists. `info` holds the key, that record and the folder
    as `<root name>/<kind>-<hash8>` (relative, so records do not depend on where the output folder is)."""
    key = {"kind": kind, "code": code_fingerprint(), **key}
    folder = Path(root) / f"{kind}-{config_hash(key)[:8]}"
    manifest = folder / MANIFEST
    if not manifest.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process building it: wait for it
            if not manifest.exists():
                print(f"building the shared {kind} once (kept in {folder}, reused by later runs) ...",
                      file=sys.stderr, flush=True)
                began = time.perf_counter()
                atomic_write_json(manifest, {"key": key, "built": build(folder)})
                print(f"built the shared {kind} in {time.perf_counter() - began:.0f}s", file=sys.stderr, flush=True)
    return folder, {"artefact": f"{folder.parent.name}/{folder.name}", **read_json(manifest)}
