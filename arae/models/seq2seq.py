"""The LSTM autoencoder of the official ARAE code (lang/models.py Seq2Seq, yelp/models.py Seq2Seq2Decoder).

The code is the encoder's last hidden state scaled onto the unit sphere; Gaussian noise of
std `noise_r` is added only when training the reconstruction. Each decoder step sees
[word embedding ; code]. One decoder per style (Yelp), sharing the output projection.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID

SYNC_EVERY = 8  # generation checks "all sequences ended" every few steps, not every step (host sync)


class Seq2Seq(nn.Module):
    def __init__(self, vocab_size: int, emsize: int, nhidden: int, nlayers: int = 1,
                 noise_r: float = 0.0, n_decoders: int = 1):
        super().__init__()
        self.nhidden = nhidden
        self.register_buffer("noise_r", torch.tensor(float(noise_r)))  # annealed; saved with the weights
        self.enc_embedding = nn.Embedding(vocab_size, emsize, padding_idx=PAD_ID)
        self.encoder = nn.LSTM(emsize, nhidden, nlayers, batch_first=True)
        self.dec_embeddings = nn.ModuleList(nn.Embedding(vocab_size, emsize, padding_idx=PAD_ID)
                                            for _ in range(n_decoders))
        self.decoders = nn.ModuleList(nn.LSTM(emsize + nhidden, nhidden, 1, batch_first=True)
                                      for _ in range(n_decoders))
        self.linear = nn.Linear(nhidden, vocab_size)
        for p in self.parameters():  # the official uniform(-0.1, 0.1), output bias 0
            nn.init.uniform_(p, -0.1, 0.1)
        nn.init.zeros_(self.linear.bias)

    def anneal_noise(self, step: int, every: int, factor: float) -> None:
        """noise_r *= factor every `every` iterations, counted from the start of training."""
        if step > 0 and step % every == 0:
            self.noise_r *= factor

    def encode(self, src: torch.Tensor, lengths: torch.Tensor, noise: bool = False) -> torch.Tensor:
        packed = pack_padded_sequence(self.enc_embedding(src), lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.encoder(packed)
        code = F.normalize(h[-1], dim=1)
        if noise:
            code = code + torch.randn_like(code) * self.noise_r
        return code

    def decode(self, code: torch.Tensor, src: torch.Tensor, lengths: torch.Tensor, decoder: int = 0) -> torch.Tensor:
        """Teacher-forced logits (B, T, V)."""
        steps = code.unsqueeze(1).expand(-1, src.size(1), -1)
        inputs = torch.cat([self.dec_embeddings[decoder](src), steps], dim=2)
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.decoders[decoder](packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        return self.linear(out)

    def reconstruction_loss(self, src, tgt, lengths, noise: bool = True, decoder: int = 0) -> torch.Tensor:
        """Mean token cross-entropy over non-pad targets, <eos> included (the official loss)."""
        logits = self.decode(self.encode(src, lengths, noise), src, lengths, decoder)
        return F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=PAD_ID)

    @torch.no_grad()
    def generate(self, code: torch.Tensor, maxlen: int, decoder: int = 0) -> torch.Tensor:
        """Greedy token ids (B, <=maxlen), as the paper decodes; stops once every sequence has ended."""
        embed, lstm = self.dec_embeddings[decoder], self.decoders[decoder]
        token = torch.full((code.size(0), 1), BOS_ID, dtype=torch.long, device=code.device)
        ended = torch.zeros(code.size(0), dtype=torch.bool, device=code.device)
        state, out = None, []
        for t in range(maxlen):
            h, state = lstm(torch.cat([embed(token), code.unsqueeze(1)], dim=2), state)
            token = self.linear(h[:, -1]).argmax(-1, keepdim=True).masked_fill(ended.unsqueeze(1), PAD_ID)
            out.append(token)
            ended |= token.squeeze(1) == EOS_ID
            if (t + 1) % SYNC_EVERY == 0 and bool(ended.all()):
                break
        return torch.cat(out, dim=1)
