"""What every metric takes (EvalContext) and returns (MetricValue), and the METRICS registry."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from arae.errors import MetricNotComputable
from arae.registry import Registry

KENLM_DEFAULT_ORDER = 5  # lang/train.py --N 5
# Above this share of scored words outside the LM's vocabulary, a perplexity says more about the vocabulary
# than about the text (a collapsed generator's reverse LM knows a handful of words): its cell carries a warning.
OOV_WARNING = 0.10


def oov_note(rate: float, of: str = "") -> str:
    """What a perplexity rests on: its out-of-vocabulary share, with a warning above OOV_WARNING."""
    note = f"OOV {rate:.1%}{of}"
    if rate > OOV_WARNING:
        note += f"; warning: above {OOV_WARNING:.0%}, the LM knows too few of the scored words"
    return note


@dataclass
class MetricValue:
    """A number, or the reason there is none: a metric never reports a made-up value."""

    value: float | None
    missing_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rests_on: str = ""  # what a reader needs to weigh the value (shown beside it), e.g. "300 labelled pairs"

    def __post_init__(self) -> None:
        if (self.value is None) == (self.missing_reason is None):
            raise ValueError("a MetricValue has either a value or a missing_reason, not both or neither")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"non-finite metric value {self.value}; record a missing_reason instead")

    @classmethod
    def missing(cls, reason: str, **details: Any) -> "MetricValue":
        return cls(None, reason, dict(details))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalContext:
    """Everything a metric may look at. `outputs` are the method's named outputs ("samples": sentences,
    "transfers": a list of arae.metrics.transfer.Direction); `params` holds flavour settings such as
    {"order": 5}; `corpus` is the run's data (styles, references) where a metric needs more than text.
    `workdir` is this run's scratch space; `artefacts` is shared by all runs of an output folder."""

    outputs: dict[str, Any]
    train_text: list[str]
    eval_text: list[str]
    vocab_words: list[str]
    workdir: Path
    params: dict[str, Any] = field(default_factory=dict)
    artefacts: Path | None = None
    corpus: Any = None
    valid_text: list[str] = field(default_factory=list)  # real held-out text for model selection, if any
    device: Any = "cpu"  # where a metric that trains a model (the RNN LMs) runs: the run's device

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise MetricNotComputable(f"this metric reads the output {name!r}, which this run did not produce "
                                      f"(it has: {', '.join(self.outputs) or 'none'})")
        return self.outputs[name]

    @property
    def generated(self) -> list[str]:
        """The text the method produced: its samples, or every transfer output."""
        if "transfers" in self.outputs:
            return [line for d in self.outputs["transfers"] for line in d.outputs]
        return self.output("samples")

    @property
    def reverse_lm_text(self) -> list[str]:
        """What a reverse LM learns from: the task's sample made for it (`reverse_lm_text`, e.g. transfers of
        training sentences, more than the test transfers), else the generated text."""
        return self.outputs.get("reverse_lm_text") or self.generated

    @property
    def generated_by_direction(self) -> dict[str, list[str]] | None:
        """The transfer outputs of each direction ("negative->positive"), or None for samples."""
        if "transfers" not in self.outputs:
            return None
        return {d.name(self.corpus.styles): d.outputs for d in self.outputs["transfers"]}

    @property
    def artefact_root(self) -> Path:
        return self.artefacts or self.workdir / "artefacts"


MetricFn = Callable[[EvalContext], MetricValue]
METRICS: Registry[MetricFn] = Registry("metric")


def needs_lmplz(metric: MetricFn) -> MetricFn:
    """Marks a metric that runs KenLM's lmplz, so only benchmarks that use one require it."""
    metric.needs_lmplz = True
    return metric


def kenlm_order(params: dict[str, Any]) -> int:
    return int(params.get("order", KENLM_DEFAULT_ORDER))


def flavoured_name(metric: str, params: dict[str, Any]) -> str:
    """The name a result is recorded under: kenlm metrics carry their order (reverse_ppl.kenlm5)."""
    return f"{metric}{kenlm_order(params)}" if metric.endswith(".kenlm") else metric
