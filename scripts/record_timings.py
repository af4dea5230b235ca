"""Records how long each run of a finished output folder took, for the time-left estimate of run_all.py
(arae/eta.py): the median wall seconds over seeds, by benchmark/row/preset, merged into
benchmarks/recorded_seconds.json with the machine and date they were measured on.

    .venv/bin/python scripts/record_timings.py runs/ci-smoke
"""
from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from arae.eta import RECORDED, load_recorded, run_key  # noqa: E402
from arae.results import collect_runs, latest_runs  # noqa: E402


def main(out: Path) -> None:
    walls: dict[str, list[float]] = {}
    runs = [r for r in latest_runs(collect_runs(out)) if r.state == "done" and r.result]
    for run in runs:
        wall = (run.result.get("timing") or {}).get("wall_seconds")
        if isinstance(wall, (int, float)):
            walls.setdefault(run_key(run.benchmark, run.row, run.preset), []).append(wall)
    if not walls:
        raise SystemExit(f"{out}: no finished run records wall seconds")
    seconds = load_recorded() | {key: round(median(values), 1) for key, values in sorted(walls.items())}
    cpu = next((r.env.get("cpu") for r in runs if r.env.get("cpu")), "?")
    note = (f"wall seconds per run (median over seeds), each run computing with one thread; last recorded "
            f"{datetime.date.today()} from {out.name} on {cpu}, {os.cpu_count()} cores")
    RECORDED.write_text(json.dumps({"about": note, "seconds": dict(sorted(seconds.items()))}, indent=1) + "\n")
    print(f"{RECORDED}: {len(walls)} run timings from {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
