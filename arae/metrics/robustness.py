"""Robustness of reconstruction to corrupted input (docs/paper.md)."""
from __future__ import annotations

from statistics import fmean

from arae.errors import MetricNotComputable
from arae.metrics.base import EvalContext, MetricValue


def swap_nll(ctx: EvalContext) -> MetricValue:
    """NLL of the original sentence from the code of its version with ctx.params["swaps"] word swaps, summed
    over the sentence's tokens and averaged over sentences (the paper's "NLL averaged over sentences")."""
    k, by_k = ctx.params.get("swaps"), ctx.output("swap_nll")
    if k not in by_k:
        raise MetricNotComputable(f"no reconstructions with {k} swaps (have: {sorted(by_k)})")
    tokens = ctx.output("tokens")
    return MetricValue(fmean(by_k[k]), details={"swaps": k, "n_sentences": len(by_k[k]),
                                                "nll_per_token": sum(by_k[k]) / sum(tokens)})
