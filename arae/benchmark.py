"""Benchmark specs: one frozen dataclass per paper table, registered by name."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arae.registry import Registry


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    model: str                      # a name in arae.models.MODELS
    overrides: dict = field(default_factory=dict)
    note: str = ""
    seed_row: str = ""              # derive seeds as this row does (a row that must train like it)
    metrics: tuple = ()             # the metrics this row measures (empty: all of the spec's)
    shows: tuple = ()               # config keys (a.b) whose values the report states for this row
    max_seeds: int = 0              # at most this many seeds (0: the preset's); 1 for outputs no seed changes
    paper_data_only: bool = False   # its outputs are of the paper's test set: left out on a user's own data


def given_row(name: str, label: str, folder: str, column: int | None = None, own_reference: int | None = None,
              also: str = "") -> Row:
    """A row that trains nothing and scores the transfers in `folder` (arae/models/given.py), as a published
    system's or a user's (`--outputs NAME=DIR`). `own_reference`: a human writer's rewrites are among the
    references; that one is left out of its reference BLEU. Its reverse LMs learn from its test transfers,
    the only text it has; its outputs depend on no seed, so one seed runs."""
    where = "a folder of the data folder" if not Path(folder).is_absolute() else "your folder"
    return Row(name, label, "given_transfers", max_seeds=1, paper_data_only=not Path(folder).is_absolute(),
               overrides={"given": {"dir": folder, "column": column, "own_reference": own_reference},
                          "eval": {"reverse_lm_sources": 0}},
               note=f"given transfers ({where}: {folder}), scored without training; its reverse PPLs learn from "
                    f"its test transfers{'. ' + also if also else ''}")


@dataclass(frozen=True)
class MetricSpec:
    metric: str                     # a name in arae.metrics.METRICS; recorded with its flavour (kenlm5)
    label: str
    direction: str                  # "lower" or "higher" is better
    flavour_note: str = ""
    params: dict = field(default_factory=dict)  # where it is measured, e.g. {"fraction": 0.222}: one column each

    @property
    def key(self) -> str:
        """How rows, claims, tradeoffs and paper numbers name this column: the metric, @ its params if any."""
        return self.metric + "".join(f"@{v}" for _, v in sorted(self.params.items()))

    def recorded_name(self, run_params: dict) -> str:
        """The name results are recorded under: the flavoured metric (reverse_ppl.kenlm5), @ its params."""
        from arae.metrics import flavoured_name
        return flavoured_name(self.metric, run_params) + self.key[len(self.metric):]


@dataclass(frozen=True)
class Claim:
    text: str
    metric: str
    better: str
    worse: str


@dataclass(frozen=True)
class Target:
    """A level a row's metric must reach (in the metric's better direction), e.g. an efficiency >= 0.5."""
    text: str
    row: str
    metric: str
    level: float


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
    paper: dict                     # row -> flavoured metric (the paper's protocol, e.g. reverse_ppl.rnnlm) -> number
    presets: dict
    claims: tuple = ()
    notes: tuple = ()
    base_seed: int = 1111
    title_on_user_data: str = "{corpus}"  # the title when run on a user's corpus (--set data=PATH)
    task: Any = None                # what each run does: a Task subclass (arae/tasks/)
    targets: tuple = ()
    user_corpus: str = "text_dir"   # the corpus that reads a user's folder given as --set data=PATH
    tradeoffs: tuple = ()           # (x metric, y metric) pairs the report plots row against row
    requires: tuple = ()            # external tools beyond those its metrics need, e.g. ("lmplz",)
    seeds_from: str = ""            # derive seeds as this benchmark does: its rows' trainings are then reused

    @property
    def needs_lmplz(self) -> bool:
        from arae.metrics import METRICS
        return "lmplz" in self.requires or any(
            getattr(METRICS.get(m.metric), "needs_lmplz", False) for m in self.metrics)

    def rows_for(self, preset: str) -> list[Row]:
        return list(self.rows) + list(self.presets[preset].extra_rows)

    def record(self, preset: str, metric_names: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
        """The spec as data for the report (benchmark.json): the report never imports specs.
        `metric_names` maps each metric the runs compute (its key) to the flavoured name its results are recorded
        under (a metric not selected is left out); `data` is the
        corpus description. On a user's own corpus there are no paper numbers and the title names the corpus;
        a preset is comparable to the paper only on the paper's own (not substitute) data."""
        p = self.presets[preset]
        user_corpus = data.get("user_corpus")

        def measured(metric: str) -> bool:  # by key or by flavoured name
            return metric in metric_names or metric in metric_names.values()
        comparable = p.comparable_to_paper and not user_corpus and not data.get("substitute")
        return {"name": self.name, "version": self.version, "paper_ref": "" if user_corpus else self.paper_ref,
                "preset": preset,
                "title": self.title_on_user_data.format(corpus=user_corpus) if user_corpus else self.title,
                "comparable_to_paper": comparable, "user_corpus": user_corpus,
                "rows": [{"name": r.name, "label": r.label, "model": r.model, "note": r.note,
                          "metrics": [metric_names.get(m, m) for m in r.metrics], "shows": list(r.shows)}
                         for r in self.rows_for(preset) if not (user_corpus and r.paper_data_only)],
                "metrics": [{"name": metric_names[m.key], **asdict(m)} for m in self.metrics if m.key in metric_names],
                "paper": {} if user_corpus else self.paper,
                "claims": [{**asdict(c), "metric": metric_names.get(c.metric, c.metric)} for c in self.claims
                           if measured(c.metric) and not user_corpus],  # the paper's claims are about its data
                "targets": [{**asdict(t), "metric": metric_names.get(t.metric, t.metric)} for t in self.targets
                            if measured(t.metric)],
                "task": self.task.name, "notes": [] if user_corpus else list(self.notes),  # they describe the paper's data
                "preset_note": p.note,
                "tradeoffs": [[metric_names.get(x, x), metric_names.get(y, y)] for x, y in self.tradeoffs
                              if measured(x) and measured(y)]}


BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark")
