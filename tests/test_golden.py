"""Golden numbers: a tiny fixed-seed run of every benchmark (so of every task) on the synthetic test data (tests/synthetic_data.py),
with its metrics and each run's last logged training values stored in tests/golden/<benchmark>.json. A change of results then shows up in review as a
change of that file, with the reason in the commit message.

When a number moves on purpose, rewrite the files and commit them with the change that moved them:

    ARAE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

The runs compute with one thread on the CPU (every run's `threads` setting), so they are deterministic; a
relative tolerance of 1e-6 only absorbs the last bits of a float printed on another CPU. `perf` measures
speed, which no file can hold: its golden file holds which measurements it records, not their values.
"""
from __future__ import annotations

import csv
import json
import math
import os

import pytest

import benchmarks  # noqa: F401  (registers the specs)
from arae.benchmark import BENCHMARKS
from arae.cli import main
from conftest import REPO

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("ARAE_UPDATE_GOLDEN") == "1"
RTOL = 1e-6
TIMINGS_ONLY = {"perf"}

# The smallest settings that still run every part of each benchmark (every row, metric and output).
SETTINGS = {
    "snli_generation": ["train.steps=4", "train.log_every=2", "train.checkpoint_every=2", "train.diag_samples=10",
                        "eval.n_samples=40", "eval.ae_fit_codes=40", "eval.rnnlm.epochs=1"],
    "word_swap_robustness": ["train.steps=4", "train.log_every=2", "train.diag_samples=10", "eval.swap_sentences=40"],
    "interpolation_smoothness": ["train.steps=4", "train.log_every=2", "train.diag_samples=10", "eval.n_paths=5"],
    "snli_semisup": ["train.steps=4", "train.log_every=2", "train.diag_samples=10", "classifier.epochs=1"],
    "yelp_transfer": ["train.steps=40", "train.log_every=20", "train.diag_samples=10"],  # 4 steps transfer to ""
    "bmnist": ["train.steps=4", "train.log_every=2", "eval.n_samples=50", "eval.ae_fit_codes=50"],
    "vector_arithmetic": ["train.steps=4", "train.log_every=2", "train.diag_samples=10", "eval.ae_fit_codes=40",
                          "eval.vector.pool=200", "eval.vector.sentences=3", "eval.vector.candidates=12",
                          "eval.vector.samples=5"],
    "perf": ["perf.warmup=1", "perf.steps=1", "perf.bleu_pairs=50", "eval.n_samples=50"],
}


def _command(name: str, out, data) -> list[str]:
    sets = [arg for key in SETTINGS[name] for arg in ("--set", key)]
    return ["-b", name, "--preset", "smoke", "--seeds", "1", "--data-dir", str(data), "--out", str(out), *sets]


def _measured(out) -> dict[str, float | str]:
    """row/metric -> its value, or "missing: <reason>", and row/last_logged.<name> -> the last value training
    logged (losses and diagnostics: two models that sample alike still train differently); timings left out."""
    with open(out / "summary.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["metric"].endswith("_seconds")]
    measured = {f"{r['row']}/{r['metric']}": float(r["value"]) if r["value"] else f"missing: {r['missing_reason']}"
                for r in rows}
    for scalars in out.glob("*/*/seed0-*/scalars.jsonl"):
        last = json.loads(scalars.read_text().splitlines()[-1])
        measured |= {f"{scalars.parent.parent.name}/last_logged.{k}": float(v) for k, v in last.items()
                     if k != "seconds" and isinstance(v, (int, float))}
    return measured


def _moved(stored: dict, now: dict) -> list[str]:
    lines = [f"  {key}: only {'stored' if key in stored else 'now'}" for key in sorted(set(stored) ^ set(now))]
    for key in sorted(set(stored) & set(now)):
        a, b = stored[key], now[key]
        same = (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=RTOL)) or a == b
        if not same:
            lines.append(f"  {key}: stored {a}, now {b}")
    return lines


def test_every_benchmark_has_golden_settings():
    assert set(SETTINGS) == set(BENCHMARKS.names())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_golden_numbers(name, tmp_path, fixture_data):
    assert main(_command(name, tmp_path, fixture_data)) == 0
    now = _measured(tmp_path)
    if name in TIMINGS_ONLY:
        now = {key: "measured" if isinstance(value, float) else value for key, value in now.items()}
    path = GOLDEN / f"{name}.json"
    if UPDATE or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        command = " ".join(["python run_all.py", *_command(name, "OUT", "SYNTHETIC_DATA")])
        path.write_text(json.dumps({"command": command, "metrics": now}, indent=1, sort_keys=True) + "\n")
        assert UPDATE, f"{path.relative_to(REPO)} did not exist: written now; commit it"
        return
    moved = _moved(json.loads(path.read_text())["metrics"], now)
    assert not moved, (f"{name}: golden numbers moved (relative tolerance {RTOL}):\n" + "\n".join(moved) +
                       f"\nIf the change is intended, run `ARAE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest "
                       f"tests/test_golden.py` and commit {path.relative_to(REPO)} with the reason in the message.")
