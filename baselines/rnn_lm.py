"""LSTM language model baseline (the "LM samples" row): same size as the autoencoder's decoder.

Samples are drawn ancestrally (temperature 1) from <bos>: greedy decoding would give one sentence.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from arae.data.batching import Batcher
from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.models import MODELS
from arae.models.method import Method
from arae.models.seq2seq import SYNC_EVERY


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab_size: int, emsize: int, nhidden: int, nlayers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emsize, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(emsize, nhidden, nlayers, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(nhidden, vocab_size)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.drop(self.embedding(src)), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        return self.linear(self.drop(out))

    @torch.no_grad()
    def sample(self, n: int, maxlen: int, generator: torch.Generator, device) -> torch.Tensor:
        token = torch.full((n, 1), BOS_ID, dtype=torch.long, device=device)
        ended = torch.zeros(n, dtype=torch.bool, device=device)
        state, out = None, []
        for t in range(maxlen):
            h, state = self.lstm(self.embedding(token), state)
            probs = self.linear(h[:, -1]).float().softmax(-1)
            token = torch.multinomial(probs, 1, generator=generator).masked_fill(ended.unsqueeze(1), PAD_ID)
            out.append(token)
            ended |= token.squeeze(1) == EOS_ID
            if (t + 1) % SYNC_EVERY == 0 and bool(ended.all()):
                break
        return torch.cat(out, dim=1)


@MODELS.register("rnn_lm")
class RNNLanguageModel(Method):
    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        m = cfg["model"]
        self.lm = LSTMLanguageModel(len(vocab), m["emsize"], m["nhidden"], m["nlayers"], m.get("dropout", 0.0)).to(device)
        self.nets = {"lm": self.lm}
        self.optims = {"lm": torch.optim.SGD(self.lm.parameters(), lr=cfg["train"]["lr_ae"])}

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        b = batcher.batch(step).to(self.device)
        self.lm.train()
        self.optims["lm"].zero_grad(set_to_none=True)
        logits = self.lm(b.src, b.lengths)
        loss = F.cross_entropy(logits.flatten(0, 1), b.tgt.flatten(), ignore_index=PAD_ID)
        loss.backward()
        nn.utils.clip_grad_norm_(self.lm.parameters(), self.cfg["train"]["clip"])
        self.optims["lm"].step()
        return {"loss_lm": loss.detach()}

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        maxlen = self.cfg["data"]["maxlen"]
        return self._decode_batches(n, self.cfg["eval"]["sample_batch"],
                                    lambda b: self.lm.sample(b, maxlen, generator, self.device))
