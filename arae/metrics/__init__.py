"""Metrics; importing this package fills METRICS with every flavour the suite can compute."""
from __future__ import annotations

from arae.metrics import diversity, ngram_lm
from arae.metrics.base import METRICS, EvalContext, MetricValue, flavoured_name, kenlm_order

__all__ = ["METRICS", "EvalContext", "MetricValue", "flavoured_name"]


@METRICS.register("forward_ppl.kenlm")
def _forward_ppl_kenlm(ctx: EvalContext) -> MetricValue:
    order = kenlm_order(ctx.params)
    return ngram_lm.forward_ppl(ctx.train_text, ctx.samples, order, ctx.artefacts or ctx.workdir / "artefacts")


@METRICS.register("reverse_ppl.kenlm")
def _reverse_ppl_kenlm(ctx: EvalContext) -> MetricValue:
    order = kenlm_order(ctx.params)
    return ngram_lm.reverse_ppl(ctx.samples, ctx.eval_text, order, ctx.workdir / f"reverse_ppl.kenlm{order}",
                                ctx.vocab_words)


@METRICS.register("unique_fraction")
def _unique_fraction(ctx: EvalContext) -> MetricValue:
    return diversity.unique_fraction(ctx.samples)
