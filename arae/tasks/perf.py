"""The `perf` benchmark's task: each row measures one thing and records it as metrics (plus curves
for the scaling rows): a model's training throughput, greedy generation, one stage of the metric
pipeline, or how time grows with the training set and the vocabulary.

Absolute speeds describe the machine they ran on (machines of one kind differ several-fold); a
ratio means something only between numbers measured in one run, like `generation_efficiency`,
decoding's FLOP rate over a plain matmul's measured right after it.
"""
from __future__ import annotations

import random
import shutil
import threading
import time

import sacrebleu
import torch

from arae.config import deep_merge
from arae.data.batching import make_batcher
from arae.data.vocab import EOS_ID, Vocab
from arae.metrics import METRICS, EvalContext, MetricValue
from arae.metrics.ngram_lm import train_ngram
from arae.metrics.style_judge import TfidfLogreg, export, fit_judge
from arae.registry import Registry
from arae.tasks.base import RunPlan, Task, build_method
from arae.training.loop import autocast_for

MEASURES: Registry = Registry("perf measure")  # perf.measure in a row's config picks one


class PeakMemory:
    """Highest memory in use during a `with` block: the CUDA allocator's peak on a GPU; on the CPU
    the process's resident set, polled every 5 ms (it includes what the process held before)."""

    def __init__(self, device: torch.device):
        self.device, self.peak, self._stop = device, 0, threading.Event()

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    def _poll(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak = self._rss()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self._rss())

    @property
    def what(self) -> str:
        return "CUDA allocator peak" if self.device.type == "cuda" else "process resident set (CPU)"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Perf(Task):
    """Each row measures one thing (its config's perf.measure) instead of training, producing and scoring."""
    name = "perf"
    measures_itself = True

    def run(self, plan: RunPlan, corpus, device: torch.device) -> dict:
        """The row's measure; its wall seconds and peak memory are recorded unless it says why not."""
        with PeakMemory(device) as peak:
            began = time.perf_counter()
            metrics, previews = MEASURES.get(plan.config["perf"]["measure"])(plan, corpus, device)
            seconds = time.perf_counter() - began
        metrics.setdefault("seconds", MetricValue(round(seconds, 3)))
        metrics.setdefault("peak_memory_mib", MetricValue(round(peak.peak / 2**20, 1), details={"what": peak.what}))
        return {"metrics": {k: v.to_dict() for k, v in metrics.items()}, "previews": previews, "notes": [], "counts": {},
                "details": {}, "data": corpus.description, "timing": {"measure_seconds": round(seconds, 3)}}


def _time_steps(method, batcher, cfg: dict, first: int, steps: int, device: torch.device) -> float:
    """Seconds for `steps` training iterations from step `first`, synchronised at both ends."""
    _sync(device)
    began = time.perf_counter()
    with autocast_for(cfg, device):
        for step in range(first, first + steps):
            method.train_step(step, batcher)
    _sync(device)
    return time.perf_counter() - began


@MEASURES.register("training")
def training_throughput(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
    """Iterations, sentences and reconstructed (or modelled) tokens per second of the row's model."""
    cfg, p = plan.config, plan.config["perf"]
    _, batcher, method = build_method(cfg, plan.row.model, corpus.train, plan.seed, device)
    _time_steps(method, batcher, cfg, 0, p["warmup"], device)
    seconds = _time_steps(method, batcher, cfg, p["warmup"], p["steps"], device)
    tokens = sum(int(batcher.batch(s).lengths.sum()) for s in range(p["warmup"], p["warmup"] + p["steps"]))
    return {"it_per_s": MetricValue(p["steps"] / seconds),
            "sentences_per_s": MetricValue(p["steps"] * method.sentences_per_step / seconds),
            "tokens_per_s": MetricValue(tokens / seconds)}, []


def decoded_steps(ids: torch.Tensor) -> int:
    """Row-steps a greedy decode computed: each row up to and including its <eos>, else every step."""
    ended = ids == EOS_ID
    first_eos = torch.where(ended.any(1), ended.int().argmax(1) + 1, ids.size(1))
    return int(first_eos.sum())


def _matmul_flops_per_s(rows: int, inner: int, cols: int, device: torch.device, seconds: float = 0.5) -> float:
    """FLOP/s of a plain (rows x inner) @ (inner x cols) matmul, repeated for about `seconds`."""
    a, b = torch.randn(rows, inner, device=device), torch.randn(inner, cols, device=device)
    a @ b
    reps, began = 0, time.perf_counter()
    while reps < 3 or time.perf_counter() - began < seconds:
        a @ b
        reps += 1
        if reps % 8 == 0:
            _sync(device)
    _sync(device)
    return 2 * rows * inner * cols * reps / (time.perf_counter() - began)


@MEASURES.register("generation")
def greedy_generation(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
    """eval.n_samples greedy sentences from generator codes, in batches of eval.sample_batch, ids turned
    into words. generation_efficiency: FLOP/s of the decoder's matmuls (LSTM and output projection, per
    decoded row-step; the code's share of the gates once per sentence) over those of a plain matmul
    shaped like the output projection of one batch. The model is untrained: its sentences mostly run
    to data.maxlen, so sentences/s is a lower bound for a trained model, which stops earlier."""
    return _generation_metrics(plan.config, plan.row.model, corpus, plan.seed, device), []


def _generation_metrics(cfg: dict, model: str, corpus, seed: int, device: torch.device) -> dict:
    vocab, _, method = build_method(cfg, model, corpus.train, seed, device)
    method.eval()
    m, e = cfg["model"], cfg["eval"]
    n, batch, hidden, emsize = e["n_samples"], e["sample_batch"], m["nhidden"], m["emsize"]
    noise = torch.Generator(device=device).manual_seed(seed)
    steps, sentences = 0, 0
    _sync(device)
    began = time.perf_counter()
    while sentences < n:
        b = min(batch, n - sentences)
        with torch.inference_mode():
            ids = method.ae.generate(method.gen(torch.randn(b, m["z_size"], generator=noise, device=device)),
                                     cfg["data"]["maxlen"])
        rows = ids.cpu().tolist()
        words = [vocab.decode(row) for row in rows]
        steps, sentences = steps + decoded_steps(ids), sentences + len(words)
    seconds = time.perf_counter() - began
    per_step = 2 * 4 * hidden * (emsize + hidden) + 2 * hidden * len(vocab)
    flops = steps * per_step + sentences * 2 * 4 * hidden * hidden
    reference = _matmul_flops_per_s(batch, hidden, len(vocab), device)
    details = {"decoded_steps": steps, "decode_gflop_per_s": round(flops / seconds / 1e9, 2),
               "matmul_gflop_per_s": round(reference / 1e9, 2), "batch": batch, "vocab_size": len(vocab)}
    return {"sentences_per_s": MetricValue(sentences / seconds, details={"n": sentences}),
            "tokens_per_s": MetricValue(steps / seconds, details={"what": "decoded row-steps"}),
            "generation_efficiency": MetricValue(flops / seconds / reference, details=details)}


def _sample_text(plan: RunPlan, corpus, n: int) -> list[str]:
    """n training sentences drawn with replacement: stand-in samples of the real distribution's lengths."""
    rng = random.Random(plan.seed)
    return [" ".join(rng.choice(corpus.train)) for _ in range(n)]


def _metric_stage(metric: str):
    def measure(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
        cfg, workdir = plan.config, plan.dir / "perf_work"
        shutil.rmtree(workdir, ignore_errors=True)  # a fresh folder: the forward LM is built, not reused
        samples = _sample_text(plan, corpus, cfg["eval"]["n_samples"])
        ctx = EvalContext(outputs={"samples": samples}, train_text=[" ".join(s) for s in corpus.train],
                          eval_text=[" ".join(s) for s in corpus.test],
                          vocab_words=Vocab.build(corpus.train, cfg["data"]["vocab_size"]).words, workdir=workdir,
                          params={"order": cfg["eval"]["ngram_order"]}, artefacts=workdir / "artefacts")
        began = time.perf_counter()
        value = METRICS.get(metric)(ctx)
        seconds = time.perf_counter() - began
        shutil.rmtree(workdir, ignore_errors=True)
        return {"sentences_per_s": MetricValue(len(samples) / seconds, details={"value": value.value})}, []
    return measure


MEASURES.add("reverse_ppl", _metric_stage("reverse_ppl.kenlm"))
MEASURES.add("forward_ppl", _metric_stage("forward_ppl.kenlm"))


@MEASURES.register("bleu")
def bleu_pairs(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
    """Corpus BLEU (sacrebleu) of perf.bleu_pairs sentence pairs, as the transfer benchmark scores them."""
    n = plan.config["perf"]["bleu_pairs"]
    hypotheses = _sample_text(plan, corpus, n)
    references = [" ".join(corpus.test[i % len(corpus.test)]) for i in range(n)]
    began = time.perf_counter()
    score = sacrebleu.corpus_bleu(hypotheses, [references], force=True).score  # our text is tokenized
    return {"sentences_per_s": MetricValue(n / (time.perf_counter() - began), details={"bleu": score})}, []


@MEASURES.register("judge")
def judge_training(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
    """The transfer benchmark's style judge (arae/metrics/style_judge.py) fitted on the training split cut
    in two halves as two "styles" (on SNLI: mostly premises against hypotheses), then applied to the test
    split: sentences/s of fitting; the details hold prediction speed and the accuracy it reached."""
    texts = [" ".join(s) for s in corpus.train]
    halves = [texts[: len(texts) // 2], texts[len(texts) // 2:]]
    began = time.perf_counter()
    judge = TfidfLogreg.from_arrays(*export(fit_judge(halves)))  # fitted, then exported as the benchmark stores it
    fit_seconds = time.perf_counter() - began
    test = [" ".join(s) for s in corpus.test]
    began = time.perf_counter()
    judge.predict(test)
    predict_seconds = time.perf_counter() - began
    return {"sentences_per_s": MetricValue(len(texts) / fit_seconds, details={
        "n_train": len(texts), "fit_seconds": round(fit_seconds, 3),
        "predict_sentences_per_s": round(len(test) / predict_seconds, 1)})}, []


def _seconds_per_step(cfg: dict, model: str, sentences, seed: int, steps: int, device: torch.device):
    vocab, batcher, method = build_method(cfg, model, sentences, seed, device)
    _time_steps(method, batcher, cfg, 0, 1, device)
    return _time_steps(method, batcher, cfg, 1, steps, device) / steps, batcher, vocab


@MEASURES.register("scaling_train_size")
def time_against_train_size(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
    """Data preparation (vocabulary, encoding, batch tables), the forward n-gram LM and a training
    epoch (projected from perf.steps timed iterations) on the first fraction f of the training
    split, for f in perf.fractions."""
    cfg, p = plan.config, plan.config["perf"]
    series: dict[str, list[list[float]]] = {"data preparation (s)": [], "forward n-gram LM build (s)": [],
                                            "training epoch, projected (s)": []}
    for fraction in p["fractions"]:
        sentences = corpus.train[: max(cfg["train"]["batch_size"], int(len(corpus.train) * fraction))]
        began = time.perf_counter()
        vocab = Vocab.build(sentences, cfg["data"]["vocab_size"])
        make_batcher(cfg["train"]["batching"], [vocab.encode(s) for s in sentences], cfg["train"]["batch_size"],
                     plan.seed)
        series["data preparation (s)"].append([len(sentences), time.perf_counter() - began])
        workdir = plan.dir / "perf_work"
        began = time.perf_counter()
        train_ngram([" ".join(s) for s in sentences], cfg["eval"]["ngram_order"], workdir)
        series["forward n-gram LM build (s)"].append([len(sentences), time.perf_counter() - began])
        shutil.rmtree(workdir, ignore_errors=True)
        per_step, batcher, _ = _seconds_per_step(cfg, plan.row.model, sentences, plan.seed, p["steps"], device)
        series["training epoch, projected (s)"].append([len(sentences), per_step * batcher.batches_per_epoch])
    return {}, [{"kind": "curves", "section": "Measured curves", "title": "",
                 "x_label": "training sentences", "series": series}]


@MEASURES.register("scaling_vocab")
def time_against_vocab(plan: RunPlan, corpus, device: torch.device) -> tuple[dict, list]:
    """Training milliseconds per iteration and greedy generation per 1,000 sentences of the row's
    model, with the vocabulary capped at each of perf.vocab_sizes."""
    cfg, p = plan.config, plan.config["perf"]
    series: dict[str, list[list[float]]] = {"training (ms / iteration)": [],
                                            "greedy generation (ms / 1,000 sentences)": []}
    for size in p["vocab_sizes"]:
        capped = deep_merge(cfg, {"data": {"vocab_size": size}})
        per_step, _, vocab = _seconds_per_step(capped, plan.row.model, corpus.train, plan.seed, p["steps"], device)
        series["training (ms / iteration)"].append([len(vocab), 1000 * per_step])
        metrics = _generation_metrics(deep_merge(capped, {"eval": {"n_samples": 1000}}), plan.row.model, corpus,
                                      plan.seed, device)
        series["greedy generation (ms / 1,000 sentences)"].append([len(vocab), 1e6 / metrics["sentences_per_s"].value])
    return {}, [{"kind": "curves", "section": "Measured curves", "title": "",
                 "x_label": "vocabulary size", "series": series}]

