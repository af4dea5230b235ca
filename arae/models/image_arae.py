"""ARAE on binarized MNIST, as bmnist/main.lua (docs/paper.md): MLP encoder to a code on the unit
sphere, Gaussian noise on the code (std annealed by `noise_anneal` every 100 iterations), MLP decoder with a
2-way softmax per pixel, an MLP generator ending in tanh, and a WGAN critic with weight clipping.

One iteration: an autoencoder step, then `critic_iters` x (critic step + encoder step against the critic,
its gradient scaled by `grad_lambda`), then a generator step. Faithful details: one Adam for the
autoencoder serves both its reconstruction and its adversarial steps (the Torch code shares `ae_config`), and
its gradients are zeroed, not dropped, so the decoder still moves by momentum in the adversarial steps; Adam's
beta1 is the default 0.9 (the official `opt.beta1` is never set); the critic's sign convention is the
official one (the critic lowers its score of real codes, the generator lowers its score of fake ones)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from arae.data.batching import ImageBatcher
from arae.data.corpora import ImageCorpus
from arae.data.images import PIXELS
from arae.models import MODELS
from arae.models.capabilities import DECODES_NOISE, GENERATES_IMAGES
from arae.models.method import Method
from arae.models.mlp import Critic, Generator, bn_relu_mlp


class ImageAutoencoder(nn.Module):
    """Torch7's default init: Linear weights and biases U(+-1/sqrt(fan_in)) (PyTorch's default too) and BatchNorm
    scales U(0, 1) (PyTorch starts them at 1)."""

    def __init__(self, m: dict):
        super().__init__()
        self.encoder = bn_relu_mlp(PIXELS, m["arch_enc"], m["code_size"])
        self.decoder = bn_relu_mlp(m["code_size"], m["arch_dec"], 2 * PIXELS)
        for layer in self.modules():
            if isinstance(layer, nn.BatchNorm1d):
                nn.init.uniform_(layer.weight, 0.0, 1.0)

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Unit-norm codes of (B, 784) pixels in {0, 1}, fed to the encoder as -1 / +1."""
        return F.normalize(self.encoder(2 * pixels - 1), dim=1)

    def logits(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, 2, 784): per pixel, the scores of 0 and 1."""
        return self.decoder(codes).view(-1, 2, PIXELS)

    def loss(self, pixels: torch.Tensor, noise_std: float) -> torch.Tensor:
        """Mean per-pixel cross-entropy of the reconstruction from the noisy code."""
        codes = self.encode(pixels)
        return F.cross_entropy(self.logits(codes + noise_std * torch.randn_like(codes)), pixels.long())


def noise_std(m: dict, step: int) -> float:
    return m["noise_std"] * m["noise_anneal"] ** (step // 100)


def autoencoder_step(ae: ImageAutoencoder, optimizer: torch.optim.Optimizer, pixels: torch.Tensor,
                     std: float) -> torch.Tensor:
    """One reconstruction step from the noisy codes of `pixels`; gradients zeroed, not dropped (see above)."""
    ae.train()
    optimizer.zero_grad(set_to_none=False)
    loss = ae.loss(pixels, std)
    loss.backward()
    optimizer.step()
    return loss.detach()


class ImageMethod(Method):
    """A model of binarized images: `sample` returns (n, 784) uint8 pixels, `reconstruct` and `recon_errors`
    work from noise-free codes; subclasses have an ImageAutoencoder `self.ae` (or none, for real images)."""

    def prepare(self, images: ImageCorpus, batcher: ImageBatcher) -> None:
        """Called before training and before sampling (also when a resumed run only samples)."""
        self.batcher = batcher

    def _batched(self, tensor: torch.Tensor, fn) -> torch.Tensor:
        self.eval()
        with torch.no_grad():
            size = self.cfg["eval"]["sample_batch"]
            return torch.cat([fn(part.to(self.device)).cpu() for part in tensor.split(size)])

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._batched(pixels, self.ae.encode)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """The most likely pixels (uint8) for each code."""
        return self._batched(codes, lambda c: self.ae.logits(c).argmax(1).to(torch.uint8))

    def reconstruct(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.decode_codes(self.encode_images(pixels))

    def recon_errors(self, pixels: torch.Tensor) -> dict[str, list[float]]:
        """Per image: NLL of its pixels from its noise-free code (nats, summed over pixels), and wrong pixels."""
        def both(x: torch.Tensor) -> torch.Tensor:
            logits = self.ae.logits(self.ae.encode(x))
            nll = F.cross_entropy(logits, x.long(), reduction="none").sum(1)
            return torch.stack([nll, (logits.argmax(1) != x.long()).sum(1).float()], 1)
        out = self._batched(pixels, both)
        return {"nll": out[:, 0].tolist(), "wrong_pixels": out[:, 1].tolist()}


@MODELS.register("arae_mnist")
class ImageARAE(ImageMethod):
    offers = frozenset({GENERATES_IMAGES, DECODES_NOISE})
    def __init__(self, cfg, device):
        super().__init__(cfg, device)
        m, t = cfg["model"], cfg["train"]
        self.ae = ImageAutoencoder(m).to(device)
        self.gen = nn.Sequential(Generator(m["z_size"], m["code_size"], m["arch_g"]), nn.Tanh()).to(device)
        self.critic = Critic(m["code_size"], m["arch_d"]).to(device)
        self.nets = {"ae": self.ae, "gen": self.gen, "critic": self.critic}
        self.optims = {"ae": torch.optim.Adam(self.ae.parameters(), lr=t["lr_ae"]),
                       "gen": torch.optim.Adam(self.gen.parameters(), lr=t["lr_gan_g"]),
                       "critic": torch.optim.Adam(self.critic.parameters(), lr=t["lr_gan_d"])}

    def train_step(self, step: int, batcher: ImageBatcher) -> dict[str, torch.Tensor]:
        """One official iteration: AE step, critic_iters x (critic step, encoder step), generator step."""
        m, t, opt = self.cfg["model"], self.cfg["train"], self.optims
        ae, gen, critic = self.ae, self.gen, self.critic
        for net in self.nets.values():
            net.train()
        z_size, size = m["z_size"], t["batch_size"]
        loss_ae = autoencoder_step(ae, opt["ae"], batcher.batch(step), noise_std(m, step))
        for k in range(t["critic_iters"]):
            real = batcher.random_batch(step, k + 1)
            # critic: clipped weights, lower score for real codes than for generated ones
            with torch.no_grad():
                for p in critic.parameters():
                    p.clamp_(-t["clip_d"], t["clip_d"])
            opt["critic"].zero_grad(set_to_none=False)
            with torch.no_grad():  # the encoder in training mode (its BatchNorm statistics move, as in Torch)
                real_codes, fake = ae.encode(real), gen(torch.randn(size, z_size, device=self.device))
            critic_loss = critic(real_codes).mean() - critic(fake).mean()
            critic_loss.backward()
            opt["critic"].step()
            # encoder: move real codes towards where the critic scores generated ones
            opt["ae"].zero_grad(set_to_none=False)
            (-t["grad_lambda"] * critic(ae.encode(real)).mean()).backward()
            opt["ae"].step()
        # generator: lower the critic's score of its codes
        opt["gen"].zero_grad(set_to_none=False)
        loss_g = critic(gen(torch.randn(size, z_size, device=self.device))).mean()
        loss_g.backward()
        opt["gen"].step()
        return {"loss_ae": loss_ae, "w_dist": -critic_loss.detach(), "loss_g": loss_g.detach(),
                "noise_std": torch.tensor(noise_std(m, step))}

    def decode_noise(self, z: torch.Tensor) -> torch.Tensor:
        """Pixels decoded from the generator's codes of noise vectors z (the generator's tanh output as is)."""
        return self.decode_codes(self._batched(z, self.gen))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.cfg["model"]["z_size"], generator=generator, device=generator.device)
        return self.decode_noise(z)
