"""How long the rest of a command will take: the wall seconds each run took when the job was recorded
(benchmarks/recorded_seconds.json, by benchmark/row/preset, written by scripts/record_timings.py from a finished
output folder), scaled by how this machine's finished runs compare with their recorded times; a run with no
recorded time counts as the mean of the runs that ran here. Before anything ran, the recorded times alone, if
every run has one."""
from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean

RECORDED = Path(__file__).resolve().parents[1] / "benchmarks" / "recorded_seconds.json"


def run_key(benchmark: str, row: str, preset: str) -> str:
    return f"{benchmark}/{row}/{preset}"


def load_recorded(path: Path = RECORDED) -> dict[str, float]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["seconds"]
    except (OSError, ValueError, KeyError):
        return {}


class Eta:
    def __init__(self, recorded: dict[str, float]):
        self.recorded, self.ran = recorded, []  # ran: (key, seconds it took here)

    def finished(self, key: str, seconds: float) -> None:
        self.ran.append((key, seconds))

    def minutes_left(self, keys: list[str]) -> float | None:
        """Minutes for the runs `keys` still to run; None while one of them has no recorded time and none ran."""
        recorded_of_ran = sum(self.recorded[k] for k, _ in self.ran if k in self.recorded)
        scale = sum(s for k, s in self.ran if k in self.recorded) / recorded_of_ran if recorded_of_ran else 1.0
        pace = fmean(s for _, s in self.ran) if self.ran else None
        known = [self.recorded[k] * scale for k in keys if k in self.recorded]
        unknown = len(keys) - len(known)
        if unknown and pace is None:
            return None  # some runs have no recorded time and none ran yet: no estimate rather than too low a one
        return (sum(known) + unknown * (pace or 0.0)) / 60

    def line(self, keys: list[str]) -> str:
        minutes = self.minutes_left(keys)
        if minutes is None:
            return ""
        basis = "at this machine's pace so far" if self.ran else "from the recorded timings"
        return f", about {max(minutes, 1):.0f} min left {basis}"
