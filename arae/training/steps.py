"""The ARAE training steps, one short function each (the official lang/train.py, June 2018).

Signs follow the official code: the critic minimises f(real) - f(fake) + GP, the generator
minimises f(fake), and the encoder maximises f(real) with its gradient scaled by grad_lambda,
so real codes are pulled towards the generator's distribution. Losses are returned as tensors:
turning them into numbers (a host sync) is the logger's job.
"""
from __future__ import annotations

import torch
from torch import nn

from arae.data.batching import Batch
from arae.models.mlp import CodeClassifier, Critic, Generator
from arae.models.seq2seq import Seq2Seq


def ae_step(ae: Seq2Seq, opt_ae, batch: Batch, clip: float, decoder: int = 0) -> torch.Tensor:
    ae.train()
    opt_ae.zero_grad(set_to_none=True)
    loss = ae.reconstruction_loss(batch.src, batch.tgt, batch.lengths, noise=True, decoder=decoder)
    loss.backward()
    nn.utils.clip_grad_norm_(ae.parameters(), clip, foreach=True)
    opt_ae.step()
    return loss.detach()


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    alpha = torch.rand(real.size(0), 1, device=real.device)
    points = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    # the gradient of the batch *mean* (the official MLP_D returns torch.mean), so each point's
    # gradient is scaled by 1/B: faithful to the official code, unlike textbook WGAN-GP's sum
    grads, = torch.autograd.grad(critic(points).mean(), points, create_graph=True)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def critic_step(gen: Generator, critic: Critic, opt_d, real: torch.Tensor,
                z_size: int, gp_lambda: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One critic update on the (detached) codes `real` of one batch. Returns (w_dist, penalty):
    w_dist = mean f(fake) - mean f(real), the critic's distance estimate."""
    critic.train()
    gen.train()
    opt_d.zero_grad(set_to_none=True)
    with torch.no_grad():
        fake = gen(torch.randn(real.size(0), z_size, device=real.device))
    critic_loss = critic(real).mean() - critic(fake).mean()  # minus the Wasserstein estimate
    penalty = gradient_penalty(critic, real, fake)
    (critic_loss + gp_lambda * penalty).backward()
    opt_d.step()
    return -critic_loss.detach(), penalty.detach()


def encoder_adversarial_step(ae: Seq2Seq, critic: Critic, opt_ae, batch: Batch,
                             grad_lambda: float, clip: float) -> torch.Tensor:
    ae.train()
    critic.train()
    opt_ae.zero_grad(set_to_none=True)
    real = ae.encode(batch.src, batch.lengths)
    real.register_hook(lambda grad: grad * grad_lambda)
    score = critic(real).mean()
    (-score).backward()
    nn.utils.clip_grad_norm_(ae.parameters(), clip, foreach=True)
    opt_ae.step()
    return score.detach()


def generator_step(gen: Generator, critic: Critic, opt_g, batch_size: int, z_size: int,
                   device: torch.device) -> torch.Tensor:
    gen.train()
    critic.train()
    opt_g.zero_grad(set_to_none=True)
    score = critic(gen(torch.randn(batch_size, z_size, device=device))).mean()
    score.backward()
    opt_g.step()
    return score.detach()


def style_targets(style: int, n: int, n_styles: int, device, flipped: bool = False) -> torch.Tensor:
    """(n, K) target distributions: one-hot on `style`, or, flipped, uniform over the other styles (for two
    styles: the other style, the official flipped label)."""
    target = torch.zeros(n, n_styles, device=device)
    if flipped:
        target.fill_(1 / (n_styles - 1))
        target[:, style] = 0
    else:
        target[:, style] = 1
    return target


def classifier_step(ae: Seq2Seq, classifier: CodeClassifier, opt_c, batch: Batch, style: int,
                    n_styles: int) -> torch.Tensor:
    """Teach the classifier which style a (detached, noiseless) code comes from."""
    classifier.train()
    opt_c.zero_grad(set_to_none=True)
    with torch.no_grad():
        code = ae.encode(batch.src, batch.lengths)
    target = style_targets(style, len(batch), n_styles, code.device)
    loss = -(target * classifier.log_probs(code)).sum(1).mean()
    loss.backward()
    opt_c.step()
    return loss.detach()


def classifier_adversarial_step(ae: Seq2Seq, classifier: CodeClassifier, opt_ae, batch: Batch, style: int,
                                n_styles: int, lambda_class: float, clip: float) -> torch.Tensor:
    """Push the encoder to fool the classifier (flipped labels), its gradient scaled by lambda_class."""
    ae.train()
    classifier.train()
    opt_ae.zero_grad(set_to_none=True)
    code = ae.encode(batch.src, batch.lengths)
    code.register_hook(lambda grad: grad * lambda_class)
    target = style_targets(style, len(batch), n_styles, code.device, flipped=True)
    loss = -(target * classifier.log_probs(code)).sum(1).mean()
    loss.backward()
    nn.utils.clip_grad_norm_(ae.parameters(), clip, foreach=True)
    opt_ae.step()
    return loss.detach()
