"""Style-transfer metrics (paper.md section 2.4). Each reads the `transfers` output: one Direction per
(source style, target style) pair, and reports the overall value with every direction in its details.

BLEU is sacrebleu's corpus BLEU with `tokenize="none", lowercase=True` on our already tokenized text,
which is what `multi-bleu.perl -lc` (the official yelp/transfer.py) computes; the signature is recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sacrebleu

from arae.metrics.base import EvalContext, MetricValue
from arae.metrics.style_judge import JUDGE, StyleJudge, style_judge


@dataclass
class Direction:
    source: int                               # style indices
    target: int
    sources: list[str]                        # real sentences of the source style
    outputs: list[str]                        # one transfer per source, same order
    references: list[list[str]] | None = None  # human rewrites per source (any number each), if any

    def name(self, styles) -> str:
        return f"{styles[self.source]}->{styles[self.target]}"


def corpus_bleu(hypotheses: list[str], references: list[list[str]]) -> tuple[float, str]:
    """(BLEU, sacrebleu signature); `references` is one list per hypothesis (multi-reference allowed)."""
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else "" for refs in references] for k in range(width)]
    bleu = sacrebleu.BLEU(tokenize="none", lowercase=True, force=True)
    return bleu.corpus_score(hypotheses, streams).score, str(bleu.get_signature())


def _per_direction(directions: list[Direction], styles, score) -> tuple[float, dict]:
    """score(list of directions) -> number, applied to all directions pooled and to each one."""
    return score(directions), {d.name(styles): score([d]) for d in directions}


def judge_for(ctx: EvalContext) -> StyleJudge:
    """The corpus's judge, built once: trained on the training split of every style, its held-out accuracy
    measured on the validation split where there is one, else on the test split."""
    c = ctx.corpus
    held_out = c.by_style["valid"] if any(c.by_style.get("valid", [])) else c.by_style["test"]
    join = lambda lists: [[" ".join(s) for s in sentences] for sentences in lists]  # noqa: E731
    return style_judge(list(c.styles), join(c.by_style["train"]), join(held_out), Path(ctx.artefact_root))


def transfer_accuracy(ctx: EvalContext) -> MetricValue:
    """Share of transfers the judge assigns to their target style."""
    directions, judge = ctx.output("transfers"), judge_for(ctx)

    def score(ds: list[Direction]) -> float:
        hits = sum(p == d.target for d in ds for p in judge.predict(d.outputs))
        return hits / sum(len(d.outputs) for d in ds)
    value, per = _per_direction(directions, judge.styles, score)
    return MetricValue(value, details={"judge": JUDGE, "per_direction": per, "judge_artefact": judge.info["artefact"],
                                       "n": sum(len(d.outputs) for d in directions)})


def judge_accuracy(ctx: EvalContext) -> MetricValue:
    """The judge's own accuracy on the real source sentences (their style is known): overall, and per
    direction on the real test sentences of its *target* style, the ceiling its transfer accuracy is read against."""
    directions, judge = ctx.output("transfers"), judge_for(ctx)
    sources = {d.source: d.sources for d in directions}
    overall = sum(judge.accuracy(s, k) * len(s) for k, s in sources.items()) / sum(map(len, sources.values()))
    per = {d.name(judge.styles): judge.accuracy(sources[d.target], d.target) for d in directions if d.target in sources}
    built = judge.info["built"]
    return MetricValue(overall, details={"judge": JUDGE, "per_direction": per, "judge_artefact": judge.info["artefact"],
                                         "held_out_accuracy": built["held_out_accuracy"],
                                         "n_held_out": built["n_held_out"], "n_train": built["n_train"]})


def self_bleu(ctx: EvalContext) -> MetricValue:
    """BLEU of the transfers against their own sources: the paper's content-preservation measure."""
    directions = ctx.output("transfers")
    signature = []

    def score(ds: list[Direction]) -> float:
        value, sig = corpus_bleu([o for d in ds for o in d.outputs], [[s] for d in ds for s in d.sources])
        signature[:] = [sig]
        return value
    value, per = _per_direction(directions, ctx.corpus.styles, score)
    return MetricValue(value, details={"per_direction": per, "signature": signature[0], "references": "the source"})


def reference_bleu(ctx: EvalContext) -> MetricValue:
    """Multi-reference BLEU against human rewrites, for the directions that have them."""
    with_refs = [d for d in ctx.output("transfers") if d.references]
    if not with_refs:
        return MetricValue.missing("no human references for these test sentences")
    signature = []

    def score(ds: list[Direction]) -> float:
        value, sig = corpus_bleu([o for d in ds for o in d.outputs], [r for d in ds for r in d.references])
        signature[:] = [sig]
        return value
    value, per = _per_direction(with_refs, ctx.corpus.styles, score)
    n_refs = sorted({len(r) for d in with_refs for r in d.references})
    return MetricValue(value, details={"per_direction": per, "signature": signature[0],
                                       "references_per_sentence": n_refs})


def distinct_transfers(ctx: EvalContext) -> MetricValue:
    """Distinct transfers / transfers, per direction: a model that maps many sources to one output collapses."""
    directions = ctx.output("transfers")
    value, per = _per_direction(directions, ctx.corpus.styles,
                                lambda ds: len({o for d in ds for o in d.outputs}) / sum(len(d.outputs) for d in ds))
    return MetricValue(value, details={"per_direction": per})


def copied_source(ctx: EvalContext) -> MetricValue:
    """Share of transfers identical to their source: the model did not change the sentence at all."""
    directions = ctx.output("transfers")
    value, per = _per_direction(directions, ctx.corpus.styles, lambda ds: sum(
        o == s for d in ds for o, s in zip(d.outputs, d.sources)) / sum(len(d.outputs) for d in ds))
    return MetricValue(value, details={"per_direction": per})
