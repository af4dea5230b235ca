"""Training batches addressed by a global step index, in two compositions (`train.batching`).

Batch i is a pure function of (sentences, batch size, seed, i), so a resumed run sees exactly the
batches an uninterrupted run would, without storing iterator state.

- `official` (default): the official `batchify`: shuffle the sentences once, cut them into batches
  of `batch_size` (the remainder is left out), sort inside each batch only. Batches mix lengths,
  as the critic's BatchNorm statistics in the official code do.
- `reshuffled`: the same, but shuffled again every epoch, as the official Yelp code does.
- `bucket` (opt-in, faster): each epoch, sentences of similar length are batched together and the
  batches are reshuffled. Packed LSTMs then waste little work on padding, but the critic sees one
  length slice of real codes at a time, and since the AE loss is a mean over a batch's tokens,
  short sentences weigh more per token. Its effect is measured in the README.

The GAN steps draw whole batches at random (`random_batch`), as the official code does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.errors import ConfigError
from arae.seeding import derive_seed


@dataclass
class Batch:
    src: torch.Tensor      # (B, T) <bos> w1 .. wn, padded
    tgt: torch.Tensor      # (B, T) w1 .. wn <eos>, padded
    lengths: torch.Tensor  # (B,) n + 1, on the CPU as pack_padded_sequence wants

    def to(self, device: torch.device) -> "Batch":
        return Batch(self.src.to(device, non_blocking=True), self.tgt.to(device, non_blocking=True), self.lengths)

    def __len__(self) -> int:
        return self.src.size(0)


def collate(encoded: list[list[int]]) -> Batch:
    lengths = torch.tensor([len(s) + 1 for s in encoded])
    src = torch.full((len(encoded), int(lengths.max())), PAD_ID, dtype=torch.long)
    tgt = torch.full_like(src, PAD_ID)
    for row, ids in enumerate(encoded):
        src[row, : len(ids) + 1] = torch.tensor([BOS_ID, *ids])
        tgt[row, : len(ids) + 1] = torch.tensor([*ids, EOS_ID])
    return Batch(src, tgt, lengths)


class Batcher:
    """Base: subclasses say which sentence indices make up each batch of an epoch. Every sentence is
    laid out once, at construction, in padded tables; a batch is a slice of them (no per-step collation)."""

    def __init__(self, encoded: list[list[int]], batch_size: int, seed: int):
        if not encoded:
            raise ValueError("no sentences to batch")
        self.encoded, self.batch_size, self.seed = encoded, min(batch_size, len(encoded)), seed
        self.n_batches = len(encoded) // self.batch_size  # batches cut per epoch
        self.batches_per_epoch = self.n_batches          # batches trained per epoch (fewer for a larger style)
        table = collate(encoded)
        self.src, self.tgt, self.lengths = table.src, table.tgt, table.lengths.numpy()
        self.fixed_width: int | None = None  # every batch this wide (fix_width), else as wide as its longest row
        self._epoch, self._chunks = -1, []

    def fix_width(self, width: int | None = None) -> None:
        """Every batch padded to `width` columns, by default those of the longest sentence (at most data.maxlen
        + 1): steps of one shape (train.fixed_shapes), which a CUDA graph can replay."""
        width = width or self.src.size(1)
        if width < self.src.size(1):
            raise ValueError(f"a sentence of {self.src.size(1) - 1} tokens does not fit a width of {width}")
        pad = width - self.src.size(1)
        self.src, self.tgt = (torch.nn.functional.pad(t, (0, pad), value=PAD_ID) for t in (self.src, self.tgt))
        self.fixed_width = width

    @property
    def shapes(self) -> str:
        return f"fixed (batches padded to {self.fixed_width} tokens)" if self.fixed_width else "packed"

    def to(self, device: torch.device) -> "Batcher":
        """Keeps the tables on `device`, so batches are cut there."""
        self.src, self.tgt = self.src.to(device), self.tgt.to(device)
        return self

    def _epoch_chunks(self, epoch: int) -> list[np.ndarray]:
        raise NotImplementedError

    def _chunks_for(self, epoch: int) -> list[np.ndarray]:
        if epoch != self._epoch:
            self._epoch, self._chunks = epoch, self._epoch_chunks(epoch)
        return self._chunks

    def _longest_first(self, indices: np.ndarray) -> np.ndarray:
        """Sorted inside the batch, longest first (stable), as the official length_sort does."""
        return indices[np.argsort(-self.lengths[indices], kind="stable")]

    def rows(self, indices: np.ndarray) -> Batch:
        """The sentences `indices`, in this order, as one batch."""
        lengths = torch.from_numpy(self.lengths[indices])
        pick, width = torch.from_numpy(indices).to(self.src.device), self.fixed_width or int(lengths.max())
        return Batch(self.src[pick, :width], self.tgt[pick, :width], lengths)

    def batch(self, step: int) -> Batch:
        epoch, index = divmod(step, self.batches_per_epoch)
        return self.rows(self._longest_first(self._chunks_for(epoch)[index]))

    def _random_chunk(self, step: int, draw: int) -> np.ndarray:
        chunks = self._chunks_for(step // self.batches_per_epoch)
        return chunks[np.random.default_rng([self.seed, step, draw, 1]).integers(len(chunks))]

    def random_batch(self, step: int, draw: int) -> Batch:
        """A whole batch of the current epoch picked at random, seeded by (step, draw): the GAN steps' batches."""
        return self.rows(self._longest_first(self._random_chunk(step, draw)))

    def random_batches(self, step: int, draws: int) -> Batch:
        """random_batch(step, k) for k < draws, stacked into one batch (rows k*B..(k+1)*B-1 are draw k),
        so that one encoder call serves all the critic steps of an iteration."""
        return self.rows(np.concatenate([self._longest_first(self._random_chunk(step, k)) for k in range(draws)]))


class OfficialBatcher(Batcher):
    def _epoch_chunks(self, epoch: int) -> list[np.ndarray]:
        """One shuffle for the whole run (the official code batchifies once), cut in order."""
        order = np.random.default_rng([self.seed, 0]).permutation(len(self.encoded))
        return np.split(order[: self.n_batches * self.batch_size], self.n_batches)


class ReshuffledBatcher(Batcher):
    def _epoch_chunks(self, epoch: int) -> list[np.ndarray]:
        """The official Yelp code's batchify, called again after every epoch: a new shuffle each epoch."""
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.encoded))
        return np.split(order[: self.n_batches * self.batch_size], self.n_batches)


class BucketBatcher(Batcher):
    def _epoch_chunks(self, epoch: int) -> list[np.ndarray]:
        """Shuffle, stable-sort by length (so equal lengths stay shuffled), cut, shuffle the cuts."""
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.encoded))
        order = order[np.argsort(self.lengths[order], kind="stable")]
        n = self.n_batches * self.batch_size
        start = rng.integers(0, len(order) - n + 1)  # a different remainder is left out each epoch
        chunks = np.split(order[start : start + n], self.n_batches)
        return [chunks[i] for i in rng.permutation(len(chunks))]


class FixedBatcher(Batcher):
    """Batches chosen once for the whole run, in one order every epoch; the last may be smaller."""

    def __init__(self, encoded: list[list[int]], chunks: list[np.ndarray], seed: int):
        super().__init__(encoded, max(map(len, chunks)), seed)
        self.chunks = chunks
        self.n_batches = self.batches_per_epoch = len(chunks)

    def _epoch_chunks(self, epoch: int) -> list[np.ndarray]:
        return self.chunks


BATCHINGS = {"official": OfficialBatcher, "reshuffled": ReshuffledBatcher, "bucket": BucketBatcher}
STYLE_BATCHINGS = (*BATCHINGS, "shen")


def make_batcher(kind: str, encoded: list[list[int]], batch_size: int, seed: int) -> Batcher:
    if kind not in BATCHINGS:
        also = " ('shen' is for models trained per style)" if kind == "shen" else ""
        raise ConfigError(f"train.batching={kind!r}: expected one of {', '.join(BATCHINGS)}{also}")
    return BATCHINGS[kind](encoded, batch_size, seed)


def shen_batchers(encoded_by_style: list[list[list[int]]], batch_size: int, seed: int) -> list[FixedBatcher]:
    """Shen et al.'s get_batches for K styles: every style repeated in order up to the largest one's size (so an
    epoch covers the largest style), stable-sorted by length and cut in order; batch i of every style is trained
    together, and the batches are shuffled once for the whole run, as Shen's code does before its first epoch."""
    n = max(map(len, encoded_by_style))
    starts = range(0, n, batch_size)
    order = np.random.default_rng([seed, 0]).permutation(len(starts))
    batchers = []
    for encoded in encoded_by_style:
        repeated = np.arange(n) % len(encoded)
        lengths = np.array([len(s) for s in encoded])[repeated]
        ranked = repeated[np.argsort(lengths, kind="stable")]
        chunks = [ranked[start:start + batch_size] for start in starts]
        batchers.append(FixedBatcher(encoded, [chunks[i] for i in order], seed))
    return batchers


class StyleBatcher:
    """One batcher per style, stepped together: batch `step` of every style. An epoch ends when the
    smallest style runs out, as in the official Yelp loop (each style's batches seeded apart), or, with
    `shen`, when the largest does (shen_batchers)."""

    def __init__(self, kind: str, encoded_by_style: list[list[list[int]]], batch_size: int, seed: int):
        if kind == "shen":
            self.styles: list[Batcher] = shen_batchers(encoded_by_style, batch_size, seed)
        else:
            self.styles = [make_batcher(kind, encoded, batch_size, derive_seed(seed, "style", k))
                           for k, encoded in enumerate(encoded_by_style)]
        self.seed = seed
        self.batches_per_epoch = min(b.batches_per_epoch for b in self.styles)
        for b in self.styles:  # every style then counts epochs alike; random batches still come from all of its batches
            b.batches_per_epoch = self.batches_per_epoch

    def to(self, device: torch.device) -> "StyleBatcher":
        for b in self.styles:
            b.to(device)
        return self

    def fix_width(self, width: int | None = None) -> None:
        """Every style's batches as wide as the longest sentence of any style."""
        width = width or max(b.src.size(1) for b in self.styles)
        for b in self.styles:
            b.fix_width(width)

    @property
    def shapes(self) -> str:
        return self.styles[0].shapes


class ImageBatcher:
    """Batches of binarized images drawn with replacement, as bmnist/main.lua's getBatch does; each batch is
    seeded by (seed, step, draw), so a resumed run draws the same batches."""

    def __init__(self, pixels: np.ndarray, batch_size: int, seed: int):
        if not len(pixels):
            raise ValueError("no images to batch")
        self.pixels, self.batch_size, self.seed = torch.from_numpy(pixels).float(), batch_size, seed
        self.batches_per_epoch = max(1, len(pixels) // batch_size)

    def to(self, device: torch.device) -> "ImageBatcher":
        self.pixels = self.pixels.to(device)
        return self

    def random_batch(self, step: int, draw: int) -> torch.Tensor:
        """(B, 784) pixels in {0, 1}."""
        pick = np.random.default_rng([self.seed, step, draw]).integers(len(self.pixels), size=self.batch_size)
        return self.pixels[torch.from_numpy(pick).to(self.pixels.device)]

    def batch(self, step: int) -> torch.Tensor:
        return self.random_batch(step, 0)
