"""Sampling an autoencoder without a learned prior: decode codes drawn from a Gaussian fitted to
training codes (mean and full covariance of a seeded uniform subset), projected back onto the unit
sphere where real codes live, with greedy decoding. The AE row samples this way; so does the
`arae_gauss` row, which decodes ARAE's own codes through the same sampler to separate what the
regulariser does to the code space from what the generator adds. (The paper's footnote on how its
AE samples were drawn is not available to us.)"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class FittedGaussianSampling:
    """Mixin for a Method with an autoencoder `self.ae`; `prepare` keeps the batcher for the fit."""

    def prepare(self, train_sentences, batcher) -> None:
        self.batcher = batcher

    @torch.no_grad()
    def code_gaussian(self) -> torch.distributions.MultivariateNormal:
        """Fitted on a seeded uniform subset of training sentences (all lengths, as the data has them)."""
        self.eval()
        e, encoded = self.cfg["eval"], self.batcher.encoded
        pick = torch.randperm(len(encoded), generator=torch.Generator().manual_seed(self.batcher.seed))
        pick, codes = pick[: e["ae_fit_codes"]].numpy(), []
        for start in range(0, len(pick), e["sample_batch"]):
            b = self.batcher.rows(pick[start:start + e["sample_batch"]]).to(self.device)
            codes.append(self.ae.encode(b.src, b.lengths).float().cpu())
        return gaussian_of(torch.cat(codes))

    def draw_latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Codes drawn from the fitted Gaussian (fitted once, on the first draw), before the projection."""
        if getattr(self, "_gaussian", None) is None:
            self._gaussian = self.code_gaussian()
        return draws(self._gaussian, n, generator)

    def latent_ids(self, latents: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decodes each code projected onto the unit sphere, where real codes live."""
        return self.ae.generate(F.normalize(latents.to(self.device), dim=1), self.cfg["data"]["maxlen"],
                                generator=generator)


def gaussian_of(codes: torch.Tensor) -> torch.distributions.MultivariateNormal:
    """Mean and full covariance of (N, D) codes, with a small ridge (there may be fewer codes than dimensions)."""
    cov = torch.cov(codes.T) + 1e-4 * torch.eye(codes.size(1))
    return torch.distributions.MultivariateNormal(codes.mean(0), covariance_matrix=cov)


def draws(gauss: torch.distributions.MultivariateNormal, n: int, generator: torch.Generator) -> torch.Tensor:
    """n draws from `gauss` on the generator's device."""
    chol, mean = gauss.scale_tril.to(generator.device), gauss.loc.to(generator.device)
    return mean + torch.randn(n, mean.numel(), generator=generator, device=generator.device) @ chol.T


def draws_on_sphere(gauss: torch.distributions.MultivariateNormal, n: int, generator: torch.Generator) -> torch.Tensor:
    """n draws from `gauss`, each projected onto the unit sphere."""
    return F.normalize(draws(gauss, n, generator), dim=1)
