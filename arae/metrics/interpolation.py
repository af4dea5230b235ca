"""How smoothly a model's decodes change along a line between two codes."""
from __future__ import annotations

from statistics import fmean

from arae.metrics.base import EvalContext, MetricValue


def word_edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance over words (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def path_excess(ctx: EvalContext) -> MetricValue:
    """Per path: the word edit distances between consecutive decodes, summed, over the edit distance between
    its two ends; averaged over paths whose ends decode differently. 1 = every step moves straight towards the
    end sentence; more = detours through unrelated sentences. Paths whose ends decode alike are counted apart."""
    paths = ctx.output("paths")
    ratios, steps, alike = [], [], 0
    for path in paths:
        moves = [word_edit_distance(path[i], path[i + 1]) for i in range(len(path) - 1)]
        steps += moves
        direct = word_edit_distance(path[0], path[-1])
        if direct == 0:
            alike += 1
        else:
            ratios.append(sum(moves) / direct)
    details = {"n_paths": len(paths), "ends_alike": alike, "mean_step_edit": fmean(steps) if steps else None}
    if not ratios:
        return MetricValue.missing("every path decodes its two ends to the same sentence", **details)
    return MetricValue(fmean(ratios), details=details)
