"""LSTM language model baseline (the "LM samples" row): same size as the autoencoder's decoder.

Samples are drawn ancestrally (temperature 1) from <bos>: greedy decoding would give one sentence.
`model.dropout` (0 in every preset) applies to the LSTM's outputs.
"""
from __future__ import annotations

import torch
from torch import nn

from arae.data.batching import Batcher
from arae.models import MODELS
from arae.models.capabilities import SAMPLES_TEXT
from arae.models.lm import LSTMLanguageModel
from arae.models.method import TextMethod, sgd


@MODELS.register("rnn_lm")
class RNNLanguageModel(TextMethod):
    offers = frozenset({SAMPLES_TEXT})
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
