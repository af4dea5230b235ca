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
from arae.errors import ConfigError, SuiteError
from arae.io import read_json

LAUNCHERS = ("inline", "local", "slurm")
JOBS_FILE = Path("_jobs") / "jobs.jsonl"
POLL_SECONDS = 2.0
UNKNOWN_GIVE_UP_SECONDS = 600
QUEUED_STATES = ("PENDING", "REQUEUED", "REQUEUE_HOLD", "CONFIGURING")  # Slurm states of a job waiting to run
MAX_REQUEUES = 100  # Slurm timeouts/pre-emptions a job is requeued after (submitit's default is 3)


class RunJob:
    """What a submitit job runs: one plan, in a fresh process (registrations imported there)."""

    def __call__(self, plan, data_dir: str, device: str, force: bool) -> str:
        import baselines  # noqa: F401  (registers the models)
        import benchmarks  # noqa: F401  (registers the tasks)
        from arae.runner import execute, resolve_device
        if int(os.environ.get("SLURM_RESTART_COUNT") or 0):  # requeued by Slurm: --force applied the first time
            force = False
        print(f"{plan.name} -> {plan.dir}", file=sys.stderr, flush=True)
        return execute(plan, Path(data_dir), resolve_device(device), force=force)

    def checkpoint(self, plan, data_dir: str, device: str, force: bool):
        """Slurm pre-emption or timeout: requeue the same run; it resumes from its last checkpoint (never forced)."""
        import submitit
        return submitit.helpers.DelayedSubmission(RunJob(), plan, data_dir, device, False)


@dataclass(eq=False)
class Submitted:
    plan: Any
    job: Any = None          # a submitit Job once submitted
    gpu: int | None = None   # the GPU a local job holds
    outcome: str | None = None
    unknown_polls: int = 0   # polls that found the job in no known state (e.g. Slurm without accounting)

    def state(self) -> str:
        """queued, running, done or failed (a job that ended without a result failed)."""
        if self.outcome is not None:
            return "failed" if self.outcome == "failed" else "done"
        if self.job is None:
            return "queued"
        if not self.job.done():
            state = self.job.state
            self.unknown_polls = self.unknown_polls + 1 if state == "UNKNOWN" else 0
            if self.unknown_polls * POLL_SECONDS > UNKNOWN_GIVE_UP_SECONDS:
                self.outcome = "failed"
                print(f"[{self.plan.name}] job {self.job.job_id}: state unknown for {UNKNOWN_GIVE_UP_SECONDS // 60} "
                      f"min (does sacct work here?); stopped waiting for it (log: {self.job.paths.stderr})",
                      file=sys.stderr)
                return "failed"
            return "queued" if state in QUEUED_STATES else "running"
        try:
            self.outcome = self.job.result()
        except Exception as err:  # noqa: BLE001  (the job died: killed, out of memory, node failure)
            self.outcome = "failed"
            print(f"[{self.plan.name}] job {self.job.job_id} ended without a result: {str(err).strip()[-300:]} "
                  f"(log: {self.job.paths.stderr})", file=sys.stderr)
        return self.state()


def executor_for(args, out: Path, threads: int = 1):
    """The submitit executor that `args` asks for, with its parameters; a Slurm job reserves `threads` CPUs
    (the most any of its runs computes with) unless --cpus-per-job says otherwise."""
    import submitit
    folder = out / "_jobs" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") / "%j"  # a job id (a local pid)
    if args.launcher == "local":                                                         # is unique within a launch
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=args.timeout_min)
        return executor
    try:
        executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
    except RuntimeError as err:  # no srun: not on a Slurm cluster
        raise ConfigError(f"--launcher slurm: {err}") from None
    params: dict[str, Any] = {"time": args.timeout_min, "gpus_per_node": 0 if args.device == "cpu" else args.gpus_per_job,
                              "cpus_per_task": args.cpus_per_job or threads, "array_parallelism": args.array_parallelism,
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
    from arae.tasks.base import read_status
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


def _gpus() -> list[int]:
    """The physical ids of this machine's visible GPUs (through CUDA_VISIBLE_DEVICES, as a job must be told)."""
    import torch
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [int(g) for g in visible.split(",") if g.strip().isdigit()] if visible else None
    return (ids or list(range(torch.cuda.device_count())))[: torch.cuda.device_count()]


def _still_submitted(records: dict[str, dict], out: Path, plan) -> str | None:
    """The id of a Slurm job of an earlier launch (`records`: the jobs file) still queued or running this run.
    A local job of an earlier launch is not looked up: it holds its run's lock, so the new job skips it."""
    record = records.get(str(plan.dir.relative_to(out)))
    if not record or record.get("launcher") != "slurm":
        return None
    return record["job_id"] if _job_alive(record) else None


def submit_runs(plans: list, args, data_dir: Path, collect_command: str) -> dict[str, str]:
    """Runs `plans` through submitit; returns each run's outcome (done, skipped, locked, failed, or submitted
    with --no-wait)."""
    out, outcomes, todo = args.out, {}, []
    records = _latest_records(out) if args.launcher == "slurm" else {}
    for plan in plans:
        if _is_done(plan) and not args.force:
            outcomes[plan.name] = "skipped"
        elif job_id := _still_submitted(records, out, plan):
            outcomes[plan.name] = "submitted"
            print(f"[{plan.name}] already submitted as job {job_id}, still queued or running: not submitted again",
                  file=sys.stderr)
        else:
            todo.append(Submitted(plan))
    executor = executor_for(args, out, max((p.config["threads"] for p in plans), default=1))
    gpus = _gpus() if args.device != "cpu" and args.launcher == "local" else []
    slots = min(args.jobs, args.runs_per_gpu * len(gpus)) if gpus and args.runs_per_gpu else args.jobs
    job_args = (str(data_dir), args.device, args.force)  # a run computes with its own `threads` setting
    print(f"{len(todo)} runs to submit ({len(plans) - len(todo)} already done or submitted), launcher "
          f"{args.launcher}; collect the results any time with: {collect_command}", file=sys.stderr, flush=True)
    for item in todo:
        _record(out, item, args.launcher)  # known to --collect before any is submitted
    first = {}  # train key -> the item that trains it; its twins start after it (they reuse its training)
    for item in todo:
        first.setdefault(item.plan.train_key, item)
    twins = {id(item) for item in todo if first[item.plan.train_key] is not item}
    if args.launcher == "slurm":
        try:
            with executor.batch():
                for item in (i for i in todo if id(i) not in twins):
                    item.job = executor.submit(RunJob(), item.plan, *job_args)
            for item in (i for i in todo if id(i) in twins):
                executor.update_parameters(dependency=f"afterany:{first[item.plan.train_key].job.job_id}")
                item.job = executor.submit(RunJob(), item.plan, *job_args)
        except Exception as err:  # noqa: BLE001  (sbatch refused: bad partition, account, limits)
            raise SuiteError(f"Slurm submission failed: {str(err).strip()[-500:]}") from None
        finally:
            for item in (i for i in todo if i.job is not None):
                _record(out, item, "slurm")
        if args.no_wait:
            return outcomes | {item.plan.name: "submitted" for item in todo}
    progress = Progress()
    try:
        while True:
            if args.launcher == "local":
                _start_local(executor, todo, first, twins, gpus, slots, job_args, out)
            counts = progress.show(todo)
            if counts["queued"] == counts["running"] == 0:
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        if args.launcher == "local":  # the local jobs are this process's children: stop them
            for item in (i for i in todo if i.job is not None and i.outcome is None):
                item.job.cancel(check=False)
        raise
    return outcomes | {item.plan.name: item.outcome for item in todo}


def _start_local(executor, todo: list[Submitted], first: dict, twins: set, gpus: list[int], slots: int,
                 job_args: tuple, out: Path) -> None:
    """Fills the free slots with the next runs (a twin once its first has ended), each on the GPU that holds the
    fewest runs (several runs share a GPU: one of these small models leaves most of it idle)."""
    running = [i for i in todo if i.job is not None and i.state() == "running"]
    ready = [i for i in todo if i.job is None and (id(i) not in twins or first[i.plan.train_key].outcome)]
    for item in ready[: slots - len(running)]:
        if gpus:
            item.gpu = least_loaded(gpus, [i.gpu for i in running])
            running.append(item)
            executor.update_parameters(gpus_per_node=1, visible_gpus=(item.gpu,))
        item.job = executor.submit(RunJob(), item.plan, *job_args)
        _record(out, item, "local")


def least_loaded(gpus: list[int], held: list[int | None]) -> int:
    """The GPU holding the fewest of the runs `held` (the first such)."""
    return min(gpus, key=lambda g: held.count(g))


def _latest_records(out: Path) -> dict[str, dict]:
    """Each run's latest line of the jobs file (a line cut short by a crash is skipped)."""
    jobs: dict[str, dict] = {}
    if (out / JOBS_FILE).exists():
        for line in (out / JOBS_FILE).read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                jobs[record["run"]] = record
            except (ValueError, KeyError, TypeError):
                continue
    return jobs


def _job_alive(record: dict) -> bool | None:
    """Whether a recorded job is still queued or running (None: cannot tell)."""
    if not record.get("job_id"):
        return None
    if record["launcher"] == "local":  # a local job id is its controller's pid
        pid = int(record["job_id"])
        if not Path("/proc").is_dir():  # not Linux: the process exists, or not
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                pass
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie (killed, not reaped yet) has ended
    import submitit
    state = submitit.SlurmJob(Path(record["stdout"]).parent, record["job_id"]).state
    return None if state == "UNKNOWN" else state in (*QUEUED_STATES, "RUNNING")


def collect(out: Path) -> int:
    """Lists the runs of `out` that are not done, with their job ids and logs; returns their number."""
    jobs = _latest_records(out)
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
        if state == "running" and job and _job_alive(job) is False:
            state = "stopped (its job ended before the run did; launch again to resume it)"
        where = ("not launched as a job" if not job else f"not submitted yet ({job['launcher']})" if not job["job_id"]
                 else f"job {job['job_id']} ({job['launcher']}), logs {job['stdout']} {job['stderr']}")
        print(f"{state}: {run}: {where}" + (f"; {error}" if error else ""), file=sys.stderr)
    return len(pending)


def collect_command(args) -> str:
    return shlex.join(["python", "run_all.py", "--collect", "--out", str(args.out)])
