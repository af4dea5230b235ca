"""Latent vector arithmetic ([ICLR] Figure 4, left): how often moving a sentence's latent point by a feature's
offset gives a decode with that feature (Match %), and how much of the sentence the decode keeps (Prec.).
They read what the vector_arithmetic task produced (arae/tasks/vector_arithmetic.py)."""
from __future__ import annotations

from statistics import fmean

from arae.metrics.base import EvalContext, MetricValue


def _target(ctx: EvalContext) -> tuple[dict | None, str]:
    """The task's outcome for this metric's target feature, or None with the reason it has none."""
    produced = ctx.output("vector")
    if produced is None:
        return None, ctx.outputs.get("vector_missing", "the task produced nothing")
    target = ctx.params["target"]
    outcome = produced["targets"].get(target)
    if outcome is None:
        return None, f"the task did not try {target}"
    return (None, outcome["reason"]) if outcome.get("reason") else (outcome, "")


def match_percent(ctx: EvalContext) -> MetricValue:
    """% of sentences for which at least one of the samples decoded from the moved point has the feature."""
    outcome, why = _target(ctx)
    if outcome is None:
        return MetricValue.missing(why)
    matched = [s["matched"] for s in outcome["sentences"]]
    if not matched:
        return MetricValue.missing("no generated sentence lacked the feature, so none could be moved towards it")
    return MetricValue(100 * fmean(matched), details={"sentences": len(matched), "matched": sum(matched),
                                                      "carriers": outcome["carriers"],
                                                      "parser": ctx.output("vector")["parser"]})


def precision(ctx: EvalContext) -> MetricValue:
    """Mean unigram precision (clipped counts) of the first matching sample against the original decode, over
    the sentences with a match: how much of the sentence the change keeps."""
    outcome, why = _target(ctx)
    if outcome is None:
        return MetricValue.missing(why)
    kept = [s["precision"] for s in outcome["sentences"] if s["matched"]]
    if not kept:
        return MetricValue.missing("no sample had the target feature, so there is no output to compare")
    return MetricValue(fmean(kept), details={"matched": len(kept), "parser": ctx.output("vector")["parser"]})


def carriers(ctx: EvalContext) -> MetricValue:
    """How many of the generated sentences carry the feature: the mean the offset starts from."""
    produced = ctx.output("vector")
    if produced is None:
        return MetricValue.missing(ctx.outputs.get("vector_missing", "the task produced nothing"))
    outcome = produced["targets"].get(ctx.params["target"], {})
    return MetricValue(float(outcome.get("carriers", 0)), details={"pool": produced["pool"], "parser": produced["parser"]},
                       rests_on=f"of {produced['pool']:,}")
