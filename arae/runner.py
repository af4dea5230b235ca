"""Plan runs -> skip finished -> train / sample / score -> write records. One run = one folder.

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
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import threadpoolctl
import torch

from arae import CODE_VERSION
from arae.benchmark import BenchmarkSpec, Row
from arae.config import apply_overrides, config_hash, deep_merge, training_config
from arae.data import Corpus, build_corpus
from arae.data.batching import BATCHINGS, StyleBatcher, make_batcher
from arae.data.vocab import Vocab
from arae.envinfo import environment
from arae.errors import ConfigError, DataError, MetricNotComputable, SuiteError
from arae.fingerprint import code_fingerprint
from arae.io import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json
from arae.metrics import METRICS, EvalContext, MetricValue
from arae.metrics.base import KENLM_DEFAULT_ORDER
from arae.models import MODELS
from arae.registry import Registry
from arae.results import own_wall_seconds
from arae.seeding import derive_seed, seed_everything
from arae.training.loop import train

RESULT_FILES = ("checkpoint.pt", "scalars.jsonl", "samples", "predictions", "metrics", "metrics_work", "result.json", "error.log")


@dataclass
class RunPlan:
    spec: BenchmarkSpec
    row: Row
    preset: str
    seed_index: int
    seed: int
    config: dict
    data_fingerprint: str           # sha256 of the sentences of every split
    hash: str
    train_key: str                  # what decides the trained weights; equal keys train identically
    dir: Path
    metrics: tuple                  # the spec's MetricSpecs this run computes (--metric selects; default all)

    @property
    def name(self) -> str:
        return f"{self.spec.name}/{self.row.name}/seed{self.seed_index}"

    @property
    def metric_params(self) -> dict:
        e = self.config["eval"]
        return {"order": e.get("ngram_order", KENLM_DEFAULT_ORDER), "rnnlm": e.get("rnnlm")}

    @property
    def metric_names(self) -> dict[str, str]:
        """Each metric's key in the spec -> the name its result is recorded under."""
        return {m.key: m.recorded_name(self.metric_params) for m in self.metrics}


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
            if cfg["threads"] < 1:
                raise ConfigError(f"threads={cfg['threads']}: a run needs at least one CPU thread")
            if cfg["train"]["amp"] not in AMP_MODES:
                raise ConfigError(f"train.amp={cfg['train']['amp']!r}: expected one of {', '.join(AMP_MODES)}")
            if cfg["train"].get("batching", "official") not in BATCHINGS:
                raise ConfigError(f"train.batching={cfg['train']['batching']!r}: expected one of {', '.join(BATCHINGS)}")
            trains_as = MODELS.get(row.model).trains_as or row.model
            _, data_fingerprint = load_corpus(cfg, data_dir)
            for k in range(seeds or p.seeds):
                seed = derive_seed(spec.base_seed, spec.name, row.seed_row or row.name, k)
                train_key = config_hash({"code": code_fingerprint(), "model": trains_as, "seed": seed,
                                         "config": training_config(cfg), "data": data_fingerprint})
                key = config_hash({"benchmark": spec.name, "version": spec.version, "code": code_fingerprint(),
                                   "row": row.name, "model": row.model, "config": cfg, "seed": seed,
                                   "data": data_fingerprint, "metrics": [m.key for m in chosen]})
                plans.append(RunPlan(spec, row, preset, k, seed, cfg, data_fingerprint, key, train_key,
                                     out / spec.name / row.name / f"seed{k}-{key[:8]}", chosen))
    return plans


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")  # orders quick re-runs too


def write_status(run_dir: Path, state: str, error: str | None = None) -> None:
    atomic_write_json(run_dir / "status.json", {"state": state, "error": error, "updated": _now()})


def read_status(run_dir: Path) -> str | None:
    try:
        return read_json(run_dir / "status.json")["state"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
        if not getattr(corpus, split) and not len(corpus.images.get(split, ((), ()))[0]):
            files = ", ".join(corpus.description["files"].get(split, [])) or str(path or data_dir)
            raise DataError(files, f"no {split} sentence with at most {dict(options).get('maxlen')} tokens (data.maxlen)"
                            if not corpus.images else f"no {split} image")
    digest = hashlib.sha256()
    for split in (corpus.train, corpus.valid, corpus.test):
        digest.update("\n".join(" ".join(s) for s in split).encode() + b"\0")
    if corpus.styles:  # which sentence has which style, and the references, decide results too
        digest.update(repr((corpus.styles, corpus.description["sizes_per_style"], corpus.references)).encode())
    for split, pairs in sorted(corpus.pairs.items()):  # labelled pairs: their labels decide results too
        digest.update(split.encode() + repr([(p.premise, p.hypothesis, p.label) for p in pairs]).encode())
    for split, (pixels, labels) in sorted(corpus.images.items()):
        digest.update(split.encode() + pixels.tobytes() + labels.tobytes())
    return corpus, digest.hexdigest()


CORPUS_OPTIONS_NOT_FOR_READING = ("corpus", "path", "vocab_size", "user_folder")


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
                message = f"{plan.name} interrupted by the user; the same command will {how}"
                write_status(plan.dir, "pending", message)
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


def log(plan: RunPlan, message: str) -> None:
    print(f"[{plan.name}] {message}", file=sys.stderr, flush=True)


TASKS: Registry = Registry("task")  # what a benchmark's runs do, by BenchmarkSpec.task


def run_one(plan: RunPlan, data_dir: Path, device: torch.device) -> dict:
    """The result record of one run: what every benchmark records, plus what its task computed
    (at least "metrics" and "timing")."""
    corpus, _ = load_corpus(plan.config, data_dir)
    seed_everything(plan.seed)
    computed = TASKS.get(plan.spec.task)(plan, corpus, device)
    computed["timing"]["wall_seconds"] = round(own_wall_seconds(computed["timing"]), 3)
    return {"benchmark": plan.spec.name, "version": plan.spec.version, "row": plan.row.name,
            "seed_index": plan.seed_index, "seed": plan.seed, "preset": plan.preset,
            "data": corpus.description, **computed}


def build_method(cfg: dict, model: str, sentences: list[list[str]], seed: int, device: torch.device,
                 styles: list[list[list[str]]] | None = None):
    """The vocabulary and training batches of `sentences`, and the model `model` built for them. A model
    that trains per style gets one batcher per style of `styles` (which together are `sentences`)."""
    vocab, kind = Vocab.build(sentences, cfg["data"]["vocab_size"]), MODELS.get(model)
    batch_size, batching = cfg["train"]["batch_size"], cfg["train"]["batching"]
    if kind.styled:
        if not styles or len(styles) < 2:
            raise ConfigError(f"model {model} trains on sentences per style; corpus {cfg['data']['corpus']} has "
                              f"{len(styles or [])} style(s)")
        batcher = StyleBatcher(batching, [[vocab.encode(s) for s in style] for style in styles], batch_size, seed)
        method = kind(vocab, cfg, device, n_styles=len(styles))
    else:
        batcher = make_batcher(batching, [vocab.encode(s) for s in sentences], batch_size, seed)
        method = kind(vocab, cfg, device)
    method.prepare(sentences, batcher.to(device))
    return vocab, batcher, method


def eval_context(plan: RunPlan, corpus: Corpus, vocab: Vocab | None, outputs: dict, eval_text: list[list[str]],
                 device: torch.device | str = "cpu") -> EvalContext:
    return EvalContext(outputs=outputs, train_text=[" ".join(s) for s in corpus.train],
                       eval_text=[" ".join(s) for s in eval_text], vocab_words=vocab.words if vocab else [],
                       valid_text=[" ".join(s) for s in corpus.valid],
                       workdir=plan.dir / "metrics_work", params=plan.metric_params,
                       artefacts=plan.dir.parents[2] / "_artefacts", corpus=corpus, device=device)


@TASKS.register("generation")
def generation_task(plan: RunPlan, corpus: Corpus, device: torch.device) -> dict:
    """Train (or reuse a twin's training), sample, score the samples."""
    cfg = plan.config
    vocab, batcher, method = build_method(cfg, plan.row.model, corpus.train, plan.seed, device)
    timing = train_or_reuse(plan, method, batcher)
    samples, timing["sample_seconds"] = _samples(plan, method)
    ctx = eval_context(plan, corpus, vocab, {"samples": samples}, corpus.test, device)
    metrics, timing["metric_seconds"] = compute_metrics(plan, ctx)
    return {"metrics": metrics, "samples_preview": samples[: cfg["eval"]["n_preview"]], "n_samples": len(samples),
            "n_samples_requested": cfg["eval"]["n_samples"], "data": {**corpus.description, "vocab_size": len(vocab)},
            "timing": timing}


def train_or_reuse(plan: RunPlan, method, batcher) -> dict:
    """Trains the method (resuming from its checkpoint), or adopts a finished twin's training; returns timing."""
    timing = {}
    if method.trains:
        if twin := _adopt_twin_training(plan):
            timing["training_reused_from"] = twin
            log(plan, f"trains exactly like {twin} (same training key): reusing its final checkpoint")
        timing |= train(method, batcher, plan.config, plan.dir, report=functools.partial(log, plan))
        log(plan, f"training throughput: {timing['train_sentences_per_sec']} sentences/s")
    return timing


def _adopt_twin_training(plan: RunPlan) -> str | None:
    """Work done once: a run whose training key equals that of a finished run (e.g. `arae_gauss` and
    `arae`, which differ only in how they sample) copies its final checkpoint and curves instead of
    training again; if the twin is being run by another process, it waits for it (only for a twin whose folder
    sorts first, so that two twins never wait for each other). Returns the twin's folder relative to the output
    folder, or None."""
    if (plan.dir / "checkpoint.pt").exists():
        return None
    out = plan.dir.parents[2]
    for run_json in sorted(out.glob("*/*/seed*/run.json")):
        twin = run_json.parent
        try:
            same = twin != plan.dir and read_json(run_json).get("train_key") == plan.train_key
        except (OSError, ValueError):
            continue
        if same and read_status(twin) == "running" and twin < plan.dir:
            log(plan, f"waiting for {twin.relative_to(out)}, which trains the same model in another process")
            with open(twin / ".lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_SH)  # returns once that process has released the run
        if same and read_status(twin) == "done" and (twin / "checkpoint.pt").exists():
            for name in ("checkpoint.pt", "scalars.jsonl"):
                if (twin / name).exists():
                    atomic_write_bytes(plan.dir / name, (twin / name).read_bytes())
            return str(twin.relative_to(out))
    return None


def _samples(plan: RunPlan, method) -> tuple[list[str], float]:
    """Generates the samples once; a resumed run reads them back instead of generating again."""
    path, meta_path = plan.dir / "samples" / "samples.txt", plan.dir / "samples" / "meta.json"
    if path.exists() and meta_path.exists():
        return path.read_text(encoding="utf-8").split("\n")[:-1], read_json(meta_path)["seconds"]
    began = time.perf_counter()
    generator = torch.Generator(device=method.device).manual_seed(derive_seed(plan.seed, "samples"))
    samples = [" ".join(s) for s in method.sample(plan.config["eval"]["n_samples"], generator)]
    seconds = round(time.perf_counter() - began, 3)
    atomic_write_text(path, "".join(s + "\n" for s in samples))
    atomic_write_json(meta_path, {"n": len(samples), "seconds": seconds})
    log(plan, f"{len(samples)} samples in {seconds:.1f}s")
    return samples, seconds


def compute_metrics(plan: RunPlan, ctx: EvalContext) -> tuple[dict, float]:
    """Each metric is stored in its own file as soon as it is computed; finished ones are not recomputed.
    A metric that cannot be computed from these outputs is recorded as missing, with its reason."""
    results, total = {}, 0.0
    for spec in plan.metrics:
        name = spec.recorded_name(plan.metric_params)
        path = plan.dir / "metrics" / f"{name}.json"
        if not path.exists():
            began = time.perf_counter()
            try:
                value = METRICS.get(spec.metric)(dataclasses.replace(ctx, params=ctx.params | spec.params)).to_dict()
            except MetricNotComputable as err:
                value = MetricValue.missing(str(err)).to_dict()
            value["seconds"] = round(time.perf_counter() - began, 3)
            atomic_write_json(path, value)
            shown = value["value"] if value["value"] is not None else f"missing ({value['missing_reason']})"
            log(plan, f"{name} = {shown}")
        record = read_json(path)
        total += record.pop("seconds", 0.0)
        results[name] = record
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return results, round(total, 3)
