"""Style-transfer metrics (docs/paper.md). Each reads the `transfers` output: one Direction per
(source style, target style) pair, and reports the overall value with every direction in its details.

BLEU is sacrebleu's corpus BLEU with `tokenize="none", lowercase=True` on our already tokenized text,
which is what `multi-bleu.perl -lc` (the official yelp/transfer.py) computes; the signature is recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sacrebleu

from arae.metrics.base import EvalContext, MetricValue
from arae.metrics.style_judge import StyleJudge, style_judge


@dataclass
class Direction:
    source: int                               # style indices
    target: int
    sources: list[str]                        # real sentences of the source style
    outputs: list[str]                        # one transfer per source, same order
    references: list[list[str]] | None = None  # human rewrites per source (any number each), if any
    seen_sources: list[str] | None = None     # the sources through the model's vocabulary (OOV as <unk>)

    def name(self, styles) -> str:
        return f"{styles[self.source]}->{styles[self.target]}"

    @property
    def compared_sources(self) -> list[str]:
        """What self-BLEU and copying compare the outputs with: the sources as the model saw them, where
        known (the official BLEU had <unk> on both sides), else the sources themselves."""
        return self.seen_sources or self.sources


def corpus_bleu(hypotheses: list[str], references: list[list[str]]) -> tuple[float, str]:
    """(BLEU, sacrebleu signature); `references` is one list per hypothesis (multi-reference allowed)."""
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else "" for refs in references] for k in range(width)]
    bleu = sacrebleu.BLEU(tokenize="none", lowercase=True, force=True)
    return bleu.corpus_score(hypotheses, streams).score, str(bleu.get_signature())


def _per_direction(directions: list[Direction], styles, score) -> tuple[float, dict]:
    """score(list of directions) -> number, applied to all directions pooled and to each one."""
    return score(directions), {d.name(styles): score([d]) for d in directions}


def judge_for(ctx: EvalContext, flavour: str) -> StyleJudge:
    """The corpus's judge, built once: trained on the whole training split of every style (not the capped one a
    preset trains on), its held-out accuracy measured on the validation split where there is one, else on the
    test split."""
    c = ctx.corpus
    held_out = c.by_style["valid"] if any(c.by_style.get("valid", [])) else c.by_style["test"]
    join = lambda lists: [[" ".join(s) for s in sentences] for sentences in lists]  # noqa: E731
    return style_judge(flavour, list(c.styles), join(c.full_train or c.by_style["train"]), join(held_out),
                       Path(ctx.artefact_root))


def training_overlap(corpus, sources: list[list[str]]) -> list[str]:
    """Warnings, with counts, for source sentences (one list per style) that the judges or the forward LM
    learnt from: their transfers are then judged and scored by models that have seen them (a PPL far too
    low, an accuracy too high)."""
    judged = {" ".join(s) for style in (corpus.full_train or corpus.by_style["train"]) for s in style}
    modelled = {" ".join(s) for s in corpus.train}
    n = sum(map(len, sources))
    in_judge = sum(s in judged for style in sources for s in style)
    in_lm = sum(s in modelled for style in sources for s in style)
    counts = {"the judges'": in_judge, "the forward LM's": in_lm}
    return [f"{count:,} of {n:,} source sentences are in {whose} training text" for whose, count in counts.items() if count]


def _judge_record(judge: StyleJudge) -> tuple[dict, str]:
    """The judge's details for every metric that uses it, and the sentence of what the metric rests on."""
    built = judge.info["built"]
    details = {"judge": judge.flavour, "judge_artefact": judge.info["artefact"], "judge_key": judge.info["key"],
               "held_out_accuracy": built["held_out_accuracy"], "n_held_out": built["n_held_out"],
               "n_train": built["n_train"]}
    accuracy = built["held_out_accuracy"]
    shown = f"{accuracy:.1%}" if accuracy is not None else "not measured"
    return details, f"{judge.flavour} judge: {shown} on {built['n_held_out']:,} held-out sentences"


def transfer_accuracy(ctx: EvalContext, flavour: str) -> MetricValue:
    """Share of transfers the judge assigns to their target style."""
    directions, judge = ctx.output("transfers"), judge_for(ctx, flavour)
    hits = {id(d): sum(p == d.target for p in judge.predict(d.outputs)) for d in directions}
    value, per = _per_direction(directions, judge.styles,
                                lambda ds: sum(hits[id(d)] for d in ds) / sum(len(d.outputs) for d in ds))
    details, rests_on = _judge_record(judge)
    return MetricValue(value, details={**details, "per_direction": per, "n": sum(len(d.outputs) for d in directions)},
                       rests_on=rests_on)


def judge_accuracy(ctx: EvalContext, flavour: str) -> MetricValue:
    """The judge's own accuracy on the real source sentences (their style is known): overall, and per
    direction on the real test sentences of its *target* style, the ceiling its transfer accuracy is read against."""
    directions, judge = ctx.output("transfers"), judge_for(ctx, flavour)
    sources = {d.source: d.sources for d in directions}
    overall = sum(judge.accuracy(s, k) * len(s) for k, s in sources.items()) / sum(map(len, sources.values()))
    per = {d.name(judge.styles): judge.accuracy(sources[d.target], d.target) for d in directions if d.target in sources}
    details, rests_on = _judge_record(judge)
    return MetricValue(overall, details={**details, "per_direction": per}, rests_on=rests_on)


AGGREGATIONS = {"pooled": "one corpus BLEU over the transfers of every direction pooled",
                "mean": "the mean of each direction's corpus BLEU (as DualRL and later papers report)"}


def _bleu(ctx: EvalContext, directions: list[Direction], references_of, aggregation: str, **details) -> MetricValue:
    """Corpus BLEU over `directions`, pooled or the mean of the directions', and per direction;
    references_of(direction) -> one list of references per output."""
    def score(ds: list[Direction]) -> tuple[float, str]:
        return corpus_bleu([o for d in ds for o in d.outputs], [r for d in ds for r in references_of(d)])
    pooled, signature = score(directions)
    per = {d.name(ctx.corpus.styles): score([d])[0] for d in directions}
    value = pooled if aggregation == "pooled" else sum(per.values()) / len(per)
    return MetricValue(value, details={"per_direction": per, "signature": signature, "aggregation": aggregation,
                                       "aggregation_means": AGGREGATIONS[aggregation], **details})


def self_bleu(ctx: EvalContext, aggregation: str = "pooled") -> MetricValue:
    """BLEU of the transfers against their own sources: the paper's content-preservation measure."""
    return _bleu(ctx, ctx.output("transfers"), lambda d: [[s] for s in d.compared_sources], aggregation,
                 references="the source, out-of-vocabulary words as <unk> where the model's vocabulary is known")


def reference_bleu(ctx: EvalContext, aggregation: str = "pooled") -> MetricValue:
    """Multi-reference BLEU against human rewrites, for the directions that have them."""
    with_refs = [d for d in ctx.output("transfers") if d.references]
    if not with_refs:
        return MetricValue.missing("no human references for these test sentences")
    return _bleu(ctx, with_refs, lambda d: d.references, aggregation,
                 references_per_sentence=sorted({len(r) for d in with_refs for r in d.references}))


# A direction whose distinct transfers are fewer than this share of its transfers is flagged as collapsed: on the
# Yelp test set the human rewrites are at least 99.3% distinct and the published systems at least 74%, a collapsed
# model maps most sources onto a handful of outputs, and every other metric of such a row (a low PPL) misleads.
COLLAPSE_BELOW = 0.5


def distinct_transfers(ctx: EvalContext) -> MetricValue:
    """Distinct transfers / transfers, per direction: a model that maps many sources to one output collapses."""
    directions = ctx.output("transfers")
    value, per = _per_direction(directions, ctx.corpus.styles,
                                lambda ds: len({o for d in ds for o in d.outputs}) / sum(len(d.outputs) for d in ds))
    collapsed = {name: share for name, share in per.items() if share < COLLAPSE_BELOW}
    rests_on = ("warning: collapsed: " + ", ".join(f"{name} {share:.1%} distinct" for name, share in collapsed.items())
                + f" (below {COLLAPSE_BELOW:.0%}); its other metrics describe a handful of sentences"
                if collapsed else "")
    return MetricValue(value, details={"per_direction": per, "collapsed_directions": sorted(collapsed),
                                       "collapse_below": COLLAPSE_BELOW}, rests_on=rests_on)


def copied_source(ctx: EvalContext) -> MetricValue:
    """Share of transfers identical to their source: the model did not change the sentence at all."""
    directions = ctx.output("transfers")
    value, per = _per_direction(directions, ctx.corpus.styles, lambda ds: sum(
        o == s for d in ds for o, s in zip(d.outputs, d.compared_sources)) / sum(len(d.outputs) for d in ds))
    return MetricValue(value, details={"per_direction": per})
