"""What every metric takes (EvalContext) and returns (MetricValue), and the METRICS registry."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from arae.registry import Registry

KENLM_DEFAULT_ORDER = 5  # lang/train.py --N 5


@dataclass
class MetricValue:
    """A number, or the reason there is none: a metric never reports a made-up value."""

    value: float | None
    missing_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

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
    """Everything a metric may look at; params holds flavour settings such as {"order": 5}.
    `workdir` is this run's scratch space; `artefacts` is shared by all runs of an output folder."""

    samples: list[str]
    train_text: list[str]
    eval_text: list[str]
    vocab_words: list[str]
    workdir: Path
    params: dict[str, Any] = field(default_factory=dict)
    artefacts: Path | None = None


MetricFn = Callable[[EvalContext], MetricValue]
METRICS: Registry[MetricFn] = Registry("metric")


def kenlm_order(params: dict[str, Any]) -> int:
    return int(params.get("order", KENLM_DEFAULT_ORDER))


def flavoured_name(metric: str, params: dict[str, Any]) -> str:
    """The name a result is recorded under: kenlm metrics carry their order (reverse_ppl.kenlm5)."""
    return f"{metric}{kenlm_order(params)}" if metric.endswith(".kenlm") else metric
