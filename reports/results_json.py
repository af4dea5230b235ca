"""`report/results.json`: every cell of every results table as data, for machines (the schema is
reports/results.schema.json, documented in docs/records.md). Like the pages, it is built from the result
records alone."""
from __future__ import annotations

from arae.results import CellStat, check_claims

SCHEMA_ID = "arae-results/1"


def results_document(specs: dict[str, dict], stats: list[CellStat], paper_number) -> dict:
    """{"schema", "cells": [...], "claims": [...]}: a cell per (benchmark, version, preset, row, metric flavour)
    with its mean, 95% interval, n, per-seed values and missing seeds, the paper's number and the verdicts of
    the claims that read it."""
    claims = []
    for name, spec in specs.items():
        for version, preset in sorted({(c.version, c.preset) for c in stats if c.benchmark == name}, key=str):
            group = [c for c in stats if (c.benchmark, c.version, c.preset) == (name, version, preset)]
            claims += [{"benchmark": name, "version": version, "preset": preset, "text": r.text, "metric": r.metric,
                        "better": r.better, "worse": r.worse, "verdict": r.verdict, "at_scale": r.at_scale,
                        "why": r.why} for r in check_claims(spec, group)]
    cells = []
    for c in stats:
        paper_row = (specs.get(c.benchmark, {}).get("paper") or {}).get(c.row, {})
        paper, flavour = paper_number(paper_row, c.metric)
        same_flavour = paper is not None and paper_row.get(c.metric) is not None
        seeds = [seed for seed, _ in c.rests_on] if len(c.rests_on) == len(c.values) else [None] * len(c.values)
        cells.append({
            "benchmark": c.benchmark, "version": c.version, "preset": c.preset, "row": c.row, "metric": c.metric,
            "mean": c.mean, "ci95": c.ci95, "interval": list(c.interval) if c.interval else None, "n": c.n,
            "per_seed": [{"seed": s, "value": v} for s, v in zip(seeds, c.values)],
            "missing": [{"seed": s, "reason": why} for s, why in c.missing],
            "rests_on": c.rests_on_text,
            "paper": paper, "paper_flavour": flavour, "same_flavour_as_paper": same_flavour,
            "delta": c.mean - paper if same_flavour and c.mean is not None else None,
            "verdicts": [{"text": k["text"], "verdict": k["verdict"], "at_scale": k["at_scale"]} for k in claims
                         if (k["benchmark"], k["version"], k["preset"], k["metric"]) ==
                         (c.benchmark, c.version, c.preset, c.metric) and c.row in (k["better"], k["worse"])]})
    return {"schema": SCHEMA_ID, "cells": cells, "claims": claims}
