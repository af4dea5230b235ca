"""Accuracy of sentence-pair classifiers learnt from a fraction of the labels (docs/paper.md)."""
from __future__ import annotations

from collections import Counter

from arae.errors import MetricNotComputable
from arae.metrics.base import EvalContext, MetricValue


def nli_accuracy(ctx: EvalContext) -> MetricValue:
    """Share of test pairs whose predicted label is the gold label, for the classifier learnt from the
    fraction ctx.params["fraction"] of the labelled pool."""
    fraction = ctx.params.get("fraction")
    predictions = ctx.output("predictions")
    if fraction not in predictions:
        raise MetricNotComputable(f"no predictions for label fraction {fraction} (have: {sorted(predictions)})")
    labels, n_labelled = predictions[fraction]
    gold = [p.label for p in ctx.corpus.pairs["test"]]
    if len(labels) != len(gold):
        raise MetricNotComputable(f"{len(labels)} predictions for {len(gold)} test pairs")
    correct = [p == g for p, g in zip(labels, gold)]
    per_label = {label: sum(c for c, g in zip(correct, gold) if g == label) / n
                 for label, n in sorted(Counter(gold).items())}
    return MetricValue(sum(correct) / len(gold), details={
        "fraction": fraction, "n_labelled": n_labelled, "n_test": len(gold), "accuracy_per_gold_label": per_label,
        "predicted_label_counts": dict(sorted(Counter(labels).items()))}, rests_on=f"{n_labelled:,} labelled pairs")
