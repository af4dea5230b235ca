"""Read run records (docs/records.md) and aggregate them over seeds.

This module only reads what the runner wrote; it never trains or evaluates, so a report can be
rendered at any time, from partial results, on a machine without a GPU.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean, stdev

from scipy.stats import t as student_t

from arae.io import atomic_write_text, read_json

STATES = ("pending", "running", "stopped", "done", "failed")
CSV_COLUMNS = ("benchmark", "version", "row", "seed", "metric", "value", "preset", "missing_reason")


class _Unreadable(Exception):
    """A record file that exists but cannot be used; the run is then shown as failed."""


@dataclass
class RunRecord:
    """One run folder `<out>/<benchmark>/<row>/seed<k>-<hash8>/` as the report sees it."""

    benchmark: str
    version: int | None
    row: str
    seed_index: int | None
    preset: str | None
    run_dir: Path
    state: str
    error: str | None = None
    result: dict | None = None
    run: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    updated: str = ""

    def metric(self, name: str) -> tuple[float | None, str | None]:
        """(value, None), or (None, reason) saying why this seed has no number for `name`."""
        if self.state != "done":
            return None, f"run {self.state}" + (f": {self.error}" if self.error else "")
        entry = (self.result or {}).get("metrics", {}).get(name)
        if not isinstance(entry, dict):
            return None, "not in result.json"
        value = entry.get("value")
        if value is None:
            return None, entry.get("missing_reason") or "no value and no reason recorded"
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return None, f"non-finite value {value!r}"
        return float(value), None

    def rests_on(self, name: str) -> str:
        """What metric `name` says its value rests on ("" when it says nothing)."""
        entry = (self.result or {}).get("metrics", {}).get(name)
        text = entry.get("rests_on") if isinstance(entry, dict) else None
        return text if isinstance(text, str) else ""


@dataclass(frozen=True)
class CellStat:
    """One table cell: a metric for one row of one benchmark, over the seeds of one preset."""

    benchmark: str
    version: int | None
    preset: str | None
    row: str
    metric: str
    n: int
    mean: float | None
    ci95: float | None  # half-width of the Student-t 95% interval; None when n < 2
    values: tuple[float, ...]
    missing: tuple[tuple[int | None, str], ...]  # (seed_index, reason) per seed without a value
    rests_on: tuple[tuple[int | None, str], ...] = ()  # (seed_index, what its value rests on) per seed with a value

    @property
    def rests_on_text(self) -> str:
        """What the cell's values rest on, as their metric says: once if every seed says the same."""
        said = [(seed, text) for seed, text in self.rests_on if text]
        if len({text for _, text in said}) <= 1:
            return said[0][1] if said else ""
        return "; ".join(f"seed {seed}: {text}" for seed, text in said)

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.mean is None or self.ci95 is None:
            return None
        return self.mean - self.ci95, self.mean + self.ci95


def _read_obj(path: Path) -> dict | None:
    """The JSON object in `path`, None if the file does not exist yet."""
    if not path.exists():
        return None
    try:
        obj = read_json(path)
    except (OSError, ValueError) as e:
        raise _Unreadable(f"unreadable record {path}: {e}") from e
    if not isinstance(obj, dict):
        raise _Unreadable(f"unreadable record {path}: expected a JSON object")
    return obj


def load_benchmark_specs(out_dir: str | Path) -> dict[str, dict]:
    """benchmark.json per benchmark; an unreadable one becomes {"name", "load_error"}."""
    specs = {}
    for path in sorted(Path(out_dir).glob("*/benchmark.json")):
        name = path.parent.name
        try:
            specs[name] = _read_obj(path) or {}
        except _Unreadable as e:
            specs[name] = {"load_error": str(e)}
        specs[name].setdefault("name", name)
    return specs


def _load_run(run_dir: Path, spec: dict) -> RunRecord:
    match = re.match(r"seed(\d+)", run_dir.name)
    rec = RunRecord(benchmark=run_dir.parent.parent.name, version=spec.get("version"),
                    row=run_dir.parent.name, seed_index=int(match.group(1)) if match else None,
                    preset=spec.get("preset"), run_dir=run_dir, state="pending")
    try:
        rec.run = _read_obj(run_dir / "run.json") or {}
        rec.version = rec.run.get("version", rec.version)
        rec.preset = rec.run.get("preset", rec.preset)
        rec.seed_index = rec.run.get("seed_index", rec.seed_index)
        rec.env = _read_obj(run_dir / "env.json") or {}
        status = _read_obj(run_dir / "status.json")
        if status is None:  # the folder exists but the runner has not started it yet
            return rec
        rec.state, rec.error = status.get("state"), status.get("error")
        rec.updated = str(status.get("updated") or "")
        if rec.state not in STATES:
            raise _Unreadable(f"unreadable record {run_dir / 'status.json'}: "
                              f"unknown state {rec.state!r}")
        if rec.state == "failed" and not rec.error:
            rec.error = "no error message recorded"
        if rec.state == "done":
            rec.result = _read_obj(run_dir / "result.json")
            if rec.result is None:
                raise _Unreadable(f"run marked done but {run_dir / 'result.json'} is missing")
    except _Unreadable as e:
        rec.state, rec.error, rec.result = "failed", str(e), None
    return rec


def collect_runs(out_dir: str | Path) -> list[RunRecord]:
    """Every run folder under `out_dir`, whatever its state; never raises on a bad record."""
    out = Path(out_dir)
    specs = load_benchmark_specs(out)
    records = [_load_run(run_dir, specs.get(run_dir.parent.parent.name, {}))
               for run_dir in out.glob("*/*/seed*") if run_dir.is_dir()]
    return sorted(records, key=lambda r: (r.benchmark, r.row, r.seed_index or 0, r.run_dir.name))


def latest_runs(records: list[RunRecord]) -> list[RunRecord]:
    """One run per seed: a seed re-run under a changed config (new hash) replaces the older one,
    so a stale folder is never counted as an extra seed."""
    def seed_key(r: RunRecord) -> tuple:
        return r.benchmark, r.version, r.preset, r.row, r.seed_index

    latest: dict[tuple, RunRecord] = {}
    for rec in records:
        old = latest.get(seed_key(rec))
        if old is None or (rec.updated, str(rec.run_dir)) > (old.updated, str(old.run_dir)):
            latest[seed_key(rec)] = rec
    return [r for r in records if latest[seed_key(r)] is r]


def metric_names(records: list[RunRecord],
                 specs: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """Per benchmark: the spec's metrics in its order, then any others found in results."""
    names: dict[str, list[str]] = {}
    for bench, spec in (specs or {}).items():
        names[bench] = [m["name"] for m in spec.get("metrics", [])]
    for rec in records:
        known = names.setdefault(rec.benchmark, [])
        extra = sorted(set((rec.result or {}).get("metrics", {})) - set(known))
        known.extend(extra)
    return names


def ci95_halfwidth(values: list[float]) -> float | None:
    """Student-t 95% half-width over seeds; None when a spread cannot be estimated (n < 2)."""
    n = len(values)
    if n < 2:
        return None
    return float(student_t.ppf(0.975, n - 1) * stdev(values) / math.sqrt(n))


def summarize(records: list[RunRecord], specs: dict[str, dict] | None = None) -> list[CellStat]:
    """One CellStat per (benchmark, version, preset, row, metric). Seeds without a value are
    listed with their reason and never averaged in; seeds with a value are listed with what it rests on. `specs` adds metrics no run has reported."""
    groups: dict[tuple, list[RunRecord]] = {}
    for rec in latest_runs(records):
        groups.setdefault((rec.benchmark, rec.version, rec.preset, rec.row), []).append(rec)
    names = metric_names(records, specs)
    cells = []
    for (bench, version, preset, row), runs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        for metric in names.get(bench, []):
            values, missing, rests_on = [], [], []
            for rec in runs:
                value, reason = rec.metric(metric)
                if reason is not None:
                    missing.append((rec.seed_index, reason))
                    continue
                values.append(value)
                rests_on.append((rec.seed_index, rec.rests_on(metric)))
            cells.append(CellStat(bench, version, preset, row, metric, len(values),
                                  fmean(values) if values else None, ci95_halfwidth(values),
                                  tuple(values), tuple(missing), tuple(rests_on)))
    return cells


MIN_SEEDS = 2  # per side of a claim, and their 95% intervals must not overlap


@dataclass(frozen=True)
class ClaimResult:
    text: str
    metric: str
    better: str
    worse: str
    verdict: str  # "pass" | "fail" | "undecided" | "not comparable"
    at_scale: str  # "pass" | "fail" | "undecided": what these runs show, comparable to the paper or not
    why: str


def own_wall_seconds(timing: dict) -> float:
    """A run's own work: every timed phase (each `*_seconds` of its timing), training left out when the run
    reused a twin's checkpoint."""
    skipped = {"wall_seconds"} | ({"train_seconds"} if timing.get("training_reused_from") else set())
    return sum(v or 0 for k, v in timing.items() if k.endswith("_seconds") and k not in skipped)


def timing_means(runs: list[RunRecord]) -> dict[str, float | None]:
    """Mean training throughput (runs that trained themselves) and own wall seconds over done runs."""
    timings = [r.result.get("timing") or {} for r in runs if r.state == "done" and r.result]
    trained = [t["train_sentences_per_sec"] for t in timings
               if not t.get("training_reused_from") and isinstance(t.get("train_sentences_per_sec"), (int, float))]
    walls = [own_wall_seconds(t) for t in timings]
    return {"sents_per_sec": fmean(trained) if trained else None, "wall": fmean(walls) if walls else None}


def fmt(x: float | None, signed: bool = False) -> str:
    """4 significant digits, thousands separated, no exponent for ordinary magnitudes."""
    if x is None:
        return "—"
    sign = "+" if signed and x > 0 else ""
    if x == 0:
        return sign + "0"
    if abs(x) < 1e-4:
        return sign + format(x, ".3e")
    decimals = 3 - math.floor(math.log10(abs(x)))
    if decimals <= 0:
        return sign + format(round(x, decimals), ",.0f")
    return sign + format(x, f",.{decimals}f")


def _side(row: str, cell: CellStat | None) -> str:
    if cell is None or cell.mean is None:
        return f"{row}: no value"
    spread = f" ± {fmt(cell.ci95)}" if cell.ci95 is not None else ""
    return f"{row} {fmt(cell.mean)}{spread} (n={cell.n})"


def _verdict(better: CellStat | None, worse: CellStat | None, direction: str | None) -> tuple[str, str]:
    """pass/fail only with at least MIN_SEEDS seeds per side and separated 95% intervals."""
    if better is None or worse is None or better.mean is None or worse.mean is None:
        return "undecided", "a side has no value"
    if direction not in ("lower", "higher"):
        return "undecided", f"unknown direction {direction!r}"
    if better.n < MIN_SEEDS or worse.n < MIN_SEEDS:
        return "undecided", f"needs at least {MIN_SEEDS} seeds per side"
    (b_lo, b_hi), (w_lo, w_hi) = better.interval, worse.interval
    if b_hi >= w_lo and w_hi >= b_lo:
        return "undecided", "95% intervals overlap"
    holds = better.mean < worse.mean if direction == "lower" else better.mean > worse.mean
    return ("pass" if holds else "fail"), f"95% intervals separate, {direction} is better"


def check_claims(spec: dict, cells: list[CellStat]) -> list[ClaimResult]:
    """Evaluate the paper's orderings ("metric: better < worse") on the cells of one preset. Where the
    runs are not comparable to the paper (a small preset, substitute data), the verdict is "not
    comparable" and `at_scale` says what they show at their own scale."""
    by_key = {(c.row, c.metric): c for c in cells}
    directions = {m["name"]: m.get("direction") for m in spec.get("metrics", [])}
    comparable = spec.get("comparable_to_paper") is True
    results = []
    for claim in spec.get("claims", []):
        metric, better, worse = claim["metric"], claim["better"], claim["worse"]
        b, w = by_key.get((better, metric)), by_key.get((worse, metric))
        at_scale, rule = _verdict(b, w, directions.get(metric))
        why = f"{_side(better, b)} vs {_side(worse, w)}: {rule}"
        results.append(ClaimResult(claim.get("text", metric), metric, better, worse,
                                   at_scale if comparable else "not comparable", at_scale, why))
    return results


@dataclass(frozen=True)
class TargetResult:
    text: str
    verdict: str  # "met" | "not met" | "undecided"
    why: str


def check_targets(spec: dict, cells: list[CellStat]) -> list[TargetResult]:
    """A target is met (or not) only when at least MIN_SEEDS seeds put the whole 95% interval on one
    side of its level; otherwise it is undecided, with the numbers."""
    by_key = {(c.row, c.metric): c for c in cells}
    directions = {m["name"]: m.get("direction") for m in spec.get("metrics", [])}
    results = []
    for target in spec.get("targets", []):
        cell, level = by_key.get((target["row"], target["metric"])), target["level"]
        higher = directions.get(target["metric"]) != "lower"
        evidence = f"{_side(target['row'], cell)}; level {fmt(level)}"
        if cell is None or cell.mean is None or cell.n < MIN_SEEDS:
            verdict, rule = "undecided", f"needs at least {MIN_SEEDS} seeds"
        elif (cell.interval[0] >= level) if higher else (cell.interval[1] <= level):
            verdict, rule = "met", "the 95% interval is on the right side of the level"
        elif (cell.interval[1] < level) if higher else (cell.interval[0] > level):
            verdict, rule = "not met", "the 95% interval is on the wrong side of the level"
        else:
            verdict, rule = "undecided", "the 95% interval contains the level"
        results.append(TargetResult(target.get("text", target["metric"]), verdict, f"{evidence}: {rule}"))
    return results


def write_summary_csv(out_dir: str | Path, records: list[RunRecord]) -> Path:
    """`<out>/summary.csv`, one line per (run, metric); a missing value is an empty cell plus
    its reason, so the file can be loaded with pandas without mistaking it for a number."""
    specs = load_benchmark_specs(out_dir)
    names = metric_names(records, specs)
    measured = {(b, r["name"]): set(r.get("metrics") or []) for b, spec in specs.items() for r in spec.get("rows", [])}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rec in latest_runs(records):
        for metric in names.get(rec.benchmark, []):
            if measured.get((rec.benchmark, rec.row)) and metric not in measured[(rec.benchmark, rec.row)]:
                continue  # a metric this row does not measure (declared in its spec)
            value, reason = rec.metric(metric)
            writer.writerow([rec.benchmark, rec.version, rec.row, rec.seed_index, metric,
                             "" if value is None else repr(value), rec.preset, reason or ""])
    path = Path(out_dir) / "summary.csv"
    atomic_write_text(path, buf.getvalue())
    return path

