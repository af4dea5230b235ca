"""The LSTM language model: the "LM samples" row's generator (baselines/rnn_lm.py) and the RNN-LM perplexity
metric's scorer (arae/metrics/rnnlm.py). `dropout` applies to the LSTM's outputs (and, in the metric, to the
embeddings too, as the official RNNLM tool)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.models.lstm import PackedLayout, packed_lstm, unroll


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

    def summed_nll(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Total next-token NLL of padded (B, T) batches, with dropout on the embeddings as well as the outputs
        (the official RNNLM tool's model: arae/metrics/rnnlm.py)."""
        h, _ = self.lstm(self.drop(self.embedding(src)))
        return F.cross_entropy(self.linear(self.drop(h)).flatten(0, 1), tgt.flatten(), reduction="sum",
                               ignore_index=PAD_ID)
