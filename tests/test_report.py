"""The report reads records only: build a fake <out> tree (docs/records.md), check what it says."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import REPO

from arae.results import CSV_COLUMNS, CellStat, check_claims, collect_runs, fmt, load_benchmark_specs, summarize
from reports import render_report

BENCH = "snli_generation"
REV, BLEU = "reverse_ppl.kenlm5", "bleu.self.sacrebleu"
SPEC = {
    "name": BENCH, "version": 1, "title": "SNLI generation", "paper_ref": "[ICLR] Table 5",
    "preset": "smoke", "comparable_to_paper": False,
    "rows": [{"name": "arae", "label": "ARAE"}, {"name": "ae", "label": "AE"},
             {"name": "vae", "label": "VAE"}],
    "metrics": [{"name": REV, "label": "Reverse PPL", "direction": "lower",
                 "flavour_note": "ours: 5-gram KenLM"},
                {"name": BLEU, "label": "Self-BLEU", "direction": "higher"}],
    # arae's reverse PPL has our flavour (a delta); the others were measured another way (none)
    "paper": {"arae": {REV: 70.0, "bleu.self.multibleu": 10.0}, "ae": {"reverse_ppl.rnnlm": 100.0}},
    "claims": [{"text": "reverse PPL: ARAE < AE", "metric": REV, "better": "arae", "worse": "ae"},
               {"text": "reverse PPL: AE < ARAE", "metric": REV, "better": "ae", "worse": "arae"},
               {"text": "BLEU: AE > ARAE", "metric": BLEU, "better": "ae", "worse": "arae"}],
    "notes": ["free text note"],
}
ENV = {"git_sha": "abc1234", "python": "3.11.2", "torch": "2.13.0", "kenlm": "0.3.0",
       "cpu": "x86_64", "device": "cpu"}


def _run(out: Path, row: str, seed: int, state: str, metrics=None, error=None,
         tag: str = "deadbeef", updated: str = "2025-01-02T00:00:00", samples=(),
         rests_on=None) -> Path:
    d = out / BENCH / row / f"seed{seed}-{tag}"
    d.mkdir(parents=True)
    (d / "run.json").write_text(json.dumps({"benchmark": BENCH, "version": 1, "row": row,
                                            "seed_index": seed, "seed": 100 + seed,
                                            "preset": "smoke", "hash": tag}))
    (d / "status.json").write_text(json.dumps({"state": state, "error": error,
                                               "updated": updated}))
    (d / "env.json").write_text(json.dumps(ENV))
    (d / "scalars.jsonl").write_text("".join(json.dumps({"step": s, "loss_ae": 5.0 / (s + 1)})
                                             + "\n" for s in range(5)))
    if state == "done":
        (d / "result.json").write_text(json.dumps({
            "benchmark": BENCH, "version": 1, "row": row, "seed_index": seed, "preset": "smoke",
            "metrics": {name: {"value": v, "missing_reason": why, "details": {},
                               "rests_on": (rests_on or {}).get(name, "") if v is not None else ""}
                        for name, (v, why) in metrics.items()},
            "previews": [{"kind": "sentences", "section": "Samples", "title": "", "items": list(samples)}]
            if samples else [], "notes": [], "counts": {}, "details": {},
            "data": {"name": "snli_lm", "substitute": "SNLI dev as training pool",
                     "n_train": 100, "n_test": 50},
            "timing": {"train_sentences_per_sec": 200.0 + seed, "wall_seconds": 3.0}}))
    return d


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    (tmp_path / BENCH).mkdir()
    (tmp_path / BENCH / "benchmark.json").write_text(json.dumps(SPEC))
    _run(tmp_path, "arae", 0, "done", {REV: (80.0, None), BLEU: (12.0, None)},
         samples=["a man <script>alert(1)</script> sleeps"] + [f"gen{i}" for i in range(11)],
         rests_on={REV: "OOV 1.2%; lmplz used --discount_fallback"})
    _run(tmp_path, "arae", 1, "done", {REV: (84.0, None), BLEU: (None, "too few samples")},
         rests_on={REV: "OOV 1.4%"})
    # A stale run of seed 0 under an older config: must not count as a third seed.
    _run(tmp_path, "arae", 0, "done", {REV: (1000.0, None)}, tag="0ld0ld00",
         updated="2024-01-01T00:00:00")
    _run(tmp_path, "ae", 0, "done", {REV: (90.0, None), BLEU: (None, "judge unavailable offline")})
    _run(tmp_path, "ae", 1, "failed", error="CUDA out of memory <oops>")
    (_run(tmp_path, "vae", 0, "running") / "status.json").write_text("{not json")
    (tmp_path / BENCH / "vae" / "seed1-cafef00d").mkdir()  # planned, nothing written yet
    return tmp_path


def test_collect_marks_unreadable_as_failed_and_folders_as_pending(out):
    by_key = {(r.row, r.seed_index, r.run_dir.name[-8:]): r for r in collect_runs(out)}
    broken = by_key[("vae", 0, "deadbeef")]
    assert broken.state == "failed" and broken.error.startswith("unreadable record ")
    assert "status.json" in broken.error
    assert by_key[("vae", 1, "cafef00d")].state == "pending"
    assert by_key[("vae", 1, "cafef00d")].preset == "smoke"  # from benchmark.json


def test_summarize_never_averages_missing(out):
    cells = {(c.row, c.metric): c for c in summarize(collect_runs(out), load_benchmark_specs(out))}
    rev = cells[("arae", REV)]
    assert rev.n == 2 and rev.mean == pytest.approx(82.0)
    assert rev.ci95 == pytest.approx(12.706 * 2.0, abs=1e-2)  # t(0.975, 1) * sd / sqrt(n)
    bleu = cells[("arae", BLEU)]
    assert (bleu.n, bleu.mean, bleu.ci95) == (1, 12.0, None)
    assert bleu.missing == ((1, "too few samples"),)
    assert cells[("ae", BLEU)].mean is None and cells[("ae", BLEU)].n == 0


def test_a_cell_says_what_each_seed_rests_on_as_its_metric_says(out):
    cells = {(c.row, c.metric): c for c in summarize(collect_runs(out), load_benchmark_specs(out))}
    assert cells[("arae", REV)].rests_on_text == "seed 0: OOV 1.2%; lmplz used --discount_fallback; seed 1: OOV 1.4%"
    assert cells[("arae", BLEU)].rests_on_text == ""  # the metric said nothing
    same = CellStat(BENCH, 1, "smoke", "x", REV, 2, 1.0, None, (1.0, 1.0), (), ((0, "300 labelled pairs"),) * 2)
    assert same.rests_on_text == "300 labelled pairs"  # said once when every seed says the same


def test_summary_md(out):
    md = (render_report(out) / "summary.md").read_text()
    assert ("| ARAE | Reverse PPL | 70 | 82.00 ± 25.41 (2 seeds: wide) · seed 0: OOV 1.2%; lmplz used --discount_fallback; seed 1: "
            "OOV 1.4% | 2 | +12.00 (worse) |") in md
    assert md.count("OOV 1.2%") == 1  # no other cell has it
    # the paper's number is shown beside ours, but another flavour gets no delta
    assert ("| ARAE | Self-BLEU | 10 (other protocol: self.multibleu) | 12.00 (missing: seed 1: too few "
            "samples) | 1 | — |") in md
    assert "| AE | Reverse PPL | 100 (other protocol: rnnlm) | 90.00 (missing: seed 1: run failed: CUDA" in md
    assert ("| AE | Self-BLEU | — | missing (seed 0: judge unavailable offline; "
            "seed 1: run failed: CUDA out of memory &lt;oops>) | 0 | — |") in md
    assert "missing (seed 0: run failed: unreadable record" in md
    assert "seed 1: run pending" in md
    # smoke is not comparable: no verdict on the paper, and one seed a side decides nothing
    assert ("- **not comparable** (at this scale: undecided): reverse PPL: ARAE < AE (arae 82.00 ± 25.41 "
            "(n=2) vs ae 90.00 (n=1): needs at least 2 seeds per side)") in md
    assert "- **not comparable** (at this scale: undecided): BLEU: AE > ARAE (ae: no value" in md
    assert "**pass**" not in md and "**fail**" not in md
    assert "- ae seed 1: CUDA out of memory &lt;oops>" in md
    assert md.count("smoke preset: not comparable to the paper") == 1
    assert "<oops>" not in md  # a tag-like text stays text
    assert "&#39;" not in md and "&gt;" not in md and "&amp;" not in md  # markdown has no HTML entities elsewhere


def test_benchmark_html(out):
    html = (render_report(out) / f"{BENCH}.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "CUDA out of memory &lt;oops&gt;" in html
    assert '<td class="worse">+12.00</td>' in html and html.count('<td class="better">') == 0
    assert html.count("other protocol: rnnlm</span>") == 1
    assert ('<span class="missing" title="seed 0: judge unavailable offline; '
            'seed 1: run failed: CUDA out of memory &lt;oops&gt;">missing</span>') in html
    assert html.count('class="l not-comparable"') == 3 and html.count('class="l undecided"') == 3
    assert ('82.00 ± 25.41 (2 seeds: wide) <details class="n seeds"><summary>n=2</summary>seed 0: 80.00; seed 1: 84.00</details> '
            '<span class="n">seed 0: OOV 1.2%; lmplz used --discount_fallback; seed 1: OOV 1.4%</span>') in html
    assert html.count("OOV 1.2%") == 1
    for text in ("ours: 5-gram KenLM", "SNLI dev as training pool", "free text note",
                 "smoke preset: not comparable to the paper", "200.5", '<img class="curves" src="data:image/png;base64,'):
        assert text in html
    assert html.count("free text note") == 1 and html.count("smoke preset: not comparable") == 1
    assert html.count("<li>gen") == 9  # 10 fixed samples: the <script> one, gen0..gen8


def test_index_and_csv(out):
    report = render_report(out)
    index = (report / "index.html").read_text()
    # the front page answers: each row's headline metric, and the claims' verdicts at this scale
    assert "Claims at this scale (not comparable to the paper): 0 pass, 0 fail, 3 undecided" in index
    assert "Claims passed" not in index
    assert '<td class="l">ARAE</td><td>82.00 ± 25.41 (2 seeds: wide) <span class="n">n=2</span>' in index
    # the stale run is not counted; the unreadable one is failed, the empty folder pending
    assert "Runs: 3 done, 2 failed, 1 pending" in index
    # every claim at a glance, with its verdict and the preset it was decided at
    glance = index[index.index("Paper claims at a glance"):]
    assert glance.count("<code>smoke</code></td></tr>") == 3
    assert ('<td class="l">reverse PPL: ARAE &lt; AE</td><td class="l not-comparable">not comparable</td>'
            '<td class="l undecided">undecided</td>') in glance
    for value in ("3.11.2", "2.13.0", "abc1234"):
        assert value in index
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 6 * 2  # six current runs (stale one dropped) x two metrics
    got = {(r["row"], r["seed"], r["metric"]): r for r in rows}
    assert got[("arae", "0", REV)]["value"] == "80.0"
    assert got[("arae", "1", BLEU)]["value"] == ""
    assert got[("arae", "1", BLEU)]["missing_reason"] == "too few samples"
    assert got[("ae", "1", REV)]["missing_reason"].startswith("run failed: CUDA")
    assert {r["preset"] for r in rows} == {"smoke"} and {r["version"] for r in rows} == {"1"}


def _cell(row, values, metric=REV):
    from arae.results import ci95_halfwidth
    mean = sum(values) / len(values) if values else None
    return CellStat(BENCH, 1, "small", row, metric, len(values), mean, ci95_halfwidth(values), tuple(values), ())


COMPARABLE = {**SPEC, "comparable_to_paper": True}


@pytest.mark.parametrize("arae, ae, verdict, why", [
    ([80.0], [90.0], "undecided", "needs at least 2 seeds per side"),
    ([80.0, 81.0, 80.5], [90.0], "undecided", "needs at least 2 seeds per side"),
    ([80.0, 81.0, 80.5], [90.0, 91.0, 90.5], "pass", "95% intervals separate"),
    ([90.0, 91.0, 90.5], [80.0, 81.0, 80.5], "fail", "95% intervals separate"),
    ([80.0, 95.0, 85.0], [84.0, 99.0, 88.0], "undecided", "95% intervals overlap"),
    ([], [90.0, 91.0], "undecided", "a side has no value"),
])
def test_a_claim_passes_or_fails_only_on_separated_intervals_of_enough_seeds(arae, ae, verdict, why):
    cells = [_cell("arae", arae), _cell("ae", ae)]
    result = check_claims(COMPARABLE, cells)[0]  # "reverse PPL: ARAE < AE"
    assert (result.verdict, result.at_scale) == (verdict, verdict) and why in result.why
    shown = check_claims(SPEC, cells)[0]  # the same runs at a preset not comparable to the paper
    assert (shown.verdict, shown.at_scale) == ("not comparable", verdict)


def test_a_comparable_preset_counts_its_claims_on_the_index(out):
    spec = json.loads((out / BENCH / "benchmark.json").read_text())
    (out / BENCH / "benchmark.json").write_text(json.dumps({**spec, "comparable_to_paper": True}))
    report = render_report(out)
    assert "Claims passed: <b>0 / 3</b>" in (report / "index.html").read_text()
    assert "- **undecided**: reverse PPL: ARAE < AE" in (report / "summary.md").read_text()


def test_numbers_show_four_significant_digits():
    assert [fmt(x) for x in (16822.4, 763.44, 66.6, 3.3149, 0.54417, 0.0003535, 0.0)] == [
        "16,820", "763.4", "66.60", "3.315", "0.5442", "0.0003535", "0"]
    assert (fmt(-10.0, signed=True), fmt(12.0, signed=True), fmt(None)) == ("-10.00", "+12.00", "—")


def test_a_row_short_of_samples_is_marked(out):
    for rec in (out / BENCH / "ae").glob("seed0-*/result.json"):
        result = json.loads(rec.read_text())
        rec.write_text(json.dumps({**result, "notes": ["only 11,519 of 100,000 samples (the source has no more)"]}))
    md = (render_report(out) / "summary.md").read_text()
    assert "| AE (only 11,519 of 100,000 samples (the source has no more)) | Reverse PPL |" in md


def test_zero_runs(tmp_path):
    report = render_report(tmp_path)
    assert "No runs found" in (report / "index.html").read_text()
    assert "No runs found" in (report / "summary.md").read_text()
    assert (tmp_path / "summary.csv").read_text().strip() == ",".join(CSV_COLUMNS)


def test_readme_results_block_is_generated_from_the_records(out, tmp_path):
    from arae.errors import ConfigError
    from reports.readme import update_readme
    readme = tmp_path / "README.md"
    name = out.name
    readme.write_text(f"intro\n<!-- results:{name} -->\nstale\n<!-- /results:{name} -->\noutro\n")
    update_readme(readme, out)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale" not in text
    assert "| ARAE | Reverse PPL: 70; bleu.self.multibleu: 10 (other protocol) | 82.00 ± 25.41 (seed 0: OOV 1.2%; lmplz used --discount_fallback; seed 1: OOV 1.4%) | 12.00 n=1 | 2 |" in text
    assert "- reverse PPL: ARAE < AE: **undecided** (arae 82.00 ± 25.41 (n=2) vs ae 90.00 (n=1)" in text
    readme.write_text("no markers\n")
    with pytest.raises(ConfigError, match=f"<!-- results:{name} -->"):
        update_readme(readme, out)


def test_a_near_constant_curve_is_not_blown_up():
    from reports.figures import _y_limits
    lo, hi = _y_limits([0.05, 0.05001, 0.04999])  # annealed noise barely moving
    assert hi - lo >= 0.05 * 0.05 and lo < 0.04999 and hi > 0.05001
    lo, hi = _y_limits([1.0, 3.0])  # a real change keeps its own range
    assert 1.8 < hi - lo < 2.5


def test_the_readme_reads_back_each_claims_latest_verdict_from_generated_blocks(out, tmp_path):
    from reports.readme import recorded_verdicts, results_markdown
    page = tmp_path / "page.md"
    block = results_markdown(out)
    older = block.replace("recorded 2025-01-02", "recorded 2024-12-30").replace("**undecided**", "**pass**")
    page.write_text(f"<!-- results:a -->\n{older}<!-- /results:a -->\n<!-- results:b -->\n{block}<!-- /results:b -->\n")
    found = recorded_verdicts(page)
    expected = check_claims(SPEC, summarize(collect_runs(out), load_benchmark_specs(out)))
    assert "recorded 2025-01-02" in block and len(expected) == 3
    assert {text: (v.verdict, v.at_scale, v.preset, v.recorded) for (bench, text), v in found.items()} == {
        c.text: ("not comparable", c.at_scale, "smoke", "2025-01-02") for c in expected
        if "a side has no value" not in c.why}  # a block whose runs lack a side did not judge that claim


def test_results_json_holds_every_cell_and_validates_against_its_schema(out):
    import jsonschema
    document = json.loads((render_report(out) / "results.json").read_text())
    schema = json.loads((REPO / "reports" / "results.schema.json").read_text())
    jsonschema.validate(document, schema)
    cells = {(c["row"], c["metric"]): c for c in document["cells"]}
    arae = cells[("arae", "reverse_ppl.kenlm5")]
    assert arae["mean"] == 82.0 and arae["n"] == 2 and sorted(s["value"] for s in arae["per_seed"]) == [80.0, 84.0]
    assert arae["paper"] == 70 and arae["delta"] == 12.0
    assert arae["verdicts"] and arae["verdicts"][0]["verdict"] == "not comparable"
    assert cells[("ae", "reverse_ppl.kenlm5")]["missing"][0]["reason"].startswith("run failed")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "cells": [{**arae, "n": -1}]}, schema)


def test_a_benchmark_has_one_data_line_saying_what_differs_between_rows():
    from types import SimpleNamespace
    from reports.render import _data_line
    base = {"name": "snli_pairs", "unit": "sentences", "substitute": "SNLI dev as the pool"}
    runs = [SimpleNamespace(row=row, result={"data": {**base, "sizes": {"test": test}, "maxlen": 15,
                                                      "dropped_longer_than_maxlen": {"train": dropped}}})
            for row, test, dropped in [("ae", 13147, 0), ("arae", 11481, 3308), ("arae", 11481, 3308),
                                       ("vae", 13147, 0)]]
    assert _data_line(runs) == ("substitute: SNLI dev as the pool; rows ae, vae: corpus snli_pairs: test 13,147 "
                                "sentences; row arae: corpus snli_pairs: test 11,481 sentences, 3,308 longer than 15 "
                                "tokens dropped")
    assert _data_line(runs[1:3]) == ("corpus snli_pairs: test 11,481 sentences; 3,308 longer than 15 tokens dropped; "
                                     "substitute: SNLI dev as the pool")
