"""LSTM language model baseline (the "LM samples" row): same size as the autoencoder's decoder.

Samples are drawn ancestrally (temperature 1) from <bos>: greedy decoding would give one sentence.
`model.dropout` (0 in every preset) applies to the LSTM's outputs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from arae.data.batching import Batcher
from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.models import MODELS
from arae.models.lstm import PackedLayout, packed_lstm, unroll
from arae.models.method import Method, sgd


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab_size: int, emsize: int, nhidden: int, nlayers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emsize, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(emsize, nhidden, nlayers, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(nhidden, vocab_size)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)

    def loss(self, src: torch.Tensor, tgt: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy over real tokens, <eos> included."""
        layout = PackedLayout.of(lengths, src.size(1), src.device)
        h = packed_lstm(self.lstm, layout, self.embedding, layout.pack(src))
        return F.cross_entropy(self.linear(self.drop(h)), layout.pack(tgt))

    def sample(self, n: int, maxlen: int, generator: torch.Generator) -> torch.Tensor:
        bias = (self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0).detach().expand(n, -1)

        def draw(logits: torch.Tensor) -> torch.Tensor:
            return torch.multinomial(logits.float().softmax(-1), 1, generator=generator).squeeze(1)
        return unroll(self.lstm, self.embedding, self.linear, bias, BOS_ID, maxlen, draw, EOS_ID)


@MODELS.register("rnn_lm")
class RNNLanguageModel(Method):
    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        m = cfg["model"]
        self.lm = LSTMLanguageModel(len(vocab), m["emsize"], m["nhidden"], m["nlayers"], m["dropout"]).to(device)
        self.nets = {"lm": self.lm}
        self.optims = {"lm": sgd(self.lm.parameters(), cfg["train"]["lr_ae"])}

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        b = batcher.batch(step).to(self.device)
        self.lm.train()
        self.optims["lm"].zero_grad(set_to_none=True)
        loss = self.lm.loss(b.src, b.tgt, b.lengths)
        loss.backward()
        nn.utils.clip_grad_norm_(self.lm.parameters(), self.cfg["train"]["clip"], foreach=True)
        self.optims["lm"].step()
        return {"loss_lm": loss.detach()}

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        maxlen = self.cfg["data"]["maxlen"]
        return self._decode_batches(n, self.cfg["eval"]["sample_batch"],
                                    lambda b: self.lm.sample(b, maxlen, generator))
