"""Plain autoencoder baseline: ARAE's encoder/decoder trained on reconstruction alone.

An AE has no prior to sample from, so samples decode codes drawn from a Gaussian with the mean and
full covariance of (up to `eval.ae_fit_codes`) training codes, then projected back onto the unit
sphere where real codes live. The paper's footnote on how AE samples were drawn is not available;
this choice is recorded in the benchmark notes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from arae.data.batching import BucketBatcher, collate
from arae.models import MODELS
from arae.models.arae import build_autoencoder
from arae.models.method import Method
from arae.training.steps import ae_step


@MODELS.register("ae")
class Autoencoder(Method):
    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        self.ae = build_autoencoder(len(vocab), cfg["model"]).to(device)
        self.nets = {"ae": self.ae}
        self.optims = {"ae": torch.optim.SGD(self.ae.parameters(), lr=cfg["train"]["lr_ae"])}

    def prepare(self, train_sentences, batcher: BucketBatcher) -> None:
        self.batcher = batcher

    def train_step(self, step: int, batcher: BucketBatcher) -> dict[str, torch.Tensor]:
        m, t = self.cfg["model"], self.cfg["train"]
        self.ae.anneal_noise(step, t["anneal_every"], m["noise_anneal"])
        loss = ae_step(self.ae, self.optims["ae"], batcher.batch(step).to(self.device), t["clip"])
        return {"loss_ae": loss, "noise_r": self.ae.noise_r}

    @torch.no_grad()
    def code_gaussian(self, batcher: BucketBatcher) -> torch.distributions.MultivariateNormal:
        """Fitted on a seeded uniform subset of training sentences (all lengths, as the data has them)."""
        self.eval()
        pick = torch.randperm(len(batcher.encoded), generator=torch.Generator().manual_seed(batcher.seed))
        pick, codes = pick[: self.cfg["eval"]["ae_fit_codes"]].tolist(), []
        for start in range(0, len(pick), self.cfg["eval"]["sample_batch"]):
            b = collate([batcher.encoded[i] for i in pick[start:start + self.cfg["eval"]["sample_batch"]]])
            codes.append(self.ae.encode(b.src.to(self.device), b.lengths).float().cpu())
        codes = torch.cat(codes)
        cov = torch.cov(codes.T) + 1e-4 * torch.eye(codes.size(1))  # ridge: fewer codes than dimensions
        return torch.distributions.MultivariateNormal(codes.mean(0), covariance_matrix=cov)

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        gauss = self.code_gaussian(self.batcher)
        chol, mean = gauss.scale_tril.to(generator.device), gauss.loc.to(generator.device)

        def make_ids(b: int) -> torch.Tensor:
            eps = torch.randn(b, mean.numel(), generator=generator, device=generator.device)
            code = F.normalize(mean + eps @ chol.T, dim=1).to(self.device)
            return self.ae.generate(code, self.cfg["data"]["maxlen"])
        return self._decode_batches(n, self.cfg["eval"]["sample_batch"], make_ids)
