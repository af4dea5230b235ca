"""Render `<out>/report/` (index.html, <benchmark>.html, summary.md) from result records only.

Everything here is formatting: numbers come from arae.results, so the HTML page, the markdown
summary and summary.csv always agree. Templates autoescape, so text from data or models
(samples, errors, notes) can never inject markup.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from statistics import fmean

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from arae.io import atomic_write_text, read_jsonl
from arae.results import (MIN_SEEDS, fmt, timing_means, CellStat, RunRecord, check_claims, check_targets, collect_runs,
                          latest_runs, load_benchmark_specs, summarize, write_summary_csv)
from reports.figures import curves_png, image_grid_png, tradeoff_png
from reports.results_json import results_document

TEMPLATES = Path(__file__).parent / "templates"
ENV_FIELDS = ("git_sha", "python", "torch", "kenlm", "sacrebleu", "platform", "cpu", "device",
              "threads")
N_SAMPLES = 10
ARROWS = {"lower": "↓", "higher": "↑"}


def _number(x) -> float | None:
    ok = isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
    return float(x) if ok else None


def paper_number(paper_row: dict, metric: str) -> tuple[float | None, str | None]:
    """The paper's number for our flavoured `metric` (reverse_ppl.kenlm5) and its flavour: the same
    metric under any flavour (reverse_ppl.rnnlm) is shown, but a Δ only where the flavours match. A metric
    measured at params (nli_acc@0.222) matches only at the same params."""
    def parts(name: str) -> tuple[str, str, str]:
        flavoured, _, at = name.partition("@")
        base, _, flavour = flavoured.partition(".")
        return base, flavour, at

    base, _, at = parts(metric)
    for name, value in paper_row.items():
        their_base, flavour, their_at = parts(name)
        if name == metric or (their_base, their_at) == (base, at):
            return _number(value), flavour
    return None, None


def _cell(stat: CellStat | None, metric: dict, paper_row: dict, footnotes: list[str]) -> dict:
    """One row x metric cell; a seed without a value gets a numbered footnote with its reason."""
    reasons = [f"seed {seed}: {why}" for seed, why in stat.missing] if stat else ["no runs"]
    mean = stat.mean if stat else None
    paper, paper_flavour = paper_number(paper_row, metric["name"])
    same_flavour = paper is not None and paper_row.get(metric["name"]) is not None
    delta = mean - paper if mean is not None and same_flavour else None
    tone = ""
    if delta and metric["direction"] in ARROWS:
        tone = "better" if (delta < 0) == (metric["direction"] == "lower") else "worse"
    if reasons:
        footnotes.append("; ".join(reasons))
    ci = stat.ci95 if stat else None
    return {"metric": metric["label"], "paper": "—" if paper is None else f"{paper:g}",
            "other_protocol": f"other protocol: {paper_flavour}" if paper is not None and not same_flavour else "",
            "missing": mean is None, "n": stat.n if stat else 0,
            "ours": fmt(mean) + (f" ± {fmt(ci)}" if ci is not None else "")
            + (f" ({stat.n} seeds: wide)" if ci is not None and stat.n < 3 else ""),
            "delta": "—" if delta is None else fmt(delta, signed=True), "tone": tone,
            "reason": "; ".join(reasons), "note": len(footnotes) if reasons else None,
            "rests_on": stat.rests_on_text if stat else "",
            "per_seed": _per_seed(stat)}


def _per_seed(stat: CellStat | None) -> str:
    """The values behind a mean, seed by seed (opened from the cell)."""
    if not stat or not stat.values:
        return ""
    seeds = [seed for seed, _ in stat.rests_on] if len(stat.rests_on) == len(stat.values) else [None] * len(stat.values)
    return "; ".join(f"seed {seed}: {fmt(v)}" if seed is not None else fmt(v) for seed, v in zip(seeds, stat.values))


def _table(spec: dict, group: tuple, cells: list[CellStat], rows: list[dict], metrics: list[dict],
           footnotes: list[str]) -> dict:
    """The paper's table for one (version, preset): paper | ours | delta, plus its claims."""
    by_key = {(c.row, c.metric): c for c in cells}
    paper = spec.get("paper", {})
    body = [{"label": r["label"], "short": r.get("short", ""), "cells": [
        _cell(by_key.get((r["name"], m["name"])), m, paper.get(r["name"], {}), footnotes)
        if not r["metrics"] or m["name"] in r["metrics"] else {"metric": m["label"], "not_measured": True}
        for m in metrics]}
        for r in rows]
    claims = [{"text": c.text, "verdict": c.verdict, "at_scale": c.at_scale, "why": c.why}
              for c in check_claims(spec, cells)]
    targets = [{"text": t.text, "verdict": t.verdict, "why": t.why} for t in check_targets(spec, cells)]
    comparable = spec.get("comparable_to_paper") is True
    return {"version": group[0], "preset": group[1], "rows": body, "claims": claims, "targets": targets,
            "comparable": comparable, "passed": sum(c["verdict"] == "pass" for c in claims),
            "other_protocol": any(c.get("other_protocol") for r in body for c in r["cells"])}


def _logged(runs: list[RunRecord]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Every logged scalar of the given runs: {scalar: {"seed k": [(step, value)]}}."""
    series: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for run in sorted(runs, key=lambda r: r.seed_index or 0):
        try:
            lines = read_jsonl(run.run_dir / "scalars.jsonl")
        except OSError:
            continue
        for i, line in enumerate(x for x in lines if isinstance(x, dict)):
            step = _number(line.get("step"))
            for key, value in line.items():
                if key not in ("step", "seconds") and _number(value) is not None:
                    series.setdefault(key, {}).setdefault(f"seed {run.seed_index}", []).append(
                        (i if step is None else step, float(value)))
    return series


def _last_logged(series: dict[str, dict[str, list[tuple[float, float]]]]) -> str:
    """Each scalar's last logged value, averaged over seeds: where training ended (e.g. a VAE's KL)."""
    return ", ".join(f"{key} {fmt(fmean(points[-1][1] for points in by_seed.values()))}"
                     for key, by_seed in sorted(series.items()))


def _tradeoffs(spec: dict, rows: list[dict], metrics: list[dict], cells: list[CellStat]) -> list[dict]:
    """One scatter per (x, y) metric pair the spec names: each row's mean with its 95% interval, and the
    paper's number for the row (any flavour, drawn hollow) where it has both."""
    labels = {m["name"]: m["label"] for m in metrics}
    by_key = {(c.row, c.metric): c for c in cells}
    figures = []
    for x, y in spec.get("tradeoffs", []):
        points = []
        for r in rows:
            cx, cy = by_key.get((r["name"], x)), by_key.get((r["name"], y))
            if not cx or not cy or cx.mean is None or cy.mean is None:
                continue
            paper_row = (spec.get("paper") or {}).get(r["name"], {})
            px, py = paper_number(paper_row, x)[0], paper_number(paper_row, y)[0]
            points.append({"label": r["label"], "x": cx.mean, "y": cy.mean, "x_ci": cx.ci95, "y_ci": cy.ci95,
                           "paper": (px, py) if px is not None and py is not None else None})
        if points:
            title = f"{labels.get(y, y)} against {labels.get(x, x)}"
            figures.append({"title": title, "png": tradeoff_png(points, labels.get(x, x), labels.get(y, y), title)})
    return figures


def _previews(rows: list[dict], runs: list[RunRecord]) -> list[dict]:
    """Every preview the rows' runs recorded (result "previews", arae/schema.py), grouped by section in
    first-seen order and drawn by kind: sentences and images of each row's seed 0; side-by-side outputs of
    every row's seed 0 for the same inputs; curves of every done seed, one line per seed."""
    sections: dict[str, dict] = {}
    for row in rows:
        done = sorted((r for r in runs if r.row == row["name"] and r.state == "done"), key=lambda r: r.seed_index or 0)
        for run in done:
            for preview in (run.result or {}).get("previews") or []:
                kind = preview.get("kind") if isinstance(preview, dict) else None
                if kind not in DRAW or (kind != "curves" and run.seed_index != 0):
                    continue
                section = sections.setdefault(str(preview.get("section", "")),
                                              {"title": str(preview.get("section", "")), "blocks": {}, "seed0": False})
                section["seed0"] |= kind != "curves"
                DRAW[kind](section["blocks"], row["label"], preview, run)
    for section in sections.values():  # a row that shows something elsewhere in the section but not here says why
        shown = {b["row"] for b in section["blocks"].values() if b.get("row")}
        if shown and any(b["kind"] in ("sentences", "image_grid") for b in section["blocks"].values()):
            for row in rows:
                if row["label"] not in shown:
                    section["blocks"][("none", row["label"])] = {"kind": "none", "row": row["label"], "heading": row["label"],
                                                                "why": _why_nothing(row["name"], runs)}
        order = {row["label"]: i for i, row in enumerate(rows)}
        section["blocks"] = sorted((_finish_block(b) for b in section["blocks"].values()),
                                   key=lambda b: order.get(b.get("row"), -1))
    return list(sections.values())


def _why_nothing(row: str, runs: list[RunRecord]) -> str:
    seed0 = next((r for r in runs if r.row == row and r.seed_index == 0), None)
    if seed0 is None:
        return "there is no seed 0 run"
    return f"seed 0 is {seed0.state}" if seed0.state != "done" else "seed 0 recorded nothing for this section"


def _sentences(blocks: dict, label: str, preview: dict, run: RunRecord) -> None:
    title = str(preview.get("title") or "")
    blocks[("sentences", label, title)] = {"kind": "sentences", "row": label,
                                           "heading": label + (f": {title}" if title else ""),
                                           "items": [str(s) for s in preview.get("items") or []][:N_SAMPLES]}


def _side_by_side(blocks: dict, label: str, preview: dict, run: RunRecord) -> None:
    block = blocks.setdefault(("side_by_side", str(preview.get("title", ""))), {
        "kind": "side_by_side", "heading": str(preview.get("title", "")), "rows": [], "by_key": {}})
    for item in preview.get("items") or []:
        if isinstance(item, dict) and "key" in item:
            entry = block["by_key"].setdefault(item["key"], {"source": str(item.get("source", "")), "outputs": {}})
            entry["outputs"][label] = str(item.get("output", ""))
            if label not in block["rows"]:
                block["rows"].append(label)


def _image_grid(blocks: dict, label: str, preview: dict, run: RunRecord) -> None:
    import numpy as np
    title = str(preview.get("title", ""))
    try:
        png, error = image_grid_png(np.load(run.run_dir / str(preview["file"]))), ""
    except (OSError, ValueError, KeyError, TypeError) as err:
        png, error = "", f"cannot read {preview.get('file')}: {err}"
    blocks[("image_grid", label, title)] = {"kind": "image_grid", "row": label, "heading": label, "title": title,
                                        "png": png, "error": error}


def _curves(blocks: dict, label: str, preview: dict, run: RunRecord) -> None:
    title = str(preview.get("title", ""))
    block = blocks.setdefault(("curves", label, title), {"kind": "curves", "row": label, "title": title,
                                                         "heading": label + (f": {title}" if title else ""),
                                                         "x_label": str(preview.get("x_label", "")), "series": {}})
    for panel, points in (preview.get("series") or {}).items() if isinstance(preview.get("series"), dict) else []:
        good = [(float(p[0]), float(p[1])) for p in points if isinstance(p, list) and len(p) == 2
                and _number(p[0]) is not None and _number(p[1]) is not None]
        if good:
            block["series"].setdefault(panel, {})[f"seed {run.seed_index}"] = good


DRAW = {"sentences": _sentences, "side_by_side": _side_by_side, "image_grid": _image_grid, "curves": _curves}


def _finish_block(block: dict) -> dict:
    if block["kind"] == "side_by_side":
        block["examples"] = list(block.pop("by_key").values())  # in the order the tasks listed them
    if block["kind"] == "curves":
        block["png"] = curves_png(block.pop("series"), block["heading"], block["x_label"]) if block["series"] else ""
    return block


def _data_note(data: dict) -> str:
    """One readable sentence per distinct data description: what was used, how big, what was dropped."""
    sizes = ", ".join(f"{k} {v:,}" for k, v in (data.get("sizes") or {}).items() if v)
    dropped = sum((data.get("dropped_longer_than_maxlen") or {}).values())
    pairs = ", ".join(f"{k} {v:,}" for k, v in (data.get("pairs") or {}).items() if v)
    parts = [f"corpus {data.get('name', '?')}: {sizes or 'sizes not recorded'} {data.get('unit', 'sentences')}",
             f"sentence pairs: {pairs}" if pairs else "",
             f"{dropped:,} longer than {data.get('maxlen')} tokens dropped" if dropped else "",
             f"vocabulary {data['vocab_size']:,} (with 4 specials)" if data.get("vocab_size") else "",
             f"your folder {data['user_corpus']}" if data.get("user_corpus") else
             f"substitute: {data['substitute']}" if data.get("substitute") else "official splits"]
    return "; ".join(p for p in parts if p)


def _data_line(runs: list[RunRecord]) -> str:
    """One data line per benchmark: what every run read, then what differs, row by row (the semi-supervised AE
    keeps sentences that the ARAE row's length filter drops)."""
    by_note: dict[str, list[str]] = {}
    for run in runs:
        if (run.result or {}).get("data"):
            rows = by_note.setdefault(_data_note(run.result["data"]), [])
            rows += [run.row] if run.row not in rows else []
    if len(by_note) < 2:
        return next(iter(by_note), "")
    parts = {note: note.split("; ") for note in by_note}
    common = [p for p in next(iter(parts.values())) if all(p in ps for ps in parts.values())]
    differing = [f"{'row' if len(rows) == 1 else 'rows'} {', '.join(rows)}: "
                 f"{', '.join(p for p in parts[note] if p not in common)}" for note, rows in by_note.items()]
    return "; ".join(common + differing)


def _settings(keys: list[str], runs: list[RunRecord]) -> str:
    """"key = value" for each config key a row asks to show, every distinct value its done runs used."""
    parts = []
    for key in keys:
        values = []
        for run in runs:
            node = run.run.get("config", {})
            for part in str(key).split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None and str(node) not in values:
                values.append(str(node))
        parts.append(f"{key} = {' / '.join(values) if values else 'not recorded'}")
    return "; ".join(parts)


def _row_details(row: dict, runs: list[RunRecord]) -> dict:
    """Timing over done seeds and the training curves of every done seed."""
    done = [r for r in runs if r.row == row["name"] and r.state == "done"]
    timing = [r.result.get("timing") or {} for r in done]
    reused = sorted({t["training_reused_from"].split("/")[1] for t in timing if t.get("training_reused_from")})
    trained_here = [r for r, t in zip(done, timing) if not t.get("training_reused_from")]  # no duplicate curves
    logged = _logged(trained_here)
    return {**row, "n_done": len(done), "curves": curves_png(logged, row["label"]) if logged else "",
            "last_logged": _last_logged(logged),
            **{k: fmt(v) for k, v in timing_means(done).items()},
            "reused": f"training reused from the {', '.join(reused)} row" if reused else "",
            "settings": _settings(row.get("shows") or [], done)}


def _notes_of(row: str, runs: list[RunRecord]) -> str:
    """The caveats the row's done runs recorded (e.g. fewer samples than asked), each once."""
    notes = [str(n) for r in runs if r.row == row and r.state == "done" for n in (r.result or {}).get("notes") or []]
    return "; ".join(dict.fromkeys(notes))


def _parts(rows: list[dict], metrics: list[dict], runs: list[RunRecord]) -> list[dict]:
    """Per metric that records its value per part (details.per_direction: each direction of a transfer), one
    table: a row per row, a column per part, the mean over the row's done seeds."""
    tables = []
    for m in metrics:
        values: dict[str, dict[str, list[float]]] = {}
        for run in runs:
            if run.state != "done":
                continue
            record = ((run.result or {}).get("metrics") or {}).get(m["name"]) or {}
            for part, value in ((record.get("details") or {}).get("per_direction") or {}).items():
                if _number(value) is not None:
                    values.setdefault(run.row, {}).setdefault(part, []).append(float(value))
        parts = list(dict.fromkeys(p for by_part in values.values() for p in by_part))
        if len(parts) < 2:
            continue
        cell = lambda row, part: fmt(fmean(values[row][part])) if part in values.get(row, {}) else "—"  # noqa: E731
        tables.append({"metric": m["label"], "name": m["name"], "arrow": m["arrow"], "parts": parts,
                       "rows": [{"label": r["label"], "cells": [cell(r["name"], p) for p in parts]}
                                for r in rows if r["name"] in values],
                       "matrices": _matrices(parts, [r for r in rows if r["name"] in values], cell)})
    return tables


def _matrices(parts: list[str], rows: list[dict], cell) -> list[dict]:
    """With more than two styles, each row's parts named "source->target" as a source x target matrix."""
    pairs = [p.split("->") for p in parts]
    styles = list(dict.fromkeys(s for pair in pairs for s in pair))
    if len(styles) <= 2 or any(len(pair) != 2 for pair in pairs):
        return []
    return [{"label": r["label"], "styles": styles,
             "cells": [[cell(r["name"], f"{a}->{b}") if a != b else "" for b in styles] for a in styles]}
            for r in rows]


def _with_values(metrics: list[dict], stats: list[CellStat], paper: dict) -> tuple[list[dict], list[str]]:
    """The metric columns that hold something: a column with no value in any run and no paper number is left
    out (once some column has a value), and said so with its reason (a user's styles have no references)."""
    if not any(c.mean is not None for c in stats):
        return metrics, []
    kept, left_out = [], []
    for m in metrics:
        cells = [c for c in stats if c.metric == m["name"]]
        has_paper = any(paper_number(row, m["name"])[0] is not None for row in paper.values())
        if any(c.mean is not None for c in cells) or has_paper:
            kept.append(m)
        else:
            reasons = list(dict.fromkeys(why for c in cells for _, why in c.missing)) or ["not computed"]
            left_out.append(f"{m['label']} ({m['name']}): {'; '.join(reasons)}")
    return kept, left_out


def _benchmark_view(name: str, spec: dict, records: list[RunRecord], stats: list[CellStat],
                    out: Path) -> dict:
    current = latest_runs([r for r in records if r.benchmark == name])
    stats = [c for c in stats if c.benchmark == name]
    rows = [{"name": r["name"], "label": r.get("label", r["name"]), "note": r.get("note", ""),
             "metrics": r.get("metrics") or [], "shows": r.get("shows") or []} for r in spec.get("rows", [])]
    rows += [{"name": n, "label": n, "note": "", "metrics": [], "shows": []}
             for n in sorted({r.row for r in current} - {r["name"] for r in rows})]
    for row in rows:
        row["short"] = _notes_of(row["name"], current)
    metrics = [{"name": m["name"], "label": m.get("label", m["name"]),
                "direction": m.get("direction"), "arrow": ARROWS.get(m.get("direction"), ""),
                "flavour_note": m.get("flavour_note", "")} for m in spec.get("metrics", [])]
    metrics += [{"name": n, "label": n, "direction": None, "arrow": "", "flavour_note": ""}
                for n in dict.fromkeys(c.metric for c in stats)
                if n not in {m["name"] for m in metrics}]
    metrics, left_out = _with_values(metrics, stats, spec.get("paper") or {})
    # The preset benchmark.json describes comes first; runs of other presets get their own table.
    groups = sorted({(c.version, c.preset) for c in stats}, key=str)
    if "preset" in spec:
        primary = (spec.get("version"), spec["preset"])
        groups = [primary] + [g for g in groups if g != primary]
    footnotes: list[str] = []
    tables = [_table(spec, g, [c for c in stats if (c.version, c.preset) == g], rows, metrics,
                     footnotes) for g in groups]
    main_runs = [r for r in current if groups and (r.version, r.preset) == groups[0]]
    counted = main_runs if groups else current
    preset = spec.get("preset", groups[0][1] if groups else None)
    return {
        "name": name, "title": spec.get("title", name), "paper_ref": spec.get("paper_ref", ""),
        "has_paper": bool(spec.get("paper")),
        "version": spec.get("version"), "preset": preset, "load_error": spec.get("load_error"),
        "preset_note": _comparability(spec, preset),
        "preset_description": str(spec.get("preset_note") or ""),
        "counts": {s: sum(r.state == s for r in counted) for s in ("done", "failed", "running", "stopped",
                                                                   "pending")},
        "metrics": metrics, "tables": tables, "footnotes": footnotes, "left_out": left_out,
        "notes": list(dict.fromkeys(str(n) for n in spec.get("notes", []))),
        "data_line": _data_line(main_runs),
        "failed": [{"row": r.row, "seed": r.seed_index, "error": r.error,
                    "dir": str(r.run_dir.relative_to(out))}
                   for r in current if r.state == "failed"],
        "rows": [_row_details(r, main_runs) for r in rows],
        "tradeoffs": _tradeoffs(spec, rows, metrics, [c for c in stats if groups and (c.version, c.preset) == groups[0]]),
        "previews": _previews(rows, main_runs),
        "parts": _parts(rows, metrics, main_runs),
    }


def _comparability(spec: dict, preset: str | None) -> str:
    if spec.get("comparable_to_paper") is not False or not (spec.get("paper") or spec.get("claims")):
        return ""
    if spec.get("user_corpus"):
        return "your own corpus: no paper numbers apply"
    return f"{preset} preset: not comparable to the paper; the claims are checked at this scale only"


def _system_info(records: list[RunRecord]) -> list[tuple[str, str]]:
    """Each environment field with every distinct value seen across runs (mixed machines show)."""
    values: dict[str, set[str]] = {k: set() for k in ENV_FIELDS}
    for rec in records:
        for key, value in rec.env.items():
            values.setdefault(key, set()).add(str(value))
    return [(k, ", ".join(sorted(v))) for k, v in values.items() if v]


def _md_cell(text) -> str:
    """Markdown text from the data: one line, no bare pipes, and no HTML tag a renderer would run or hide
    (`<` before a letter, `/`, `!` or `?` becomes &lt;); anything else reads as written (`->`, `'`)."""
    one_line = " ".join(str(text).split()).replace("|", "\\|")
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", one_line)


def _jinja() -> Environment:
    """HTML templates are autoescaped; markdown ones pass their data through the `md` filter instead."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                      trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["md"] = _md_cell
    return env


def render_report(out_dir: str | Path) -> Path:
    """Write the report for whatever is under `out_dir` (partial or empty results included),
    refresh `<out>/summary.csv` from the same scan, and return the report folder."""
    out = Path(out_dir)
    records, specs = collect_runs(out), load_benchmark_specs(out)
    stats = summarize(records, specs)
    write_summary_csv(out, records)
    benchmarks = [_benchmark_view(name, specs.get(name, {}), records, stats, out)
                  for name in sorted(set(specs) | {r.benchmark for r in records})]
    ctx = {"out_dir": str(out), "benchmarks": benchmarks, "n_runs": len(records),
           "system": _system_info(records), "min_seeds": MIN_SEEDS}
    env, report = _jinja(), out / "report"
    atomic_write_text(report / "index.html", env.get_template("index.html.j2").render(ctx))
    for bench in benchmarks:
        page = env.get_template("benchmark.html.j2").render(b=bench, min_seeds=MIN_SEEDS)
        atomic_write_text(report / f"{bench['name']}.html", page)
    atomic_write_text(report / "summary.md", env.get_template("summary.md.j2").render(ctx))
    atomic_write_text(report / "results.json", json.dumps(results_document(specs, stats, paper_number), indent=1) + "\n")
    return report
