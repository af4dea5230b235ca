"""The README's results sections, generated from the records of one output folder (never typed in), and its
table of the latest verdict per paper claim, read back from the generated results blocks of the docs pages.

`python run_all.py --report-only --out runs/small --readme README.md` replaces the text between
`<!-- results:small -->` and `<!-- /results:small -->` (the name is the --out folder's) with a
markdown summary of that folder: what was run and where, one table per benchmark (paper number
beside ours, mean ± 95% CI over seeds), and the claims as the report judges them; between
`<!-- screenshot:small -->` markers, it puts a screenshot of the report page, taken by headless Chromium.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from arae.errors import ConfigError
from arae.io import atomic_write_text
from arae.results import (check_claims, check_targets, collect_runs, fmt, latest_runs, load_benchmark_specs, own_wall_seconds,
                          summarize, timing_means)
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.render import TEMPLATES
from reports.screenshot import browse


def _benchmark_block(name: str, spec: dict, records, cells) -> dict:
    runs = [r for r in latest_runs(records) if r.benchmark == name and r.preset == spec.get("preset")]
    cells = [c for c in cells if c.benchmark == name and c.preset == spec.get("preset")]
    by_key = {(c.row, c.metric): c for c in cells}
    metrics = spec.get("metrics", [])
    rows = []
    for row in spec.get("rows", []):
        if not any(r.row == row["name"] for r in runs):
            continue
        paper_cells = []  # each paper number once, under the label of the metric of its flavour
        for metric, value in spec.get("paper", {}).get(row["name"], {}).items():
            same = next((m for m in metrics if m["name"] == metric), None)
            if isinstance(value, (int, float)):
                paper_cells.append(f"{same['label']}: {value:g}" if same else f"{metric}: {value:g} (other protocol)")
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
    """The results of `out` between the markers named after it (`<!-- results:NAME -->`), and, where the page
    has `<!-- screenshot:NAME -->` markers, a screenshot of the report page of the same name (else the index),
    taken by headless Chromium into img/ beside the page."""
    name = out.resolve().name
    replace_block(readme, f"results:{name}", results_markdown(out))
    if f"<!-- screenshot:{name} -->" in readme.read_text(encoding="utf-8"):
        page = out / "report" / f"{readme.stem}.html"
        page = page if page.exists() else out / "report" / "index.html"
        shot = Path("img") / f"{readme.stem}-{name}.png"
        browse(page, 1280, 1400, shot=readme.parent / shot)
        replace_block(readme, f"screenshot:{name}",
                      f"![The report page {page.name} of runs/{name}, as headless Chromium shows it 1280 pixels "
                      f"wide]({shot.as_posix()})")


@dataclass(frozen=True)
class RecordedVerdict:
    """A claim's verdict as a generated results block states it (readme_results.md.j2)."""
    verdict: str    # on the paper: pass, fail, undecided, or "not comparable" (a smaller preset, substitute data)
    at_scale: str   # what those runs show at their own scale
    preset: str
    recorded: str   # the last day the runs were recorded


_BLOCK = re.compile(r"<!-- results:([\w.-]+) -->\n(.*?)<!-- /results:\1 -->", re.S)
_HEADER = re.compile(r"^\*\*.*\*\* \(`(?P<benchmark>[\w.-]+)`\), preset `(?P<preset>[\w-]+)`: .*?"
                     r"recorded (?:\S+ to )?(?P<date>\d{4}-\d\d-\d\d|\?)")
_CLAIM = re.compile(r"^- (?!target: )(?P<text>.*): \*\*(?P<verdict>pass|fail|undecided)\*\* \(.*\)$")


def recorded_verdicts(page: Path) -> dict[tuple[str, str], RecordedVerdict]:
    """(benchmark, claim text) -> its latest verdict among the page's generated results blocks: the block
    recorded last, the first on the page among those recorded the same day. A block whose runs lack a side of
    a claim (a block of other rows) did not judge it and does not count for it."""
    found: dict[tuple[str, str], RecordedVerdict] = {}
    for match in _BLOCK.finditer(page.read_text(encoding="utf-8")):
        benchmark = preset = date = None
        comparable = True
        for line in match.group(2).splitlines():
            if header := _HEADER.match(line):
                benchmark, preset, date = header["benchmark"], header["preset"], header["date"]
                comparable = True
            elif "Claims (not comparable to the paper" in line:
                comparable = False
            elif (claim := _CLAIM.match(line)) and benchmark and "a side has no value" not in line:
                key = (benchmark, claim["text"])
                if key not in found or date > found[key].recorded:
                    found[key] = RecordedVerdict(claim["verdict"] if comparable else "not comparable",
                                                 claim["verdict"], preset, date)
    return found


def verdicts_markdown(claims: list[tuple[str, str]], docs: Path, link_prefix: str) -> str:
    """One line per paper claim (benchmark, claim text): its latest recorded verdict, linked to the results of
    the benchmark's page `docs/<benchmark>.md`, or that no recorded run judged it."""
    lines = ["| benchmark | paper claim | verdict on the paper | at the scale run | runs |", "|---|---|---|---|---|"]
    for benchmark, text in claims:
        page = docs / f"{benchmark}.md"
        recorded = recorded_verdicts(page).get((benchmark, text)) if page.exists() else None
        if recorded is None:
            lines.append(f"| `{benchmark}` | {text} | no recorded run | — | — |")
            continue
        link = f"[{recorded.preset}, {recorded.recorded}]({link_prefix}{benchmark}.md#results)"
        lines.append(f"| `{benchmark}` | {text} | {recorded.verdict} | {recorded.at_scale} | {link} |")
    return "\n".join(lines)
