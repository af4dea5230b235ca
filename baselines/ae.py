"""Plain autoencoder baseline: ARAE's encoder/decoder trained on reconstruction alone.

An AE has no prior to sample from, so its samples decode codes from a Gaussian fitted to training
codes (arae/models/fitted_gaussian.py).
"""
from __future__ import annotations

import torch

from arae.data.batching import Batcher
from arae.models import MODELS
from arae.models.arae import build_autoencoder
from arae.models.capabilities import CLASSIFIES_PAIRS, ENCODES_SENTENCES, SAMPLES_LATENTS, SAMPLES_TEXT
from arae.models.fitted_gaussian import FittedGaussianSampling
from arae.models.method import TextMethod, sgd
from arae.training.diagnostics import code_spread
from arae.training.steps import ae_step


@MODELS.register("ae")
class Autoencoder(FittedGaussianSampling, TextMethod):
    offers = frozenset({SAMPLES_TEXT, ENCODES_SENTENCES, CLASSIFIES_PAIRS, SAMPLES_LATENTS})
    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        self.ae = build_autoencoder(len(vocab), cfg, device)
        self.nets = {"ae": self.ae}
        self.optims = {"ae": sgd(self.ae.parameters(), cfg["train"]["lr_ae"])}

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        m, t = self.cfg["model"], self.cfg["train"]
        self.ae.anneal_noise(step, t["anneal_every"], m["noise_anneal"])
        loss = ae_step(self.ae, self.optims["ae"], batcher.batch(step).to(self.device), t["clip"])
        return {"loss_ae": loss, "noise_r": self.ae.noise_r}

    def sentence_encoder(self):
        return self.ae

    def diagnostics(self, step: int, batcher: Batcher) -> dict[str, float]:
        return {"code_spread": code_spread(self.ae, batcher.batch(step).to(self.device))}
