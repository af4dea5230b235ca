"""What the runner needs from a model: build from (vocab, config), train one step, sample sentences."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from arae.data.batching import Batcher
from arae.data.vocab import Vocab


def sgd(params, lr: float) -> torch.optim.Optimizer:
    """Plain SGD, updating all parameters in one multi-tensor (foreach) call."""
    return torch.optim.SGD(params, lr=lr, foreach=True)


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam with its fused kernel (one call per step, on CPU and CUDA)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


class Method:
    """Base of ARAE and the baselines; subclasses set up `self.nets` and `self.optims` in __init__."""

    trains = True
    trains_as: str | None = None  # a model whose training this one shares exactly (same training key)

    def __init__(self, vocab: Vocab, cfg: dict[str, Any], device: torch.device):
        self.vocab, self.cfg, self.device = vocab, cfg, device
        self.nets: dict[str, nn.Module] = {}
        self.optims: dict[str, torch.optim.Optimizer] = {}

    @property
    def sentences_per_step(self) -> int:
        """Sentences reconstructed (or modelled) per training step, for the throughput figure."""
        return self.cfg["train"]["batch_size"]

    def prepare(self, train_sentences: list[list[str]], batcher: Batcher) -> None:
        """Called before training and before sampling (also when a resumed run only samples)."""

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def diagnostics(self, step: int, batcher: Batcher) -> dict[str, float]:
        """Extra numbers logged at log steps (collapse and code diagnostics); they must not touch the
        training RNG or the models' training state."""
        return {}

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        """`generator` lives on the model's device, so sampling needs no host round trips."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {"nets": {k: m.state_dict() for k, m in self.nets.items()},
                "optims": {k: o.state_dict() for k, o in self.optims.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, m in self.nets.items():
            m.load_state_dict(state["nets"][k])
        for k, o in self.optims.items():
            o.load_state_dict(state["optims"][k])

    def eval(self) -> None:
        for m in self.nets.values():
            m.eval()

    def _decode_batches(self, n: int, batch_size: int, make_ids) -> list[list[str]]:
        """Run `make_ids(batch_n)` -> (B, T) token ids over batches, and turn ids into words."""
        self.eval()
        out: list[list[str]] = []
        while len(out) < n:
            ids = make_ids(min(batch_size, n - len(out))).cpu().tolist()
            out.extend(self.vocab.decode(row) for row in ids)
        return out
