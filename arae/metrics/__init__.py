"""Metrics; importing this package fills METRICS with every flavour the suite can compute."""
from __future__ import annotations

import functools

from arae.metrics import classification, digits, diversity, interpolation, ngram_lm, rnnlm, robustness, transfer, vector
from arae.metrics.syntax import FLAVOUR as PARSER
from arae.metrics.style_judge import JUDGES
from arae.metrics.base import METRICS, EvalContext, MetricValue, flavoured_name, kenlm_order, needs_lmplz

__all__ = ["METRICS", "EvalContext", "MetricValue", "flavoured_name"]


@METRICS.register("forward_ppl.kenlm")
@needs_lmplz
def _forward_ppl_kenlm(ctx: EvalContext) -> MetricValue:
    order = kenlm_order(ctx.params)
    return ngram_lm.forward_ppl(ctx.train_text, ctx.generated, order, ctx.artefact_root, ctx.generated_by_direction)


@METRICS.register("reverse_ppl.kenlm")
@needs_lmplz
def _reverse_ppl_kenlm(ctx: EvalContext) -> MetricValue:
    order = kenlm_order(ctx.params)
    return ngram_lm.reverse_ppl(ctx.reverse_lm_text, ctx.eval_text, order, ctx.workdir / f"reverse_ppl.kenlm{order}",
                                ctx.vocab_words)


METRICS.add("forward_ppl.rnnlm", rnnlm.forward_ppl)
METRICS.add("reverse_ppl.rnnlm", rnnlm.reverse_ppl)
METRICS.add("reverse_ppl.rnnlm_fixed", functools.partial(rnnlm.reverse_ppl, fixed_vocab=True))


@METRICS.register("unique_fraction")
def _unique_fraction(ctx: EvalContext) -> MetricValue:
    return diversity.unique_fraction(ctx.generated)


for _judge in JUDGES:  # transfer_acc.fasttext (the paper's kind of judge), transfer_acc.tfidf
    METRICS.add(f"transfer_acc.{_judge}", functools.partial(transfer.transfer_accuracy, flavour=_judge))
    METRICS.add(f"judge_acc.{_judge}", functools.partial(transfer.judge_accuracy, flavour=_judge))
METRICS.add("self_bleu.sacrebleu", transfer.self_bleu)
METRICS.add("ref_bleu.sacrebleu", transfer.reference_bleu)
METRICS.add("self_bleu.sacrebleu_mean", functools.partial(transfer.self_bleu, aggregation="mean"))
METRICS.add("ref_bleu.sacrebleu_mean", functools.partial(transfer.reference_bleu, aggregation="mean"))
METRICS.add("distinct_transfers", transfer.distinct_transfers)
METRICS.add("copied_source", transfer.copied_source)
METRICS.add("nli_acc", classification.nli_accuracy)
METRICS.add("swap_nll", robustness.swap_nll)
METRICS.add("path_excess", interpolation.path_excess)
METRICS.add(f"digit_coverage.{digits.CLASSIFIER}", digits.digit_coverage)
METRICS.add(f"digit_confidence.{digits.CLASSIFIER}", digits.digit_confidence)
METRICS.add("recon_nll", digits.recon_nll)
METRICS.add("pixel_error", digits.pixel_error)
METRICS.add(f"vector_match.{PARSER}", vector.match_percent)
METRICS.add(f"vector_precision.{PARSER}", vector.precision)
METRICS.add(f"vector_carriers.{PARSER}", vector.carriers)
