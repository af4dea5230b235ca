"""The report reads records only: build a fake <out> tree (docs/records.md), check what it says."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from arae.results import CSV_COLUMNS, collect_runs, load_benchmark_specs, summarize
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
    "paper": {"arae": {REV: 70.0, BLEU: 10.0}, "ae": {REV: 100.0}},
    "claims": [{"text": "reverse PPL: ARAE < AE", "metric": REV, "better": "arae", "worse": "ae"},
               {"text": "reverse PPL: AE < ARAE", "metric": REV, "better": "ae", "worse": "arae"},
               {"text": "BLEU: AE > ARAE", "metric": BLEU, "better": "ae", "worse": "arae"}],
    "notes": ["free text note"],
}
ENV = {"git_sha": "abc1234", "python": "3.11.2", "torch": "2.13.0", "kenlm": "0.3.0",
       "cpu": "x86_64", "device": "cpu"}


def _run(out: Path, row: str, seed: int, state: str, metrics=None, error=None,
         tag: str = "deadbeef", updated: str = "2025-01-02T00:00:00", samples=(),
         details=None) -> Path:
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
            "metrics": {name: {"value": v, "missing_reason": why,
                               "details": (details or {}).get(name, {})}
                        for name, (v, why) in metrics.items()},
            "samples_preview": list(samples),
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
         details={REV: {"oov_rate": 0.0123, "discount_fallback": True},
                  BLEU: {"n_samples": 12}})
    _run(tmp_path, "arae", 1, "done", {REV: (84.0, None), BLEU: (None, "too few samples")},
         details={REV: {"oov_rate": 0.0123, "discount_fallback": False}})
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


def test_summarize_reads_oov_and_fallback_from_details(out):
    cells = {(c.row, c.metric): c for c in summarize(collect_runs(out), load_benchmark_specs(out))}
    rev = cells[("arae", REV)]
    assert rev.oov_rate_mean == pytest.approx(0.0123) and rev.fallback_seeds == (0,)
    for key in (("arae", BLEU), ("ae", REV)):  # details without them, or no details at all
        assert (cells[key].oov_rate_mean, cells[key].fallback_seeds) == (None, ())


def test_summary_md(out):
    md = (render_report(out) / "summary.md").read_text()
    assert ("| ARAE | Reverse PPL | 70 | 82.00 ± 25.41 · OOV 1.2% · fallback (seed 0) | 2 "
            "| +12.00 (worse) |") in md
    assert md.count("OOV 1.2%") == 1 and md.count("fallback (") == 1  # no other cell has them
    assert "\nOOV: share of evaluated words outside the vocabulary" in md
    assert "used --discount_fallback.\n" in md
    assert ("| ARAE | Self-BLEU | 10 | 12.00 (missing: seed 1: too few samples) | 1 "
            "| +2.00 (better) |") in md
    assert "| AE | Reverse PPL | 100 | 90.00 (missing: seed 1: run failed: CUDA" in md
    assert "| 1 | -10.00 (better) |" in md
    assert ("| AE | Self-BLEU | — | missing (seed 0: judge unavailable offline; "
            "seed 1: run failed: CUDA out of memory &lt;oops&gt;) | 0 | — |") in md
    assert "missing (seed 0: run failed: unreadable record" in md
    assert "seed 1: run pending" in md
    assert "- **pass**: reverse PPL: ARAE &lt; AE" in md
    assert "- **fail**: reverse PPL: AE &lt; ARAE" in md
    assert "- **undecided**: BLEU: AE &gt; ARAE" in md
    assert "- ae seed 1: CUDA out of memory &lt;oops&gt;" in md
    assert "smoke preset: not comparable to the paper" in md
    assert "<oops>" not in md


def test_benchmark_html(out):
    html = (render_report(out) / f"{BENCH}.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "CUDA out of memory &lt;oops&gt;" in html
    assert '<td class="worse">+12.00</td>' in html and '<td class="better">-10.00</td>' in html
    assert ('<span class="missing" title="seed 0: judge unavailable offline; '
            'seed 1: run failed: CUDA out of memory &lt;oops&gt;">missing</span>') in html
    assert html.count('class="l pass"') == 1 and html.count('class="l fail"') == 1
    assert html.count('class="l undecided"') == 1
    assert ('82.00 ± 25.41 <span class="n">n=2</span> <span class="n">OOV 1.2%</span> '
            '<span class="fallback" title="lmplz --discount_fallback fired in seed 0">'
            'fallback</span>') in html
    assert html.count("OOV 1.2%") == 1 and html.count(">fallback</span>") == 1
    assert '<p class="note">OOV: share of evaluated words' in html
    for text in ("ours: 5-gram KenLM", "SNLI dev as training pool", "free text note",
                 "smoke preset: not comparable to the paper", "200.5", "<polyline points="):
        assert text in html
    assert html.count("<li>gen") == 9  # 10 fixed samples: the <script> one, gen0..gen8


def test_index_and_csv(out):
    report = render_report(out)
    index = (report / "index.html").read_text()
    assert "Claims passed: <b>1 / 3</b>" in index
    assert "2 failed" in index and "3 done" in index
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


def test_no_legend_without_oov_or_fallback(out):
    for rec in (out / BENCH).glob("*/seed*/result.json"):
        result = json.loads(rec.read_text())
        for entry in result["metrics"].values():
            entry.pop("details")
        rec.write_text(json.dumps(result))
    report = render_report(out)
    for page in ("summary.md", f"{BENCH}.html"):
        text = (report / page).read_text()
        assert "OOV" not in text and "discount_fallback" not in text  # no cell mark, no legend


def test_zero_runs(tmp_path):
    report = render_report(tmp_path)
    assert "No runs found" in (report / "index.html").read_text()
    assert "No runs found" in (report / "summary.md").read_text()
    assert (tmp_path / "summary.csv").read_text().strip() == ",".join(CSV_COLUMNS)
