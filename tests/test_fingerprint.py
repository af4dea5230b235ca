"""A finished run is reused only while the code that computed it is unchanged: the code fingerprint covers the
task, model, training, data and metric modules and the specs, and not the report, the CLI or the launcher."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arae.fingerprint import NOT_COUNTED, code_fingerprint, counted_files, fingerprint_of
from conftest import REPO, TINY_SENTENCES

PARTS = ("arae", "baselines", "benchmarks", "reports", "run_all.py")


def _copy_of_the_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for part in PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / part, root / part)
    return root


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_fingerprint_follows_result_code_only(tmp_path):
    root = _copy_of_the_project(tmp_path)
    base = fingerprint_of(root)
    assert base == code_fingerprint()  # a copy of the same code has the same fingerprint

    _append(root / "reports" / "render.py", "\nREPORT_ONLY = 1\n")
    _append(root / "arae" / "cli.py", "\nCLI_ONLY = 1\n")
    _append(root / "arae" / "models" / "seq2seq.py", "\n# a comment\n")
    seq2seq = root / "arae" / "models" / "seq2seq.py"
    seq2seq.write_text(seq2seq.read_text().replace('"""', '"""An edited docstring. ', 1))
    assert fingerprint_of(root) == base  # report, CLI, comments and docstrings do not count

    _append(seq2seq, "\nNEW_CONSTANT = 1\n")
    assert fingerprint_of(root) != base  # a statement in a model file does
    (root / "benchmarks" / "new_table.py").write_text("X = 1\n")
    assert Path("benchmarks/new_table.py") in counted_files(root)  # a new file counts from the start


def test_the_counted_files_are_the_documented_ones():
    files = {p.as_posix() for p in counted_files()}
    assert {"arae/runner.py", "arae/models/seq2seq.py", "arae/training/steps.py", "arae/metrics/rnnlm.py",
            "arae/data/corpora.py", "baselines/ae.py", "benchmarks/snli_generation.py"} <= files
    assert not files & set(NOT_COUNTED) and not any(f.startswith(("reports/", "tests/")) for f in files)
    docs = (REPO / "docs" / "records.md").read_text()
    assert all(f"`{name}`" in docs for name in NOT_COUNTED)  # the docs name what does not count


@pytest.mark.slow
def test_editing_a_model_retrains_and_editing_the_report_does_not(tmp_path):
    """The issue's check, on a copy of the project: a finished run is skipped, a model edit retrains it, a report
    edit does not."""
    root, corpus = _copy_of_the_project(tmp_path), tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "train.txt").write_text("\n".join(TINY_SENTENCES * 4) + "\n")
    (corpus / "test.txt").write_text("\n".join(TINY_SENTENCES) + "\n")
    command = [sys.executable, "run_all.py", "-b", "snli_generation", "-r", "ae", "--preset", "smoke", "-m",
               "unique_fraction", "--set", f"data={corpus}", "--set", "train.steps=3", "--set", "eval.n_samples=20",
               "--out", str(tmp_path / "runs")]

    def run() -> str:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stderr.splitlines()[-1]  # "1 runs in Ns: D done, S skipped, ..." or "all 1 runs were already done"

    assert "1 done" in run()
    assert "all 1 runs were already done: nothing ran" in run()
    _append(root / "reports" / "render.py", "\nREPORT_ONLY = 1\n")
    assert "all 1 runs were already done: nothing ran" in run()
    _append(root / "arae" / "models" / "seq2seq.py", "\nNEW_CONSTANT = 1\n")
    assert "1 done" in run()
    assert len(list((tmp_path / "runs" / "snli_generation" / "ae").glob("seed0-*"))) == 2
