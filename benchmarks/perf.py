"""Performance: training throughput of every model at its paper configuration, greedy generation,
the metric pipeline, and time against training-set size and vocabulary size (not a paper table)."""
import baselines  # noqa: F401  (registers the baseline models, so every model gets a row)
from arae.tasks.perf import Perf
from arae.benchmark import BENCHMARKS, BenchmarkSpec, MetricSpec, Preset, Row, Target
from arae.config import deep_merge
from arae.models import MODELS
from arae.models.method import TextMethod
from benchmarks.snli_generation import PAPER_CONFIG, SMALL_CONFIG, SMOKE_CONFIG


def _training_rows() -> tuple:
    """One row per registered text model that trains on its own (arae_gauss trains as arae) on one corpus; the
    style-transfer models train on styles, so their throughput is in the yelp_transfer records instead, and the
    image models' in the bmnist records."""
    rows = []
    for name in MODELS.names():
        model = MODELS.get(name)
        if issubclass(model, TextMethod) and model.trains and not model.trains_as and not model.styled:
            rows.append(Row(f"train_{name}", f"Training: {name}", name, overrides={"perf": {"measure": "training"}},
                            metrics=("it_per_s", "sentences_per_s", "tokens_per_s", "seconds", "peak_memory_mib")))
    return tuple(rows)


def _measure(name: str, label: str, model: str, note: str, metrics: tuple) -> Row:
    return Row(name, label, model, overrides={"perf": {"measure": name}}, note=note,
               metrics=metrics + ("seconds", "peak_memory_mib"))


def _preset(n_samples: int, warmup: int, steps: int, fractions: list, vocab_sizes: list, scaling_model: dict,
            seeds: int, note: str) -> Preset:
    config = deep_merge(PAPER_CONFIG, {
        "eval": {"n_samples": n_samples},
        "perf": {"measure": "", "warmup": warmup, "steps": steps, "bleu_pairs": 1000, "fractions": fractions,
                 "vocab_sizes": vocab_sizes}})
    scaling = {"model": scaling_model["model"], "train": {"batch_size": scaling_model["train"]["batch_size"],
                                                          "critic_iters": scaling_model["train"]["critic_iters"]}}
    return Preset(config, seeds=seeds, note=note,
                  row_overrides={"scaling_train_size": scaling, "scaling_vocab": scaling})


SPEC = BenchmarkSpec(
    name="perf",
    version=1,
    task=Perf,
    requires=("lmplz",),  # its metric-pipeline rows run lmplz
    title="Performance: training, generation and metric throughput",
    paper_ref="not a paper table: the speed of this suite on the machine that ran it",
    rows=_training_rows() + (
        _measure("generation", "Greedy generation (ARAE)", "arae",
                 "untrained paper-size ARAE: sentences mostly run to maxlen, so sentences/s is a lower bound",
                 ("sentences_per_s", "tokens_per_s", "generation_efficiency")),
        _measure("reverse_ppl", "Metric: reverse PPL (lmplz on samples + scoring)", "real_data",
                 "eval.n_samples training sentences as stand-in samples", ("sentences_per_s",)),
        _measure("forward_ppl", "Metric: forward PPL (lmplz on the training split + scoring)", "real_data",
                 "the n-gram model is built inside the measurement, not reused", ("sentences_per_s",)),
        _measure("bleu", "Metric: BLEU on 1,000 pairs (sacrebleu)", "real_data", "", ("sentences_per_s",)),
        _measure("judge", "Metric: judge classifier training", "real_data",
                 "the style judge fitted on the training split's two halves as two styles", ("sentences_per_s",)),
        _measure("scaling_train_size", "Time against training-set size", "arae",
                 "the preset's scaling model (smoke/small: the snli_generation preset's ARAE size); curves below", ()),
        _measure("scaling_vocab", "Time against vocabulary size", "arae", "same model as the row above; curves below", ()),
    ),
    metrics=(
        MetricSpec("it_per_s", "Iterations/s", "higher",
                   "training iterations per second; an ARAE iteration is 1 AE, k critic, 1 encoder and 1 generator step"),
        MetricSpec("sentences_per_s", "Sentences/s", "higher",
                   "training: sentences reconstructed or modelled; generation: sentences decoded into words; "
                   "metric stages: sample sentences processed"),
        MetricSpec("tokens_per_s", "Tokens/s", "higher",
                   "training: real target tokens (<eos> included); generation: decoded row-steps"),
        MetricSpec("generation_efficiency", "Generation efficiency", "higher",
                   "FLOP/s of decoding (LSTM and output projection) over a plain matmul's of the output "
                   "projection's shape, measured in the same run"),
        MetricSpec("seconds", "Seconds", "lower", "wall seconds of the whole measurement, model setup included"),
        MetricSpec("peak_memory_mib", "Peak memory (MiB)", "lower",
                   "CUDA allocator peak on a GPU; on the CPU the process's resident set (includes earlier runs)"),
    ),
    paper={},
    targets=(Target("greedy generation runs at >= 0.5 of the FLOP rate of a plain matmul of its shape",
                    "generation", "generation_efficiency", 0.5),),
    notes=("Training rows use each model's paper configuration (official SNLI settings: 300-dim, batch 64, "
           "5 critic steps); only the number of timed iterations depends on the preset.",
           "Speed against the official code (ported to PyTorch 2.13) on the same data and machine: docs/performance.md.",),
    presets={
        "smoke": _preset(2000, 2, 5, [0.25, 0.5, 1.0], [500, 1000, 2000], SMOKE_CONFIG, 2,
                         "smoke preset: 5 timed iterations per model, 2,000 sentences; a plumbing check"),
        "small": _preset(10000, 3, 20, [0.1, 0.25, 0.5, 1.0], [1000, 2000, 5000, 11000], SMALL_CONFIG, 2,
                         "small preset: 20 timed iterations per model, 10,000 sentences"),
        "paper": _preset(100000, 5, 50, [0.1, 0.25, 0.5, 1.0], [2000, 5000, 11000], PAPER_CONFIG, 3,
                         "paper preset: 50 timed iterations per model, 100,000 sentences, scaling at paper size"),
    },
)
BENCHMARKS.add(SPEC.name, SPEC)
