"""A sentence-pair classifier on a sentence encoder, for semi-supervised SNLI (docs/paper.md).

The paper leaves the classifier open; this is the common choice of InferSent (Conneau et al. 2017):
each sentence's code (the encoder's unit-norm code c, no noise), the features [u, v, |u - v|, u * v],
and an MLP with one hidden layer. The encoder is fine-tuned with the MLP unless `finetune` is off.
"""
from __future__ import annotations

import copy
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from arae.data.batching import Batch, collate
from arae.data.readers import NLI_LABELS, NLIPair
from arae.data.vocab import Vocab
from arae.models.seq2seq import Seq2Seq


def pair_features(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """[u, v, |u - v|, u * v]: order-aware, with the elementwise agreement and difference of the codes."""
    return torch.cat([u, v, (u - v).abs(), u * v], dim=1)


class PairClassifier(nn.Module):
    def __init__(self, encoder: Seq2Seq, hidden: int, finetune: bool, n_classes: int = len(NLI_LABELS)):
        super().__init__()
        self.encoder, self.finetune = encoder, finetune
        self.mlp = nn.Sequential(nn.Linear(4 * encoder.nhidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def trainable(self) -> list[nn.Parameter]:
        """The MLP, and the encoder's own parameters when fine-tuned (never the unused decoders)."""
        return [*self.mlp.parameters(), *(self.encoder.encoder_parameters() if self.finetune else [])]

    def forward(self, premises: Batch, hypotheses: Batch) -> torch.Tensor:
        with torch.set_grad_enabled(self.finetune and torch.is_grad_enabled()):
            u = self.encoder.encode(premises.src, premises.lengths)
            v = self.encoder.encode(hypotheses.src, hypotheses.lengths)
        return self.mlp(pair_features(u, v))


class EncodedPairs:
    """Pairs as token ids and label ids, cut into batches on demand."""

    def __init__(self, pairs: list[NLIPair], vocab: Vocab, device: torch.device):
        self.premises = [vocab.encode(p.premise) for p in pairs]
        self.hypotheses = [vocab.encode(p.hypothesis) for p in pairs]
        self.labels = torch.tensor([NLI_LABELS.index(p.label) for p in pairs], dtype=torch.long)
        self.device = device

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, index: list[int]) -> tuple[Batch, Batch, torch.Tensor]:
        return (collate([self.premises[i] for i in index]).to(self.device),
                collate([self.hypotheses[i] for i in index]).to(self.device), self.labels[index].to(self.device))


def predict(classifier: PairClassifier, data: EncodedPairs, batch_size: int) -> torch.Tensor:
    classifier.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(data), batch_size):
            premises, hypotheses, _ = data.batch(list(range(start, min(start + batch_size, len(data)))))
            out.append(classifier(premises, hypotheses).argmax(1).cpu())
    return torch.cat(out)


def fit_pair_classifier(encoder: Seq2Seq, vocab: Vocab, train: list[NLIPair], valid: list[NLIPair], c: dict,
                        seed: int, device: torch.device, report: Callable[[str], None]) -> Callable:
    """Trains a PairClassifier on `encoder` (which it changes: pass a copy) with Adam for c["epochs"] epochs
    over the labelled pairs. With validation pairs, the epoch with the best validation accuracy is kept;
    without, the last. Returns predict(pairs) -> labels."""
    torch.manual_seed(seed)  # the MLP's initial weights and the batch order depend on this seed alone
    order_rng = torch.Generator().manual_seed(seed)
    classifier = PairClassifier(encoder, c["hidden"], c["finetune"]).to(device)
    optimizer = torch.optim.Adam(classifier.trainable(), lr=c["lr"])
    data, held_out = EncodedPairs(train, vocab, device), EncodedPairs(valid, vocab, device) if valid else None
    best, began = (-1.0, None), time.perf_counter()
    for epoch in range(1, c["epochs"] + 1):
        classifier.train()
        order, total = torch.randperm(len(data), generator=order_rng).tolist(), 0.0
        for start in range(0, len(data), c["batch_size"]):
            premises, hypotheses, labels = data.batch(order[start:start + c["batch_size"]])
            loss = F.cross_entropy(classifier(premises, hypotheses), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(classifier.trainable(), c["clip"])
            optimizer.step()
            total += float(loss.detach()) * len(labels)
        shown = f"epoch {epoch}/{c['epochs']} train loss {total / len(data):.4f}"
        if held_out is not None:
            accuracy = float((predict(classifier, held_out, c["eval_batch"]) == held_out.labels).float().mean())
            if accuracy > best[0]:
                best = (accuracy, copy.deepcopy(classifier.state_dict()))
            shown += f" valid acc {accuracy:.4f}"
        report(f"{shown} ({time.perf_counter() - began:.0f}s)")
    if best[1] is not None:
        classifier.load_state_dict(best[1])

    def labels_of(pairs: list[NLIPair]) -> list[str]:
        return [NLI_LABELS[i] for i in predict(classifier, EncodedPairs(pairs, vocab, device), c["eval_batch"])]
    return labels_of
