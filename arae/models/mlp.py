"""The MLPs of the official code: generator (MLP_G) and critic (MLP_D), built from "300-300" strings."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def parse_arch(arch: str) -> list[int]:
    return [int(h) for h in arch.split("-") if h]


def _init_official(module: nn.Module) -> None:
    """N(0, 0.02) weights and zero biases for every layer with weights, BatchNorm included, as the official
    init_weights does (it loops over all layers; BatchNorm's scale therefore starts near zero)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.BatchNorm1d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            nn.init.zeros_(layer.bias)


def bn_relu_mlp(in_size: int, arch: str, out_size: int) -> nn.Sequential:
    """[Linear, BatchNorm, ReLU]* -> Linear, with PyTorch's default init (the bmnist encoder and decoder)."""
    layers, width = [], in_size
    for h in parse_arch(arch):
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h, eps=1e-5, momentum=0.1), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, out_size))


class Generator(nn.Module):
    """z -> [Linear, BatchNorm, ReLU]* -> Linear -> code. No tanh: the official text code has none."""

    def __init__(self, z_size: int, out_size: int, arch: str):
        super().__init__()
        self.net = bn_relu_mlp(z_size, arch, out_size)
        _init_official(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def _hidden_layers(in_size: int, arch: str, activation: nn.Module) -> tuple[list[nn.Module], int]:
    """Linear, activation, then [Linear, BatchNorm, activation]* (the official MLP_D / MLP_Classify body)."""
    layers, width = [], in_size
    for i, h in enumerate(parse_arch(arch)):
        layers.append(nn.Linear(width, h))
        if i > 0:
            layers.append(nn.BatchNorm1d(h, eps=1e-5, momentum=0.1))
        layers.append(activation)
        width = h
    return layers, width


class Critic(nn.Module):
    """code -> Linear, LeakyReLU, then [Linear, BatchNorm, LeakyReLU]* -> Linear -> one score per code."""

    def __init__(self, in_size: int, arch: str):
        super().__init__()
        layers, width = _hidden_layers(in_size, arch, nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))
        _init_official(self)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.net(code).squeeze(1)


class CodeClassifier(nn.Module):
    """The official MLP_Classify (ReLU body, as the critic's): which style a code comes from. Two styles get
    the official single logit (sigmoid + binary cross-entropy); K > 2 styles get K logits."""

    def __init__(self, in_size: int, arch: str, n_styles: int):
        super().__init__()
        layers, width = _hidden_layers(in_size, arch, nn.ReLU())
        self.net = nn.Sequential(*layers, nn.Linear(width, 1 if n_styles == 2 else n_styles))
        _init_official(self)

    def log_probs(self, code: torch.Tensor) -> torch.Tensor:
        """(B, K) log-probabilities of the styles."""
        logits = self.net(code)
        if logits.size(1) == 1:
            return torch.cat([F.logsigmoid(-logits), F.logsigmoid(logits)], 1)
        return F.log_softmax(logits, 1)
