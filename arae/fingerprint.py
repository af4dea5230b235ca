"""The code fingerprint: one hash of the source of every module that can change a result. It is part of every
run hash, training key and artefact key, so a finished run or a shared artefact is never reused after the code
that computed it changed, without anyone having to remember to bump a version.

Counted: every `*.py` file under `arae/`, `baselines/` and `benchmarks/` (tasks, models, training, data,
metrics, benchmark specs and presets), except the modules in NOT_COUNTED, which only parse the command line,
launch jobs, estimate the time left, record the environment or read finished records. `reports/`, `tests/`, `scripts/` and
`run_all.py` are not counted. A new file in a counted folder counts from the moment it exists.

Each file is hashed as its syntax tree without docstrings, so comments, docstrings and formatting do not
count; anything that can change what runs does (a changed constant, default, statement or import).
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

COUNTED_FOLDERS = ("arae", "baselines", "benchmarks")
NOT_COUNTED = ("arae/__main__.py", "arae/cli.py", "arae/launch.py", "arae/envinfo.py", "arae/results.py",
               "arae/score.py", "arae/eta.py")
ROOT = Path(__file__).resolve().parents[1]  # the folder holding arae/, baselines/ and benchmarks/


def counted_files(root: Path = ROOT) -> list[Path]:
    """The files the fingerprint covers, relative to `root`, in a fixed order."""
    files = (p.relative_to(root) for folder in COUNTED_FOLDERS for p in (root / folder).rglob("*.py"))
    return sorted(p for p in files if p.as_posix() not in NOT_COUNTED)


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def source_digest(path: Path) -> str:
    """The sha256 of a file's syntax tree without docstrings (its comments and layout never reach the tree)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return hashlib.sha256(ast.dump(_without_docstrings(tree)).encode()).hexdigest()


def fingerprint_of(root: Path) -> str:
    """The fingerprint of the code under `root` (read afresh each call)."""
    digest = hashlib.sha256()
    for relative in counted_files(root):
        digest.update(f"{relative.as_posix()}\0{source_digest(root / relative)}\n".encode())
    return digest.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """The fingerprint of the code this process runs (computed once per process)."""
    return fingerprint_of(ROOT)
