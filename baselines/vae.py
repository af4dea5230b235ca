"""Sequence VAE baseline (Bowman et al. 2016): an LSTM encoder to a diagonal Gaussian posterior, the decoder
of ARAE's autoencoder, KL annealing and word dropout; samples decode codes drawn from the prior N(0, I).

Only the regulariser differs from the AE and ARAE rows: the same embedding sizes and LSTMs, and the same
decoder, which reads [word ; code] at every step (Bowman et al. give the code to the first state only;
feeding it every step keeps the rows comparable and gives the code more chance to be used). The code is
not put on the unit sphere (a Gaussian posterior cannot be). Settings (`vae` section):
- `kl_anneal`: the share of training over which the KL weight rises along Bowman's logistic curve,
  from 0.007 to 0.993 (centred at half of it), then stays at 1;
- `word_dropout`: the share of decoder input words replaced by <unk> (Bowman's best keep rate was 0.75);
- Adam `lr`, gradient-norm `clip`.
The KL (nats per sentence) is logged with the training losses, and at log steps the number of active
units (Burda et al. 2016: a code dimension whose posterior mean varies across sentences, Cov > 0.01);
a VAE that ignores its code has KL near 0 and no active unit.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from arae.data.batching import Batch, Batcher
from arae.data.vocab import UNK_ID
from arae.models import MODELS
from arae.models.capabilities import CLASSIFIES_PAIRS, ENCODES_SENTENCES, SAMPLES_TEXT
from arae.models.lstm import PackedLayout, packed_lstm
from arae.models.method import TextMethod
from arae.models.seq2seq import Seq2Seq
from arae.training.loop import total_steps

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016


def kl_weight(step: int, steps: int, anneal: float) -> float:
    """Bowman's logistic KL annealing, stretched over the first `anneal` share of `steps`."""
    if anneal <= 0:
        return 1.0
    return 1.0 / (1.0 + math.exp(-10.0 * (step / (anneal * steps) - 0.5)))


class SentenceVAE(Seq2Seq):
    """ARAE's autoencoder (embeddings, LSTMs, output layer) with a Gaussian posterior on the encoder's last
    state. `encode` gives the posterior mean, so the VAE serves wherever a sentence's code is read (word-swap
    reconstruction, pair classification); its codes are not on the unit sphere."""

    def __init__(self, vocab_size: int, m: dict):
        super().__init__(vocab_size, m["emsize"], m["nhidden"], m["nlayers"])
        self.to_mean = nn.Linear(m["nhidden"], m["nhidden"])
        self.to_logvar = nn.Linear(m["nhidden"], m["nhidden"])

    def posterior(self, src: torch.Tensor, lengths: torch.Tensor, layout: PackedLayout | None = None):
        layout = layout or PackedLayout.of(lengths, src.size(1), src.device)
        h = layout.last_tokens(packed_lstm(self.encoder, layout, self.enc_embedding, layout.pack(src)))
        return self.to_mean(h), self.to_logvar(h)

    def encoder_parameters(self) -> list[nn.Parameter]:
        return [*super().encoder_parameters(), *self.to_mean.parameters()]

    def encode(self, src: torch.Tensor, lengths: torch.Tensor, noise: bool = False,
               layout: PackedLayout | None = None) -> torch.Tensor:
        """The posterior mean; a VAE has no code noise of its own beyond its posterior (`noise` must be off)."""
        if noise:
            raise ValueError("a VAE's code is sampled from its posterior (losses), not noised")
        return self.posterior(src, lengths, layout)[0]

    def losses(self, batch: Batch, word_dropout: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(NLL per sentence, KL per sentence, NLL per token), each a batch mean."""
        layout = PackedLayout.of(batch.lengths, batch.src.size(1), batch.src.device)
        mean, logvar = self.posterior(batch.src, batch.lengths, layout)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        words = layout.pack(batch.src)
        if word_dropout > 0:  # <bos> (the first token of every sentence) is always kept
            first = torch.zeros_like(words, dtype=torch.bool)
            first[: layout.batch_sizes[0]] = True
            dropped = (torch.rand(words.shape, device=words.device) < word_dropout) & ~first
            words = words.masked_fill(dropped, UNK_ID)
        h = packed_lstm(self.decoders[0], layout, self.dec_embeddings[0], words, extra=z)
        nll = F.cross_entropy(self.linear(h), layout.pack(batch.tgt), reduction="sum") / len(batch.lengths)
        kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(1).mean()
        return nll, kl, nll * len(batch.lengths) / len(words)


@MODELS.register("vae")
class VAE(TextMethod):
    offers = frozenset({SAMPLES_TEXT, ENCODES_SENTENCES, CLASSIFIES_PAIRS})
    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        self.vae = SentenceVAE(len(vocab), cfg["model"]).to(device)
        self.nets = {"vae": self.vae}
        self.optims = {"vae": torch.optim.Adam(self.vae.parameters(), lr=cfg["vae"]["lr"])}

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        v = self.cfg["vae"]
        beta = kl_weight(step, total_steps(self.cfg, batcher), v["kl_anneal"])
        self.vae.train()
        nll, kl, nll_per_token = self.vae.losses(batcher.batch(step).to(self.device), v["word_dropout"])
        self.optims["vae"].zero_grad(set_to_none=True)
        (nll + beta * kl).backward()
        nn.utils.clip_grad_norm_(self.vae.parameters(), v["clip"], foreach=True)
        self.optims["vae"].step()
        return {"nll_per_token": nll_per_token.detach(), "kl": kl.detach(), "kl_weight": torch.tensor(beta)}

    def sentence_encoder(self) -> SentenceVAE:
        return self.vae

    @torch.no_grad()
    def diagnostics(self, step: int, batcher: Batcher) -> dict[str, float]:
        """Active units over the first `diag_samples` training sentences (a fixed set)."""
        self.vae.eval()
        n = min(self.cfg["train"]["diag_samples"], len(batcher.encoded))
        batch = batcher.rows(np.arange(n)).to(self.device)
        mean, _ = self.vae.posterior(batch.src, batch.lengths)
        return {"active_units": int((mean.float().var(0) > ACTIVE_UNIT_THRESHOLD).sum())}

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        """Greedy decoding of codes z ~ N(0, I), the prior (the other rows decode greedily too)."""
        size, maxlen = self.cfg["model"]["nhidden"], self.cfg["data"]["maxlen"]

        def make_ids(b: int) -> torch.Tensor:
            z = torch.randn(b, size, generator=generator, device=generator.device)
            return self.vae.generate(z, maxlen)
        return self._decode_batches(n, self.cfg["eval"]["sample_batch"], make_ids)
