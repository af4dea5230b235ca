"""Benchmark specs: one frozen dataclass per paper table, registered by name."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from arae.registry import Registry


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    model: str                      # a name in arae.models.MODELS
    overrides: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class MetricSpec:
    metric: str                     # a name in arae.metrics.METRICS; recorded with its flavour (kenlm5)
    label: str
    direction: str                  # "lower" or "higher" is better
    flavour_note: str = ""


@dataclass(frozen=True)
class Claim:
    text: str
    metric: str
    better: str
    worse: str


@dataclass(frozen=True)
class Preset:
    config: dict                    # the full resolved config of every row, before row overrides
    seeds: int = 1
    comparable_to_paper: bool = False
    row_overrides: dict = field(default_factory=dict)  # row name -> config patch for this preset only
    extra_rows: tuple = ()          # rows that exist in this preset only
    note: str = ""


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    version: int
    title: str
    paper_ref: str
    rows: tuple
    metrics: tuple
    paper: dict                     # row -> metric -> number as printed in the paper
    presets: dict
    claims: tuple = ()
    notes: tuple = ()
    base_seed: int = 1111

    def rows_for(self, preset: str) -> list[Row]:
        return list(self.rows) + list(self.presets[preset].extra_rows)

    def record(self, preset: str, metric_names: dict[str, str]) -> dict[str, Any]:
        """The spec as data for the report (benchmark.json): the report never imports specs.
        `metric_names` maps each metric to the flavoured name its results are recorded under."""
        p = self.presets[preset]
        return {"name": self.name, "version": self.version, "title": self.title, "paper_ref": self.paper_ref,
                "preset": preset, "comparable_to_paper": p.comparable_to_paper,
                "rows": [{"name": r.name, "label": r.label, "model": r.model, "note": r.note} for r in self.rows_for(preset)],
                "metrics": [{"name": metric_names[m.metric], **asdict(m)} for m in self.metrics], "paper": self.paper,
                "claims": [asdict(c) for c in self.claims], "notes": list(self.notes) + ([p.note] if p.note else [])}


BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark")
