"""ARAE for style transfer (the official yelp/train.py, June 2018; docs/paper.md), for K >= 2 styles.

A shared encoder, one decoder per style (own embedding and LSTM, shared output projection), a code
classifier trained on detached codes whose flipped-label gradient regularises the encoder, and the
WGAN-GP critic of generation ARAE. Transfer: encode without noise, decode greedily with the target
style's decoder. `ae_transfer` is the same two-decoder model trained on reconstruction alone.
"""
from __future__ import annotations

import torch

from arae.data.batching import Batch, StyleBatcher
from arae.errors import ConfigError
from arae.models import MODELS
from arae.models.arae import build_autoencoder
from arae.models.capabilities import TRANSFERS
from arae.models.method import TextMethod, adam, sgd
from arae.models.mlp import CodeClassifier, Critic, Generator
from arae.training.diagnostics import code_spread
from arae.training.steps import (ae_step, classifier_adversarial_step, classifier_step, critic_step,
                                 encoder_adversarial_step, generator_step)


@MODELS.register("ae_transfer")
class TransferAutoencoder(TextMethod):
    """Each style's batch reconstructed through its own decoder; no adversarial term."""
    offers = frozenset({TRANSFERS})

    styled = True

    def __init__(self, vocab, cfg, device, n_styles: int):
        super().__init__(vocab, cfg, device, n_styles)
        self.ae = build_autoencoder(len(vocab), cfg, device, n_decoders=n_styles)
        self.nets = {"ae": self.ae}
        self.optims = {"ae": sgd(self.ae.parameters(), cfg["train"]["lr_ae"])}

    @property
    def sentences_per_step(self) -> int:
        return self.cfg["train"]["batch_size"] * self.n_styles

    @property
    def order(self) -> list[int]:
        """The styles in the order each iteration visits them: train.first_style first (the official Yelp
        code's first class is positive, our style 1), then the others."""
        first = self.cfg["train"].get("first_style", 0)
        if not 0 <= first < self.n_styles:
            raise ConfigError(f"train.first_style={first}: expected a style index below {self.n_styles}")
        return [first] + [k for k in range(self.n_styles) if k != first]

    def autoencoder_steps(self, step: int, batches: list[Batch]) -> dict[str, torch.Tensor]:
        """Batch k reconstructed through decoder k, one SGD step each, in the iteration's style order."""
        m, t = self.cfg["model"], self.cfg["train"]
        self.ae.anneal_noise(step, t["anneal_every"], m["noise_anneal"])
        losses = {f"loss_ae{k}": ae_step(self.ae, self.optims["ae"], batches[k], t["clip"], k) for k in self.order}
        return losses | {"noise_r": self.ae.noise_r}

    def train_step(self, step: int, batcher: StyleBatcher) -> dict[str, torch.Tensor]:
        return self.autoencoder_steps(step, [b.batch(step).to(self.device) for b in batcher.styles])

    def diagnostics(self, step: int, batcher: StyleBatcher) -> dict[str, float]:
        return {"code_spread": code_spread(self.ae, batcher.styles[0].batch(step).to(self.device))}

    def transfer(self, sentences: list[list[str]], source: int, target: int) -> list[list[str]]:
        maxlen = self.cfg["eval"]["transfer_maxlen"]

        def decode(batch: Batch) -> torch.Tensor:
            with torch.inference_mode():
                return self.ae.generate(self.ae.encode(batch.src, batch.lengths), maxlen, decoder=target)
        return self._in_batches(sentences, self.cfg["eval"]["sample_batch"], decode)


@MODELS.register("arae_transfer")
class TransferARAE(TransferAutoencoder):
    def __init__(self, vocab, cfg, device, n_styles: int):
        super().__init__(vocab, cfg, device, n_styles)
        m, t = cfg["model"], cfg["train"]
        self.gen = Generator(m["z_size"], m["nhidden"], m["arch_g"]).to(device)
        self.critic = Critic(m["nhidden"], m["arch_d"]).to(device)
        self.classifier = CodeClassifier(m["nhidden"], m["arch_classify"], n_styles).to(device)
        self.nets |= {"gen": self.gen, "critic": self.critic, "classifier": self.classifier}
        betas = (t["beta1"], 0.999)
        self.optims |= {"gen": adam(self.gen.parameters(), t["lr_gan_g"], betas),
                        "critic": adam(self.critic.parameters(), t["lr_gan_d"], betas),
                        "classifier": adam(self.classifier.parameters(), t["lr_classify"], betas)}

    def train_step(self, step: int, batcher: StyleBatcher) -> dict[str, torch.Tensor]:
        """One official iteration, visiting the styles in `order`: per style an AE step, then a classifier step
        per style, an adversarial classifier step per style, k critic steps (the (i % K)-th style of the order
        for step i), a generator step, and one encoder-adversarial step (on the first style of the order: the
        official loop's i % 2 with one step)."""
        m, t, dev, K, order = self.cfg["model"], self.cfg["train"], self.device, self.n_styles, self.order
        batches = [b.batch(step).to(dev) for b in batcher.styles]
        losses = self.autoencoder_steps(step, batches)
        for k in order:
            losses[f"loss_classify{k}"] = classifier_step(self.ae, self.classifier, self.optims["classifier"],
                                                          batches[k], k, K)
        for k in order:
            losses[f"loss_classify_adv{k}"] = classifier_adversarial_step(
                self.ae, self.classifier, self.optims["ae"], batches[k], k, K, t["lambda_class"], t["clip"])
        for i in range(t["critic_iters"]):
            batch = batcher.styles[order[i % K]].random_batch(step, i).to(dev)
            with torch.no_grad():
                real = self.ae.encode(batch.src, batch.lengths)
            losses["w_dist"], losses["gp"] = critic_step(self.gen, self.critic, self.optims["critic"], real,
                                                         m["z_size"], t["gp_lambda"])
        losses["critic_fake"] = generator_step(self.gen, self.critic, self.optims["gen"], t["batch_size"],
                                               m["z_size"], dev)
        if t["grad_lambda"] > 0:
            losses["critic_real"] = encoder_adversarial_step(
                self.ae, self.critic, self.optims["ae"], batcher.styles[order[0]].random_batch(step, t["critic_iters"]).to(dev),
                t["grad_lambda"], t["clip"])
        return losses
