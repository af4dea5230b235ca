"""The training loop, shared by ARAE and the baselines: steps, logging, divergence check, checkpoints."""
from __future__ import annotations

import contextlib
import json
import math
import signal
import time
from pathlib import Path
from typing import Callable

import torch

from arae.data.batching import Batcher
from arae.errors import DivergenceError, SuiteError
from arae.io import append_jsonl, atomic_write_text, read_jsonl
from arae.models.method import Method
from arae.training.checkpoint import load_checkpoint, restore_rng, save_checkpoint


EXPLODED = 1e8  # a logged loss or critic value this large means the run has diverged


def total_steps(cfg: dict, batcher: Batcher) -> int:
    """train.steps when positive (so --set train.steps=N always works), else train.epochs full epochs."""
    t = cfg["train"]
    return t["steps"] if t["steps"] > 0 else t["epochs"] * batcher.batches_per_epoch


def autocast_for(cfg: dict, device: torch.device):
    """bf16 autocast on CUDA when train.amp == "bf16"; full precision otherwise (always on CPU)."""
    if cfg["train"]["amp"] == "bf16" and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def checked(losses: dict[str, torch.Tensor], step: int) -> dict[str, float]:
    """The losses as numbers (a host sync on GPU); a diverged run stops here, before it is checkpointed."""
    values = {k: float(v) for k, v in losses.items()}
    bad = [k for k, v in values.items() if not math.isfinite(v) or abs(v) > EXPLODED]
    if bad:
        raise DivergenceError(f"training diverged at step {step}: {', '.join(bad)} not finite or above "
                              f"{EXPLODED:g} ({values})")
    return values


class InterruptRequest:
    """Ctrl-C (SIGINT) or SIGTERM during training finishes the current step, saves a checkpoint, then stops (a
    second one stops at once), so "resume from the last checkpoint" loses at most one step."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self) -> "InterruptRequest":
        self.requested, self.previous = False, {}
        with contextlib.suppress(ValueError):  # signals can only be handled in the main thread
            self.previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def train(method: Method, batcher: Batcher, cfg: dict, run_dir: Path,
          report: Callable[[str], None] = print) -> dict:
    t, ckpt_path, scalars_path = cfg["train"], run_dir / "checkpoint.pt", run_dir / "scalars.jsonl"
    steps, start, seconds_before = total_steps(cfg, batcher), 0, 0.0
    if ckpt_path.exists():
        state = load_checkpoint(ckpt_path, cfg)
        try:
            method.load_state_dict(state["method"])
        except (KeyError, RuntimeError, ValueError) as err:
            raise SuiteError(f"{ckpt_path}: checkpoint does not fit this model ({str(err)[:200]}); "
                             "delete it or re-run with --force to start this run over") from None
        restore_rng(state)
        start, seconds_before = state["step"], state["train_seconds"]
        kept = [r for r in read_jsonl(scalars_path) if r["step"] <= start]  # drop lines logged after it
        atomic_write_text(scalars_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
        report(f"resuming from step {start}/{steps} ({ckpt_path})")
    began = time.perf_counter()

    with InterruptRequest() as interrupt:
        for step in range(start, steps):
            # forward / backward / update: one iteration of the method
            with autocast_for(cfg, method.device):
                losses = method.train_step(step, batcher)
            done, elapsed = step + 1, time.perf_counter() - began
            log_now = done % t["log_every"] == 0 or done == steps
            checkpoint_now = done % t["checkpoint_every"] == 0 or done == steps or interrupt.requested
            if log_now or checkpoint_now:  # the only place losses become numbers (a host sync on GPU)
                values = checked(losses, done)
            # logging, with the collapse diagnostics
            if log_now:
                diagnosed = time.perf_counter()
                values |= method.diagnostics(step, batcher)
                began += time.perf_counter() - diagnosed  # throughput counts training, not diagnostics
                append_jsonl(scalars_path, {"step": done, "seconds": round(seconds_before + elapsed, 3), **values})
                rate = (done - start) / max(elapsed, 1e-9)
                shown = " ".join(f"{k}={v:.4g}" for k, v in values.items())
                report(f"step {done}/{steps} {rate:.2f} it/s eta {(steps - done) / rate:.0f}s {shown}")
            # checkpoint: everything needed to continue exactly from here
            if checkpoint_now:
                save_checkpoint(ckpt_path, step=done, config=cfg, method_state=method.state_dict(),
                                train_seconds=seconds_before + elapsed)
            if interrupt.requested:
                raise KeyboardInterrupt(f"checkpoint saved at step {done}/{steps}")

    seconds = seconds_before + time.perf_counter() - began  # training time only, summed over resumes
    shapes = {"training_shapes": batcher.shapes} if hasattr(batcher, "shapes") else {}
    return {**shapes, "train_steps": steps, "train_seconds": round(seconds, 3),
            "train_sentences_per_sec": round(steps * method.sentences_per_step / seconds, 1) if steps else None}
