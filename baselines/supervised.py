"""The reference rows of semi-supervised classification: an encoder that learns from the labels alone,
and the majority class of the labelled pairs (what "above chance" means)."""
from __future__ import annotations

from collections import Counter

from arae.data.readers import NLI_LABELS
from arae.models import MODELS
from arae.models.arae import build_autoencoder
from arae.models.capabilities import CLASSIFIES_PAIRS, ENCODES_SENTENCES
from arae.models.method import TextMethod


@MODELS.register("untrained_encoder")
class UntrainedEncoder(TextMethod):
    """ARAE's encoder at its initial weights (the official uniform ±0.1): with fine-tuning, the
    classifier trains it on the labelled pairs only, which makes the supervised-encoder row."""
    offers = frozenset({ENCODES_SENTENCES, CLASSIFIES_PAIRS})

    trains = False

    def __init__(self, vocab, cfg, device):
        super().__init__(vocab, cfg, device)
        self.ae = build_autoencoder(len(vocab), cfg, device)
        self.nets = {"ae": self.ae}

    def sentence_encoder(self):
        return self.ae


@MODELS.register("majority_class")
class MajorityClass(TextMethod):
    """Predicts the most frequent label of the labelled pairs (ties: the first in NLI_LABELS order)."""
    offers = frozenset({CLASSIFIES_PAIRS})

    trains = False

    def fit_pair_classifier(self, train, valid, classifier_cfg, seed, report):
        counts = Counter(p.label for p in train)
        majority = max(NLI_LABELS, key=lambda label: (counts[label], -NLI_LABELS.index(label)))
        report(f"majority label of {len(train):,} labelled pairs: {majority} ({counts[majority]:,})")
        return lambda pairs: [majority] * len(pairs)
