"""ARAE for text generation: autoencoder + latent WGAN-GP whose critic also regularises the encoder."""
from __future__ import annotations

import torch

from arae.data.batching import Batcher
from arae.models import MODELS
from arae.models.capabilities import CLASSIFIES_PAIRS, DECODES_NOISE, ENCODES_SENTENCES, SAMPLES_LATENTS, SAMPLES_TEXT
from arae.models.fitted_gaussian import FittedGaussianSampling
from arae.models.method import TextMethod, adam, sgd
from arae.models.mlp import Critic, Generator
from arae.models.seq2seq import Seq2Seq, uses_fixed_shapes
from arae.seeding import derive_seed
from arae.training.diagnostics import code_spread, generator_diagnostics
from arae.training.steps import ae_step, critic_step, encoder_adversarial_step, generator_step


def build_autoencoder(vocab_size: int, cfg: dict, device: torch.device, n_decoders: int = 1) -> Seq2Seq:
    m = cfg["model"]
    return Seq2Seq(vocab_size, m["emsize"], m["nhidden"], m["nlayers"], m["noise_r"], n_decoders,
                   uses_fixed_shapes(cfg["train"], device)).to(device)


@MODELS.register("arae")
class ARAE(TextMethod):
    offers = frozenset({SAMPLES_TEXT, ENCODES_SENTENCES, CLASSIFIES_PAIRS, DECODES_NOISE, SAMPLES_LATENTS})
    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        m, t = cfg["model"], cfg["train"]
        self.ae = build_autoencoder(len(vocab), cfg, device)
        self.gen = Generator(m["z_size"], m["nhidden"], m["arch_g"]).to(device)
        self.critic = Critic(m["nhidden"], m["arch_d"]).to(device)
        self.nets = {"ae": self.ae, "gen": self.gen, "critic": self.critic}
        betas = (t["beta1"], 0.999)
        self.optims = {"ae": sgd(self.ae.parameters(), t["lr_ae"]),
                       "gen": adam(self.gen.parameters(), t["lr_gan_g"], betas),
                       "critic": adam(self.critic.parameters(), t["lr_gan_d"], betas)}

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        """One official iteration: 1 AE step, k critic steps, 1 encoder-adversarial step, 1 generator step."""
        m, t, dev = self.cfg["model"], self.cfg["train"], self.device
        self.ae.anneal_noise(step, t["anneal_every"], m["noise_anneal"])
        losses = {"loss_ae": ae_step(self.ae, self.optims["ae"], batcher.batch(step).to(dev), t["clip"]),
                  "noise_r": self.ae.noise_r}
        with torch.no_grad():  # the encoder does not change during the critic steps: one call encodes all their batches
            critic_batches = batcher.random_batches(step, t["critic_iters"]).to(dev)
            reals = self.ae.encode(critic_batches.src, critic_batches.lengths).chunk(t["critic_iters"])
        for real in reals:
            losses["w_dist"], losses["gp"] = critic_step(self.gen, self.critic, self.optims["critic"], real,
                                                         m["z_size"], t["gp_lambda"])
        if t["grad_lambda"] > 0:  # 0 gives an autoencoder with a latent GAN beside it, no regularisation
            losses["critic_real"] = encoder_adversarial_step(self.ae, self.critic, self.optims["ae"],
                                                             batcher.random_batch(step, t["critic_iters"]).to(dev),
                                                             t["grad_lambda"], t["clip"])
        losses["critic_fake"] = generator_step(self.gen, self.critic, self.optims["gen"], t["batch_size"],
                                               m["z_size"], dev)
        return losses

    def sentence_encoder(self):
        return self.ae

    def diagnostics(self, step: int, batcher: Batcher) -> dict[str, float]:
        """Code spread of this step's batch; generator norm and unique decodes of a fixed noise sample."""
        n, z_size = self.cfg["train"]["diag_samples"], self.cfg["model"]["z_size"]
        noise = torch.Generator(device=self.device).manual_seed(derive_seed(batcher.seed, "diagnostics"))
        fixed_z = torch.randn(n, z_size, generator=noise, device=self.device)
        return {"code_spread": code_spread(self.ae, batcher.batch(step).to(self.device)),
                **generator_diagnostics(self.ae, self.gen, fixed_z, self.cfg["data"]["maxlen"])}

    def draw_latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """z ~ N(0, I), decoded greedily through the generator, as the paper and the official code sample."""
        return torch.randn(n, self.cfg["model"]["z_size"], generator=generator, device=generator.device)

    def latent_ids(self, latents: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.ae.generate(self.gen(latents.to(self.device)), self.cfg["data"]["maxlen"], generator=generator)


@MODELS.register("arae_gauss")
class ARAEFittedGaussian(FittedGaussianSampling, ARAE):
    """ARAE trained as usual, sampled like the AE row: trains exactly as `arae` (same training key)."""

    trains_as = "arae"
