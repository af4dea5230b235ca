"""The "real data" row: training sentences themselves, drawn without replacement, as the samples."""
from __future__ import annotations

import torch

from arae.models import MODELS
from arae.models.capabilities import SAMPLES_TEXT
from arae.models.method import TextMethod


@MODELS.register("real_data")
class RealData(TextMethod):
    offers = frozenset({SAMPLES_TEXT})
    trains = False

    def prepare(self, train_sentences, batcher) -> None:
        self.train_sentences = train_sentences

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        order = torch.randperm(len(self.train_sentences), generator=generator, device=generator.device)[:n].tolist()
        return [self.train_sentences[i] for i in order]
