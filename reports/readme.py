"""The README's results sections, generated from the records of one output folder (never typed in).

`python run_all.py --report-only --out runs/small --readme README.md` replaces the text between
`<!-- results:small -->` and `<!-- /results:small -->` (the name is the --out folder's) with a
markdown summary of that folder: what was run and where, one table per benchmark (paper number
beside ours, mean ± 95% CI over seeds), and the claims as the report judges them.
"""
from __future__ import annotations

import re
from pathlib import Path

from arae.errors import ConfigError
from arae.io import atomic_write_text
from arae.results import (check_claims, check_targets, collect_runs, fmt, latest_runs, load_benchmark_specs, own_wall_seconds,
                          summarize, timing_means)
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.render import TEMPLATES, paper_number


def _benchmark_block(name: str, spec: dict, records, cells) -> dict:
    runs = [r for r in latest_runs(records) if r.benchmark == name and r.preset == spec.get("preset")]
    cells = [c for c in cells if c.benchmark == name and c.preset == spec.get("preset")]
    by_key = {(c.row, c.metric): c for c in cells}
    metrics = spec.get("metrics", [])
    rows = []
    for row in spec.get("rows", []):
        if not any(r.row == row["name"] for r in runs):
            continue
        paper_cells = []
        for m in metrics:
            value, flavour = paper_number(spec.get("paper", {}).get(row["name"], {}), m["name"])
            if value is not None:
                paper_cells.append(f"{m['label']}: {value:g}" + (f" ({flavour})" if flavour else ""))
        mine = [r for r in runs if r.row == row["name"]]
        seeds = sum(r.state == "done" for r in mine)
        shown = []
        for m in metrics:
            c = by_key.get((row["name"], m["name"]))
            if row.get("metrics") and m["name"] not in row["metrics"]:
                shown.append("n/a")
                continue
            if c is None or c.mean is None:
                shown.append("missing")
                continue
            text = fmt(c.mean) + (f" ± {fmt(c.ci95)}" if c.ci95 is not None else "")
            rests_on = c.rests_on_text.replace("|", "/")
            shown.append(text + (f" ({rests_on})" if rests_on else "") + (f" n={c.n}" if c.n != seeds else ""))
        reused = any((r.result or {}).get("timing", {}).get("training_reused_from") for r in mine)
        rows.append({"label": row["label"] + (" (training reused)" if reused else ""),
                     "paper": "; ".join(paper_cells) or "—", "cells": shown, "seeds": seeds,
                     **{k: fmt(v) for k, v in timing_means(mine).items()}})
    envs = {(r.env.get("cpu"), r.env.get("device"), r.env.get("threads"), r.env.get("torch")) for r in runs if r.env}
    data = next((r.result.get("data") for r in runs if r.state == "done" and r.result), {}) or {}
    dates = sorted(r.updated[:10] for r in runs if r.updated)
    return {"name": name, "title": spec.get("title", name), "preset": spec.get("preset"),
            "command": spec.get("command", ""), "metrics": [m["label"] for m in metrics], "rows": rows,
            "claims": check_claims(spec, cells), "targets": check_targets(spec, cells),
            "substitute": data.get("substitute"),
            "machines": [f"{cpu}, {dev}, {threads} thread(s), torch {torch}" for cpu, dev, threads, torch in sorted(envs, key=str)],
            "dates": f"{dates[0]} to {dates[-1]}" if dates and dates[0] != dates[-1] else (dates[0] if dates else "?"),
            "total_wall": fmt(sum(own_wall_seconds(r.result.get("timing") or {}) for r in runs
                                  if r.state == "done" and r.result) / 60),
            "n_done": sum(r.state == "done" for r in runs), "n_runs": len(runs),
            "has_paper": bool(spec.get("paper")), "has_training": any(r["sents_per_sec"] != "—" for r in rows)}


def results_markdown(out: Path) -> str:
    records, specs = collect_runs(out), load_benchmark_specs(out)
    cells = summarize(records, specs)
    blocks = [_benchmark_block(name, spec, records, cells) for name, spec in sorted(specs.items())]
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, trim_blocks=True,  # markdown, not HTML
                      lstrip_blocks=True, undefined=StrictUndefined)
    return env.get_template("readme_results.md.j2").render(blocks=blocks)


def replace_block(readme: Path, name: str, text: str) -> None:
    """Replace the text between `<!-- NAME -->` and `<!-- /NAME -->`; the markers must already be there."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    content = readme.read_text(encoding="utf-8")
    if start not in content or end not in content:
        raise ConfigError(f"{readme}: no '{start}' ... '{end}' markers to fill; add them where the table belongs")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    block = f"{start}\n{text.strip()}\n{end}"
    atomic_write_text(readme, pattern.sub(lambda _: block, content, count=1))


def update_readme(readme: Path, out: Path) -> None:
    """The results of `out` between the markers named after it (`<!-- results:NAME -->`)."""
    replace_block(readme, f"results:{out.resolve().name}", results_markdown(out))
