"""The binarized-MNIST baselines: a plain autoencoder (ARAE's image autoencoder trained on reconstruction
alone, noise schedule included) and the real test images themselves (the classifier's reference level)."""
from __future__ import annotations

import torch

from arae.data.batching import ImageBatcher
from arae.models import MODELS
from arae.models.capabilities import GENERATES_IMAGES
from arae.models.fitted_gaussian import draws_on_sphere, gaussian_of
from arae.models.image_arae import ImageAutoencoder, ImageMethod, autoencoder_step, noise_std
from arae.models.method import OutputNotAvailable


@MODELS.register("ae_mnist")
class ImageAE(ImageMethod):
    """Samples decode codes from a Gaussian fitted to the codes of `eval.ae_fit_codes` training images,
    projected onto the unit sphere (as the text AE row, arae/models/fitted_gaussian.py)."""
    offers = frozenset({GENERATES_IMAGES})

    def __init__(self, cfg, device):
        super().__init__(cfg, device)
        self.ae = ImageAutoencoder(cfg["model"]).to(device)
        self.nets = {"ae": self.ae}
        self.optims = {"ae": torch.optim.Adam(self.ae.parameters(), lr=cfg["train"]["lr_ae"])}

    def train_step(self, step: int, batcher: ImageBatcher) -> dict[str, torch.Tensor]:
        return {"loss_ae": autoencoder_step(self.ae, self.optims["ae"], batcher.batch(step),
                                            noise_std(self.cfg["model"], step))}

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        pixels = self.batcher.pixels
        pick = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(self.batcher.seed))
        gauss = gaussian_of(self.encode_images(pixels[pick[: self.cfg["eval"]["ae_fit_codes"]].to(pixels.device)]))
        return self.decode_codes(draws_on_sphere(gauss, n, generator))


@MODELS.register("real_mnist")
class RealImages(ImageMethod):
    """Test images drawn without replacement: the level a perfect generator would reach under the classifier."""
    offers = frozenset({GENERATES_IMAGES})
    trains = False

    def prepare(self, images, batcher: ImageBatcher) -> None:
        self.test_pixels = images.images["test"][0]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        order = torch.randperm(len(self.test_pixels), generator=generator, device=generator.device)[:n].cpu()
        return torch.from_numpy(self.test_pixels)[order]

    def recon_errors(self, pixels):
        raise OutputNotAvailable("real images have no autoencoder to reconstruct them")

    def reconstruct(self, pixels):
        raise OutputNotAvailable("real images have no autoencoder to reconstruct them")
