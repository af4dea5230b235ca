"""One-dict checkpoints (nanoGPT style), written atomically and loaded with weights_only=True."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from arae.config import training_config
from arae.errors import ConfigError, SuiteError
from arae.io import atomic_write_bytes


def save_checkpoint(path: Path, *, step: int, config: dict, method_state: dict, train_seconds: float) -> None:
    state = {"step": step, "config": training_config(config), "method": method_state, "train_seconds": train_seconds,
             "rng": {"torch": torch.get_rng_state(),
                     "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _config_diff(saved: Any, current: Any, prefix: str = "") -> list[str]:
    if isinstance(saved, dict) and isinstance(current, dict):
        return [d for k in sorted(set(saved) | set(current))
                for d in _config_diff(saved.get(k), current.get(k), f"{prefix}{k}.")]
    return [] if saved == current else [f"{prefix.rstrip('.')}: checkpoint {saved!r} vs run {current!r}"]


def load_checkpoint(path: Path, config: dict) -> dict:
    """Refuses a corrupted file or one written under a different training config (eval settings may
    differ: they do not change the weights), saying which keys differ."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        step = int(state["step"])
    except Exception as err:  # any unpickling/format failure means the file cannot be trusted
        raise SuiteError(f"{path}: corrupted checkpoint ({type(err).__name__}: {str(err)[:200]}); "
                         "delete it or re-run with --force to start this run over") from None
    diff = _config_diff(state.get("config"), training_config(config))
    if diff:
        raise ConfigError(f"{path}: checkpoint was written by a different config ({'; '.join(diff[:5])}); "
                          "use another --out or --force to start over")
    if step < 0:
        raise SuiteError(f"{path}: corrupted checkpoint (step {step})")
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["rng"]["torch"])
    if torch.cuda.is_available() and state["rng"]["cuda"]:
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
