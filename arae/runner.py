"""Plan runs -> skip finished -> dispatch to the benchmark's task (arae/tasks/) -> write records. One run = one
folder; the runner holds no task code.

A run folder is keyed by a hash of (benchmark, version, row, model, resolved config, seed, metrics),
so a finished run is skipped and an interrupted one resumes from what it left: the checkpoint,
the samples file, and one file per finished metric.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import fnmatch
import functools
import hashlib
import re
import shutil
import traceback
from datetime import datetime, timezone
from pathlib import Path

import threadpoolctl
import torch

from arae import CODE_VERSION
from arae.benchmark import BenchmarkSpec, Row, given_row
from arae.config import apply_overrides, config_hash, deep_merge, training_config
from arae.data import Corpus, build_corpus
from arae.data.batching import BATCHINGS, STYLE_BATCHINGS
from arae.envinfo import environment
from arae.errors import ConfigError, DataError, SuiteError
from arae.fingerprint import code_fingerprint
from arae.io import atomic_write_json, atomic_write_text
from arae.models import MODELS
from arae.registry import Registry
from arae.results import own_wall_seconds
from arae.schema import check_result
from arae.seeding import derive_seed, seed_everything
from arae.tasks import RunPlan
from arae.tasks.base import read_status

RESULT_FILES = ("checkpoint.pt", "scalars.jsonl", "samples", "predictions", "metrics", "metrics_work", "result.json", "error.log")


def select_rows(spec: BenchmarkSpec, preset: str, names: list[str] | None) -> list[Row]:
    rows = spec.rows_for(preset)
    if not names:
        return rows
    known = Registry(f"row of {spec.name} ({preset} preset)")
    for row in rows:
        known.add(row.name, row)
    return [known.get(name) for name in names]


def select_metrics(spec: BenchmarkSpec, patterns: list[str] | None) -> tuple:
    """The spec's metrics whose key matches one of `patterns` (globs, e.g. '*.rnnlm'); all if none given."""
    if not patterns:
        return spec.metrics
    return tuple(m for m in spec.metrics if any(fnmatch.fnmatchcase(m.key, p) for p in patterns))


def with_given_rows(specs: list[BenchmarkSpec], outputs: list[str]) -> list[BenchmarkSpec]:
    """Each `--outputs NAME=DIR[:COLUMN]` as a row of every benchmark whose task given transfers can serve."""
    if not outputs:
        return specs
    rows = []
    for text in outputs:
        name, sep, where = text.partition("=")
        folder, _, column = where.rpartition(":") if where.rpartition(":")[2].isdigit() else (where, "", "")
        if not sep or not name or not folder or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ConfigError(f"--outputs {text}: expected NAME=DIR or NAME=DIR:COLUMN, NAME of letters, digits, _ . -")
        if not Path(folder).expanduser().is_dir():
            raise ConfigError(f"--outputs {text}: {folder} is not a folder")
        rows.append(given_row(name, f"{name} (your outputs)", str(Path(folder).expanduser().resolve()),
                              column=int(column) if column else None))
    offers = MODELS.get("given_transfers").offers
    served = [spec for spec in specs if spec.task.needs <= offers]
    if not served:
        raise ConfigError(f"--outputs: none of the selected benchmarks ({', '.join(s.name for s in specs)}) scores "
                          "transfers; select one that does, e.g. -b yelp_transfer")
    for spec in served:
        if clash := {r.name for r in rows} & {r.name for r in spec.rows}:
            raise ConfigError(f"--outputs: {spec.name} already has a row named {', '.join(sorted(clash))}")
    return [dataclasses.replace(spec, rows=spec.rows + tuple(rows)) if spec in served else spec for spec in specs]


def with_metrics(specs: list[BenchmarkSpec], patterns: list[str] | None) -> list[BenchmarkSpec]:
    """The benchmarks that have a metric matching `patterns` (all of them when none are given)."""
    kept = [spec for spec in specs if select_metrics(spec, patterns)]
    if not kept:
        known = "; ".join(f"{s.name}: {', '.join(m.key for m in s.metrics)}" for s in specs)
        raise ConfigError(f"--metric {' '.join(patterns)}: no metric of the selected benchmarks matches ({known})")
    return kept


AMP_MODES = ("none", "bf16")
# Settings of every run, whatever its benchmark. `threads`: the CPU threads a run computes with. Reductions
# split over threads add in another order, so a run's numbers depend on it: it is part of the run's config
# (and hash), never taken from the machine or the launcher. One thread is also the fastest on small models.
RUN_DEFAULTS = {"threads": 1}


def plan_runs(specs: list[BenchmarkSpec], preset: str, seeds: int | None, out: Path,
              overrides: list[str], data_dir: Path, rows: list[str] | None = None,
              metrics: list[str] | None = None) -> list[RunPlan]:
    """Resolves every run and reads its data (bad data fails here, before any training). The run hash
    covers the code fingerprint (arae/fingerprint.py), the benchmark version and a fingerprint of the sentences, so neither a code fix
    nor new data in the same folder ever reuses old results."""
    _load_corpus.cache_clear()  # data is read afresh by every command, then shared by its runs
    plans = []
    for spec in specs:
        p, chosen = spec.presets[preset], select_metrics(spec, metrics)
        for row in select_rows(spec, preset, rows):
            cfg = deep_merge(deep_merge(p.config, p.row_overrides.get(row.name, {})), row.overrides)
            cfg = apply_overrides(deep_merge(RUN_DEFAULTS, cfg), overrides, user_corpus=spec.user_corpus)
            if row.paper_data_only and cfg["data"].get("user_folder"):
                continue  # published outputs of the paper's test set say nothing about a user's data
            measured = tuple(m for m in chosen if not row.metrics or m.key in row.metrics)  # a row's own subset
            if cfg["threads"] < 1:
                raise ConfigError(f"threads={cfg['threads']}: a run needs at least one CPU thread")
            if cfg["train"]["amp"] not in AMP_MODES:
                raise ConfigError(f"train.amp={cfg['train']['amp']!r}: expected one of {', '.join(AMP_MODES)}")
            if cfg["train"].get("fixed_shapes", "auto") not in ("auto", True, False):
                raise ConfigError(f"train.fixed_shapes={cfg['train']['fixed_shapes']!r}: expected auto, true or false")
            model = MODELS.get(row.model)
            batchings = STYLE_BATCHINGS if getattr(model, "styled", False) else BATCHINGS
            if cfg["train"].get("batching", "official") not in batchings:
                raise ConfigError(f"train.batching={cfg['train']['batching']!r} (row {row.name!r}): expected one of "
                                  f"{', '.join(batchings)}")
            if lacking := spec.task.needs_for(cfg) - model.offers:
                raise ConfigError(f"{spec.name}: row {row.name!r} uses model {row.model!r}, which does not offer what "
                                  f"the {spec.task.name} task needs: {'; '.join(sorted(lacking))} (it offers: "
                                  f"{'; '.join(sorted(model.offers)) or 'nothing'})")
            trains_as = model.trains_as or row.model
            corpus, data_fingerprint = load_corpus(cfg, data_dir)
            if not isinstance(corpus, spec.task.reads):
                raise ConfigError(f"{spec.name}: the {spec.task.name} task reads {spec.task.reads.kind}; corpus "
                                  f"{cfg['data']['corpus']!r} is {corpus.kind}")
            n_seeds = seeds or p.seeds
            for k in range(min(n_seeds, row.max_seeds) if row.max_seeds else n_seeds):
                seed = derive_seed(spec.base_seed, spec.seeds_from or spec.name, row.seed_row or row.name, k)
                train_key = config_hash({"code": code_fingerprint(), "model": trains_as, "seed": seed,
                                         "config": training_config(cfg), "data": data_fingerprint})
                key = config_hash({"benchmark": spec.name, "version": spec.version, "code": code_fingerprint(),
                                   "row": row.name, "model": row.model, "config": cfg, "seed": seed,
                                   "data": data_fingerprint, "metrics": [m.key for m in measured],
                                   "inputs": model.input_fingerprint(cfg, data_dir)})
                plans.append(RunPlan(spec, row, preset, k, seed, cfg, data_fingerprint, key, train_key,
                                     out / spec.name / row.name / f"seed{k}-{key[:8]}", measured, Path(data_dir)))
    return plans


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")  # orders quick re-runs too


def write_status(run_dir: Path, state: str, error: str | None = None) -> None:
    atomic_write_json(run_dir / "status.json", {"state": state, "error": error, "updated": _now()})


class RunLock:
    """An exclusive lock on a run folder, so two processes never run the same run at once."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / ".lock"

    def __enter__(self) -> bool:
        self.file = open(self.path, "w")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def __exit__(self, *exc) -> None:
        self.file.close()


@functools.lru_cache(maxsize=4)
def _load_corpus(name: str, path: str | None, data_dir: str, options: tuple, user_folder: bool) -> tuple[Corpus, str]:
    corpus = build_corpus(name, path or data_dir, **dict(options))
    if user_folder:  # a folder given as --set data=PATH is the user's own: no paper numbers apply
        corpus.description["user_corpus"] = corpus.description.get("user_corpus") or str(path)
    for split in ("train", "test"):
        if not corpus.size(split):
            files = ", ".join(corpus.description["files"].get(split, [])) or str(path or data_dir)
            within = f" with at most {dict(options).get('maxlen')} tokens (data.maxlen)" if corpus.unit == "sentence" else ""
            raise DataError(files, f"no {split} {corpus.unit}{within}")
    digest = hashlib.sha256()
    for part in corpus.fingerprint_parts():
        digest.update(part)
    return corpus, digest.hexdigest()


CORPUS_OPTIONS_NOT_FOR_READING = ("corpus", "path", "vocab_size", "vocab_min_count", "user_folder")


def load_corpus(cfg: dict, data_dir: Path) -> tuple[Corpus, str]:
    """A config's corpus and a fingerprint of its sentences, read once per process. Every `data` key but
    the corpus name, its path and the vocabulary size goes to the corpus builder (maxlen, lowercase, ...)."""
    d = cfg["data"]
    options = tuple(sorted((k, v) for k, v in d.items() if k not in CORPUS_OPTIONS_NOT_FOR_READING))
    return _load_corpus(d["corpus"], d["path"], str(data_dir), options, bool(d.get("user_folder")))


def _clear(run_dir: Path) -> None:
    """--force: forget everything the run computed (its config and lock stay)."""
    for name in RESULT_FILES:
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def cpu_threads(n: int):
    """Computes with `n` CPU threads inside the block (the run's `threads` setting): torch's and those of the
    BLAS and OpenMP pools behind numpy, scipy and scikit-learn (judges, classifiers); then restores them."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpoolctl.threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(previous)


def execute(plan: RunPlan, data_dir: Path, device: torch.device, force: bool = False) -> str:
    """Runs one plan to completion; returns "done", "skipped", "locked" or "failed" (reason in status.json)."""
    plan.dir.mkdir(parents=True, exist_ok=True)
    with RunLock(plan.dir) as locked:
        if not locked:
            return "locked"
        if read_status(plan.dir) == "done" and (plan.dir / "result.json").exists() and not force:
            write_status(plan.dir, "done")  # refreshed: the report shows the runs of the latest command
            return "skipped"
        if force:
            _clear(plan.dir)
        (plan.dir / "error.log").unlink(missing_ok=True)
        atomic_write_json(plan.dir / "run.json", {
            "benchmark": plan.spec.name, "version": plan.spec.version, "row": plan.row.name,
            "model": plan.row.model, "seed_index": plan.seed_index, "seed": plan.seed, "preset": plan.preset,
            "hash": plan.hash, "code_version": CODE_VERSION, "code_fingerprint": code_fingerprint(),
            "train_key": plan.train_key,
            "data_fingerprint": plan.data_fingerprint, "config": plan.config,
            "metric_flavours": list(plan.metric_names.values())})
        with cpu_threads(plan.config["threads"]):
            atomic_write_json(plan.dir / "env.json", environment(device))
            write_status(plan.dir, "running")
            try:
                atomic_write_json(plan.dir / "result.json", run_one(plan, data_dir, device))
            except KeyboardInterrupt as err:
                how = (f"resume from its checkpoint{f' ({err})' if str(err) else ''}"
                       if (plan.dir / "checkpoint.pt").exists() else "start it over (it had no checkpoint yet)")
                message = f"{plan.name} stopped (Ctrl-C or SIGTERM); the same command will {how}"
                write_status(plan.dir, "stopped", message)
                raise KeyboardInterrupt(message) from None
            except SuiteError as err:
                write_status(plan.dir, "failed", str(err))
                return "failed"
            except Exception as err:  # a crash in one run must not stop the others; the traceback is kept
                atomic_write_text(plan.dir / "error.log", traceback.format_exc())
                write_status(plan.dir, "failed", f"{type(err).__name__}: {err} (traceback in {plan.dir / 'error.log'})")
                return "failed"
            write_status(plan.dir, "done")
            return "done"


def run_one(plan: RunPlan, data_dir: Path, device: torch.device) -> dict:
    """The result record of one run (arae/schema.py): what every benchmark records, plus what its task
    computed; a record that does not fit the schema fails the run."""
    corpus, _ = load_corpus(plan.config, data_dir)
    seed_everything(plan.seed)
    computed = plan.spec.task().run(plan, corpus, device)
    computed["timing"]["wall_seconds"] = round(own_wall_seconds(computed["timing"]), 3)
    record = {"benchmark": plan.spec.name, "version": plan.spec.version, "row": plan.row.name,
              "seed_index": plan.seed_index, "seed": plan.seed, "preset": plan.preset, **computed}
    check_result(record)
    return record
