"""Where runs execute: one after another in this process (`inline`, the default), as local subprocesses N at a
time (`local`, submitit's LocalExecutor), or as one Slurm job per run (`slurm`, submitit's SlurmExecutor).

Every launcher runs the same `arae.runner.execute(plan)`, so runs launched any way share the run folders, hashes,
caching, locks and resume: a run already done is not submitted again, a run that another process holds is
skipped by its job ("locked"), and a killed or pre-empted job resumes from its run's last checkpoint when it is
launched again (on Slurm, submitit requeues a timed-out or pre-empted job itself: `RunJob.checkpoint`). Work that
several runs share is built once: a run whose training key equals another's (arae_gauss reuses arae's training)
starts after that run's job ends (on Slurm: a job dependency), and the shared artefacts (forward LMs, judges,
classifiers) are built under a file lock by the first run that needs them while the others wait.

Each submission is recorded in `<out>/_jobs/jobs.jsonl` (run folder, job id, log files), which `--collect` reads
to list the runs still pending or failed.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from arae.config import _coerce, parse_override
from arae.errors import ConfigError
from arae.io import read_json

LAUNCHERS = ("inline", "local", "slurm")
JOBS_FILE = Path("_jobs") / "jobs.jsonl"
POLL_SECONDS = 2.0


class RunJob:
    """What a submitit job runs: one plan, in a fresh process (registrations imported there)."""

    def __call__(self, plan, data_dir: str, device: str, force: bool, threads: int | None) -> str:
        import torch

        import baselines  # noqa: F401  (registers the models)
        import benchmarks  # noqa: F401  (registers the tasks)
        from arae.cli import resolve_device
        from arae.runner import execute
        if threads:
            torch.set_num_threads(threads)
        print(f"{plan.name} -> {plan.dir}", file=sys.stderr, flush=True)
        return execute(plan, Path(data_dir), resolve_device(device), force=force)

    def checkpoint(self, plan, data_dir: str, device: str, force: bool, threads: int | None):
        """Slurm pre-emption or timeout: requeue the same run; it resumes from its last checkpoint (never forced)."""
        import submitit
        return submitit.helpers.DelayedSubmission(RunJob(), plan, data_dir, device, False, threads)


@dataclass(eq=False)
class Submitted:
    plan: Any
    job: Any = None          # a submitit Job once submitted
    gpu: int | None = None   # the GPU a local job holds
    outcome: str | None = None

    def state(self) -> str:
        """queued, running, done or failed (a job that ended without a result failed)."""
        if self.outcome is not None:
            return "failed" if self.outcome == "failed" else "done"
        if self.job is None:
            return "queued"
        if not self.job.done():
            return "queued" if self.job.state in ("PENDING", "REQUEUED", "CONFIGURING") else "running"
        try:
            self.outcome = self.job.result()
        except Exception as err:  # noqa: BLE001  (the job died: killed, out of memory, node failure)
            self.outcome = "failed"
            print(f"[{self.plan.name}] job {self.job.job_id} ended without a result: {str(err).strip()[-300:]} "
                  f"(log: {self.job.paths.stderr})", file=sys.stderr)
        return self.state()


def executor_for(args, out: Path):
    """The submitit executor that `args` asks for, with its parameters."""
    import submitit
    folder = out / "_jobs" / "%j"
    if args.launcher == "local":
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=args.timeout_min)
        return executor
    try:
        executor = submitit.SlurmExecutor(folder=folder)
    except RuntimeError as err:  # no srun: not on a Slurm cluster
        raise ConfigError(f"--launcher slurm: {err}") from None
    params: dict[str, Any] = {"time": args.timeout_min, "gpus_per_node": args.gpus_per_job,
                              "cpus_per_task": args.cpus_per_job or 1, "array_parallelism": args.array_parallelism,
                              "job_name": "arae"}
    if args.slurm_partition:
        params["partition"] = args.slurm_partition
    for text in args.slurm_set:
        key, value = parse_override(text)
        params[key] = _coerce(value, None, key)
    try:
        executor.update_parameters(**params)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"--slurm-set: {err}") from None
    return executor


def _record(out: Path, item: Submitted, launcher: str) -> None:
    """A line of the jobs file: the run's job and logs, or (job_id null) a run this launch will submit later."""
    path = out / JOBS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    job = item.job
    line = {"run": str(item.plan.dir.relative_to(out)), "name": item.plan.name, "launcher": launcher,
            "job_id": str(job.job_id) if job else None, "stdout": str(job.paths.stdout) if job else None,
            "stderr": str(job.paths.stderr) if job else None,
            "submitted": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def _is_done(plan) -> bool:
    from arae.runner import read_status
    return read_status(plan.dir) == "done" and (plan.dir / "result.json").exists()


@dataclass
class Progress:
    """One line each time the counts change."""
    last: tuple = field(default_factory=tuple)

    def show(self, items: list[Submitted]) -> dict[str, int]:
        counts = {s: 0 for s in ("queued", "running", "done", "failed")}
        for item in items:
            counts[item.state()] += 1
        if tuple(counts.values()) != self.last:
            self.last = tuple(counts.values())
            print("jobs: " + ", ".join(f"{n} {s}" for s, n in counts.items()), file=sys.stderr, flush=True)
        return counts


def submit_runs(plans: list, args, data_dir: Path, collect_command: str) -> dict[str, str]:
    """Runs `plans` through submitit; returns each run's outcome (done, skipped, locked, failed, or submitted
    with --no-wait)."""
    import torch
    out, outcomes = args.out, {}
    todo = []
    for plan in plans:
        if _is_done(plan) and not args.force:
            outcomes[plan.name] = "skipped"
        else:
            todo.append(Submitted(plan))
    if args.launcher == "local" and args.no_wait:
        raise ConfigError("--no-wait works with --launcher slurm: local jobs are started N at a time by this process")
    executor = executor_for(args, out)
    n_gpus = torch.cuda.device_count() if args.device != "cpu" else 0
    slots = max(1, args.jobs if n_gpus <= 1 else n_gpus)
    threads = args.cpus_per_job or (max(1, (os.cpu_count() or 1) // slots) if args.launcher == "local" else None)
    job_args = (str(data_dir), args.device, args.force, threads)
    print(f"{len(todo)} runs to submit ({len(plans) - len(todo)} already done), launcher {args.launcher}; "
          f"collect the results any time with: {collect_command}", file=sys.stderr, flush=True)
    for item in todo:
        _record(out, item, args.launcher)  # known to --collect before any is submitted
    first = {}  # train key -> the item that trains it; its twins start after it (they reuse its training)
    for item in todo:
        first.setdefault(item.plan.train_key, item)
    twins = [item for item in todo if first[item.plan.train_key] is not item]
    if args.launcher == "slurm":
        with executor.batch():
            for item in (i for i in todo if i not in twins):
                item.job = executor.submit(RunJob(), item.plan, *job_args)
        for item in twins:
            executor.update_parameters(dependency=f"afterany:{first[item.plan.train_key].job.job_id}")
            item.job = executor.submit(RunJob(), item.plan, *job_args)
        for item in todo:
            _record(out, item, "slurm")
        if args.no_wait:
            return outcomes | {item.plan.name: "submitted" for item in todo}
    progress = Progress()
    while True:
        if args.launcher == "local":
            running = [i for i in todo if i.job is not None and i.state() == "running"]
            free_gpus = [g for g in range(n_gpus) if g not in {i.gpu for i in running}] if n_gpus > 1 else [None]
            ready = [i for i in todo if i.job is None and (i not in twins or first[i.plan.train_key].outcome)]
            for item in ready[: slots - len(running)]:
                item.gpu = free_gpus.pop(0) if n_gpus > 1 else None
                if item.gpu is not None:
                    executor.update_parameters(gpus_per_node=1, visible_gpus=(item.gpu,))
                item.job = executor.submit(RunJob(), item.plan, *job_args)
                _record(out, item, "local")
        counts = progress.show(todo)
        if counts["queued"] == counts["running"] == 0:
            break
        time.sleep(POLL_SECONDS)
    return outcomes | {item.plan.name: item.outcome for item in todo}


def collect(out: Path) -> int:
    """Lists the runs of `out` that are not done, with their job ids and logs; returns their number."""
    jobs: dict[str, dict] = {}
    if (out / JOBS_FILE).exists():
        for line in (out / JOBS_FILE).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                jobs[record["run"]] = record  # the latest submission of each run
    pending = []
    for status_path in sorted(out.glob("*/*/seed*/status.json")):
        run = str(status_path.parent.relative_to(out))
        status = read_json(status_path)
        if status.get("state") != "done":
            pending.append((run, status.get("state"), status.get("error")))
    for run in sorted(set(jobs) - {p[0] for p in pending}):
        if not (out / run / "status.json").exists():
            pending.append((run, "queued", None))
    for run, state, error in pending:
        job = jobs.get(run)
        where = ("not launched as a job" if not job else f"not submitted yet ({job['launcher']})" if not job["job_id"]
                 else f"job {job['job_id']} ({job['launcher']}), logs {job['stdout']} {job['stderr']}")
        print(f"{state}: {run}: {where}" + (f"; {error}" if error else ""), file=sys.stderr)
    return len(pending)


def collect_command(args) -> str:
    return shlex.join(["python", "run_all.py", "--collect", "--out", str(args.out)])
