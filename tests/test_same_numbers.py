"""A run's folder and hash do not depend on how it was launched, so neither may its numbers. They used to:
a local job computed with cores / jobs threads and an inline run with all the cores, and the RNN LMs that
the perplexity metrics train summed their reductions in another order. A run now computes with its own
`threads` setting, whatever the process it runs in."""
from __future__ import annotations

import csv
import json

import pytest
import torch

from arae.cli import main

ARGS = ["-b", "snli_generation", "--preset", "smoke", "-r", "ae", "-r", "arae",
        "--set", "train.steps=20", "--set", "eval.n_samples=300"]


def _metrics(out) -> dict:
    with open(out / "summary.csv", newline="") as f:
        return {(r["row"], r["metric"]): r["value"] for r in csv.DictReader(f) if r["metric"] != "wall_seconds"}


@pytest.mark.slow
def test_inline_and_two_local_jobs_give_identical_metrics(tmp_path, fixture_data):
    args = [*ARGS, "--data-dir", str(fixture_data)]
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # an inline process on a 2-core machine; each local job starts with its own count
    try:
        assert main([*args, "--out", str(tmp_path / "inline")]) == 0
    finally:
        torch.set_num_threads(before)
    assert main([*args, "--out", str(tmp_path / "local"), "--launcher", "local", "--jobs", "2"]) == 0
    inline, local = _metrics(tmp_path / "inline"), _metrics(tmp_path / "local")
    assert {metric for _, metric in inline} >= {"reverse_ppl.rnnlm", "forward_ppl.rnnlm", "reverse_ppl.kenlm5"}
    assert local == inline  # every metric, exactly as written
    for env in (tmp_path / "local").glob("snli_generation/*/seed0-*/env.json"):
        assert json.loads(env.read_text())["threads"] == 1  # the run's setting, recorded


@pytest.mark.slow
def test_the_thread_count_is_part_of_the_run(tmp_path, fixture_data):
    """Two thread counts may give different numbers, so they are different runs (and the second one does not
    reuse the first one's training)."""
    args = [*ARGS, "-r", "real", "--data-dir", str(fixture_data), "--out", str(tmp_path)]
    assert main(args) == 0
    assert main([*args, "--set", "threads=2"]) == 0
    run_jsons = [json.loads(p.read_text()) for p in tmp_path.glob("snli_generation/ae/seed0-*/run.json")]
    assert sorted(r["config"]["threads"] for r in run_jsons) == [1, 2]
    assert len({r["train_key"] for r in run_jsons}) == 2
    assert main([*args, "--set", "threads=0"]) == 2
