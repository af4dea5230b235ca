"""Collapse and code diagnostics, computed at log steps only and logged beside the losses.

They read the models in eval mode under no_grad and draw their noise from their own seeded
generator, so logging them never changes what training computes (runs stay deterministic).
"""
from __future__ import annotations

import torch

from arae.data.batching import Batch
from arae.data.vocab import EOS_ID
from arae.models.mlp import Generator
from arae.models.seq2seq import Seq2Seq


@torch.no_grad()
def code_spread(ae: Seq2Seq, batch: Batch) -> float:
    """Mean pairwise distance between the noise-free codes of one batch: it falls towards 0 when the
    encoder maps every sentence to one point (unit-sphere codes give at most 2)."""
    ae.eval()
    codes = ae.encode(batch.src, batch.lengths).float()
    n = codes.size(0)
    return float(torch.cdist(codes, codes).sum() / (n * (n - 1))) if n > 1 else 0.0


@torch.no_grad()
def generator_diagnostics(ae: Seq2Seq, gen: Generator, fixed_z: torch.Tensor, maxlen: int) -> dict[str, float]:
    """The generator's output norm before any normalisation (real codes have norm 1), and the unique
    fraction of greedy decodes of a fixed noise sample (mode collapse shows as a falling fraction)."""
    ae.eval()
    gen.eval()
    fake = gen(fixed_z)
    ids = ae.generate(fake, maxlen).cpu().tolist()
    decoded = {tuple(row[: row.index(EOS_ID)] if EOS_ID in row else row) for row in ids}
    return {"gen_norm": float(fake.float().norm(dim=1).mean()), "fixed_unique": len(decoded) / len(ids)}
