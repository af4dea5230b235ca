"""What every run does, once: build the row's method, train it (or adopt a finished twin's training), let the
task produce its outputs, score them, and return the result record. A task (one module of this package each)
writes only what differs: what it produces from a trained method, and its previews."""
from __future__ import annotations

import dataclasses
import fcntl
import functools
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from arae.benchmark import BenchmarkSpec, Row
from arae.data import Corpus, TextCorpus
from arae.data.batching import StyleBatcher, make_batcher
from arae.data.vocab import Vocab
from arae.errors import ConfigError, MetricNotComputable
from arae.io import atomic_write_bytes, atomic_write_json, read_json
from arae.metrics import METRICS, EvalContext, MetricValue
from arae.metrics.base import KENLM_DEFAULT_ORDER
from arae.models import MODELS
from arae.models.seq2seq import uses_fixed_shapes
from arae.registry import Registry
from arae.training.loop import train


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
    data_dir: Path = Path(".")      # where the datasets (and given outputs) live; not part of the key

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


@dataclass
class Produced:
    """What a task made from a trained method: the outputs its metrics read, and the sections of its result
    record (arae/schema.py) that are its own: previews, counts, notes, details, what its data record adds, and
    the seconds of each phase it timed."""
    outputs: dict[str, Any]
    previews: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def short_of(made: int, asked: int, what: str) -> list[str]:
    """The note of a run that made fewer outputs than asked (the real-data row on a small corpus)."""
    return [f"only {made:,} of {asked:,} {what} (the source has no more)"] if made < asked else []


TASKS: Registry = Registry("task")  # every Task subclass, by its name (registered when it is defined)


class Task:
    """A benchmark's kind of run. Subclasses set `name` and write `produce` (and `check`, `build` or `eval_text`
    where they differ); `run` is the skeleton they share."""
    name: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset()  # what a row's method must offer (arae/models/capabilities.py)
    reads: ClassVar[type] = TextCorpus  # the kind of corpus it runs on (arae/data/corpora.py)
    measures_itself: ClassVar[bool] = False  # its numbers are its own measurements, not metrics of arae.metrics

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        TASKS.add(cls.name, cls)

    def run(self, plan: RunPlan, corpus: Corpus, device: torch.device) -> dict:
        self.check(plan, corpus)
        vocab, batcher, method = self.build(plan, corpus, device)
        timing = train_or_reuse(plan, method, batcher)
        produced = self.produce(plan, method, corpus, vocab, device)
        timing |= produced.seconds
        ctx = self.eval_context(plan, corpus, vocab, produced.outputs, device)
        metrics, timing["metric_seconds"] = compute_metrics(plan, ctx)
        data = {**corpus.description, **({"vocab_size": len(vocab)} if vocab else {}), **produced.data}
        return {"metrics": metrics, "previews": produced.previews, "notes": produced.notes, "counts": produced.counts,
                "details": produced.details, "data": data, "timing": timing}

    @classmethod
    def needs_for(cls, config: dict) -> frozenset[str]:
        """What a run with this config needs of its method (a task whose needs depend on its settings says so)."""
        return cls.needs

    def check(self, plan: RunPlan, corpus: Corpus) -> None:
        """Refuses data this task cannot run on (a DataError naming the file), before anything trains."""

    def build(self, plan: RunPlan, corpus: Corpus, device: torch.device):
        return build_method(plan.config, plan.row.model, corpus.train, plan.seed, device)

    def produce(self, plan: RunPlan, method, corpus: Corpus, vocab: Vocab | None, device: torch.device) -> Produced:
        raise NotImplementedError

    def eval_text(self, corpus: Corpus) -> list[list[str]]:
        """The real text the metrics compare the outputs with."""
        return corpus.test

    def texts(self, corpus: Corpus, vocab: Vocab | None) -> dict[str, list[str]]:
        """The real text (and vocabulary) the metrics may read; a task of other data has none."""
        join = lambda sentences: [" ".join(s) for s in sentences]  # noqa: E731
        return {"train_text": join(corpus.train), "eval_text": join(self.eval_text(corpus)),
                "valid_text": join(corpus.valid), "vocab_words": vocab.words}

    def eval_context(self, plan: RunPlan, corpus: Corpus, vocab: Vocab | None, outputs: dict,
                     device: torch.device) -> EvalContext:
        return EvalContext(outputs=outputs, **self.texts(corpus, vocab), workdir=plan.dir / "metrics_work",
                           params=plan.metric_params, artefacts=artefact_folder(plan), corpus=corpus, device=device)


def log(plan: RunPlan, message: str) -> None:
    print(f"[{plan.name}] {message}", file=sys.stderr, flush=True)


def build_method(cfg: dict, model: str, sentences: list[list[str]], seed: int, device: torch.device,
                 styles: list[list[list[str]]] | None = None):
    """The vocabulary and training batches of `sentences`, and the model `model` built for them. A model
    that trains per style gets one batcher per style of `styles` (which together are `sentences`)."""
    vocab = Vocab.build(sentences, cfg["data"]["vocab_size"], cfg["data"].get("vocab_min_count", 1))
    kind = MODELS.get(model)
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
    if uses_fixed_shapes(cfg["train"], device):
        batcher.fix_width()
    method.prepare(sentences, batcher.to(device))
    return vocab, batcher, method


def artefact_folder(plan: RunPlan) -> Path:
    """Where what every run of an output folder shares (fitted judges, classifiers) is kept."""
    return plan.dir.parents[2] / "_artefacts"


def train_or_reuse(plan: RunPlan, method, batcher) -> dict:
    """Trains the method (resuming from its checkpoint), or adopts a finished twin's training; returns timing."""
    timing = {}
    if method.trains:
        if twin := _adopt_twin_training(plan):
            timing["training_reused_from"] = twin
            log(plan, f"trains exactly like {twin} (same training key): reusing its final checkpoint")
        timing |= train(method, batcher, plan.config, plan.dir, report=functools.partial(log, plan))
        log(plan, f"training throughput: {timing['train_sentences_per_sec']} examples/s")
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


def read_status(run_dir: Path) -> str | None:
    try:
        return read_json(run_dir / "status.json")["state"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
            warned = f"  [{value['rests_on']}]" if "warning" in value.get("rests_on", "") else ""
            log(plan, f"{name} = {shown}{warned}")
        record = read_json(path)
        total += record.pop("seconds", 0.0)
        results[name] = record
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return results, round(total, 3)
