"""Launchers: runs as real subprocesses through submitit's local executor share folders, locks and resume with
inline runs; --collect reports what is done and lists what is not."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from arae.cli import main
from conftest import REPO
from test_runner import TINY

ROWS = ["-r", "real", "-r", "ae", "-r", "arae"]
TWIN = ["-r", "arae_gauss"]  # trains exactly like arae: reuses its training


def _args(out, corpus, *extra, rows=ROWS):
    return ["-b", "snli_generation", "--preset", "smoke", "--out", str(out), "--set", f"data={corpus}", *TINY,
            *rows, *extra]


def _values(out) -> dict:
    with open(out / "summary.csv", newline="") as f:
        return {(r["row"], r["seed"], r["metric"]): r["value"] for r in csv.DictReader(f)}


def _launch(out, corpus, *extra, rows=ROWS) -> subprocess.Popen:
    """run_all.py in its own process group (so a test can kill it with its jobs)."""
    return subprocess.Popen([sys.executable, "run_all.py", *_args(out, corpus, *extra, rows=rows)], cwd=REPO,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
def test_two_local_jobs_give_the_inline_numbers(tmp_path, tiny_text_dir):
    assert main(_args(tmp_path / "inline", tiny_text_dir, *TWIN)) == 0
    assert main(_args(tmp_path / "local", tiny_text_dir, *TWIN, "--launcher", "local", "--jobs", "2")) == 0
    assert _values(tmp_path / "local") == _values(tmp_path / "inline")
    jobs = [json.loads(line) for line in (tmp_path / "local" / "_jobs" / "jobs.jsonl").read_text().splitlines()]
    jobs = [j for j in jobs if j["job_id"]]
    assert sorted(j["name"] for j in jobs) == [f"snli_generation/{r}/seed0" for r in ("ae", "arae", "arae_gauss", "real")]
    assert all(os.path.exists(j["stderr"]) for j in jobs)
    # the twin started after arae's job ended: it reused the training without holding a slot to wait
    twin = next(j for j in jobs if j["name"].endswith("arae_gauss/seed0"))
    assert "reusing its final checkpoint" in open(twin["stderr"]).read() and "waiting for" not in open(twin["stderr"]).read()
    # a run already done is not submitted again
    assert main(_args(tmp_path / "local", tiny_text_dir, *TWIN, "--launcher", "local", "--jobs", "2")) == 0
    assert len((tmp_path / "local" / "_jobs" / "jobs.jsonl").read_text().splitlines()) == 8


@pytest.mark.slow
def test_two_launches_on_one_folder_run_each_run_once(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    launches = [_launch(out, tiny_text_dir, "--launcher", "local", "--jobs", "2")
                for _ in range(2)]
    summaries = [p.communicate(timeout=600)[1].splitlines()[-1] for p in launches]
    assert [p.returncode for p in launches] == [0, 0], summaries
    done = sum(int(s.split(": ")[1].split(" done")[0]) for s in summaries)
    assert done == 3, summaries  # every run trained and scored by exactly one job
    for scalars in out.glob("snli_generation/*/seed0-*/scalars.jsonl"):
        steps = [json.loads(line)["step"] for line in scalars.read_text().splitlines()]
        assert steps == sorted(set(steps)), scalars


@pytest.mark.slow
def test_a_killed_job_resumes_when_launched_again_and_collect_lists_it(tmp_path, tiny_text_dir, capsys):
    out, slow, rows = tmp_path / "runs", ["--set", "train.steps=400", "--set", "train.checkpoint_every=20"], \
        ["-r", "ae", "-r", "arae"]
    launch = _launch(out, tiny_text_dir, "--launcher", "local", *slow, rows=rows)  # ae, then arae
    checkpoint = None
    for _ in range(1500):
        checkpoint = next(out.glob("snli_generation/ae/seed0-*/checkpoint.pt"), None)
        if checkpoint or launch.poll() is not None:
            break
        time.sleep(0.2)
    assert checkpoint is not None, launch.communicate()[1]
    os.killpg(launch.pid, signal.SIGKILL)  # the launcher, its job's controller and the job itself
    launch.wait()
    run_dir = checkpoint.parent
    assert json.loads((run_dir / "status.json").read_text())["state"] == "running"

    # --collect renders what is done and lists the run that is not, with its job and logs
    assert main(["--collect", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    jobs = [json.loads(line) for line in (out / "_jobs" / "jobs.jsonl").read_text().splitlines()]
    job = [j for j in jobs if j["run"] == str(run_dir.relative_to(out))][-1]
    assert (f"stopped (its job ended before the run did; launch again to resume it): {run_dir.relative_to(out)}: "
            f"job {job['job_id']} (local), logs {job['stdout']}") in err
    assert "queued: snli_generation/arae/seed0-" in err and "not submitted yet (local)" in err
    assert "2 run(s) not done yet" in err and (out / "report" / "index.html").exists()

    assert main(_args(out, tiny_text_dir, "--launcher", "local", "--jobs", "2", *slow, rows=rows)) == 0
    jobs = [json.loads(line) for line in (out / "_jobs" / "jobs.jsonl").read_text().splitlines()]
    second = [j for j in jobs if j["run"] == str(run_dir.relative_to(out))][-1]
    log = open(second["stderr"]).read()
    assert "resuming from step" in log and json.loads((run_dir / "status.json").read_text())["state"] == "done"
    assert main(["--collect", "--out", str(out)]) == 0
    assert "every run is done" in capsys.readouterr().err


def test_slurm_options_become_submitit_parameters(tmp_path, monkeypatch):
    import submitit

    from arae.cli import build_parser
    from arae.errors import ConfigError
    from arae.launch import executor_for
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", staticmethod(lambda: 1))
    args = build_parser().parse_args(["--launcher", "slurm", "--slurm-partition", "gpu", "--gpus-per-job", "2",
                                      "--cpus-per-job", "8", "--timeout-min", "90", "--array-parallelism", "4",
                                      "--slurm-set", "account=abc", "--slurm-set", "mem=32G"])
    params = executor_for(args, tmp_path).parameters
    assert {k: params[k] for k in ("partition", "gpus_per_node", "cpus_per_task", "time", "array_parallelism",
                                   "account")} == {"partition": "gpu", "gpus_per_node": 2, "cpus_per_task": 8,
                                                   "time": 90, "array_parallelism": 4, "account": "abc"}
    args.slurm_set = ["colour=blue"]
    with pytest.raises(ConfigError, match="--slurm-set"):
        executor_for(args, tmp_path)
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", staticmethod(lambda: 0))
    with pytest.raises(ConfigError, match="srun"):
        executor_for(args, tmp_path)

def test_no_wait_is_for_slurm(tmp_path, capsys):
    assert main(["--launcher", "local", "--no-wait", "--out", str(tmp_path)]) == 2
    assert "--no-wait works with --launcher slurm" in capsys.readouterr().err


def test_a_run_whose_slurm_job_is_still_alive_is_not_resubmitted(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from arae import launch
    plan = SimpleNamespace(dir=tmp_path / "b" / "row" / "seed0-abc")
    records = {"b/row/seed0-abc": {"run": "b/row/seed0-abc", "launcher": "slurm", "job_id": "42", "stdout": "x/42.out"}}
    monkeypatch.setattr(launch, "_job_alive", lambda record: True)
    assert launch._still_submitted(records, tmp_path, plan) == "42"
    monkeypatch.setattr(launch, "_job_alive", lambda record: None)  # unknown: submitted again
    assert launch._still_submitted(records, tmp_path, plan) is None
    monkeypatch.setattr(launch, "_job_alive", lambda record: True)
    records["b/row/seed0-abc"]["launcher"] = "local"  # a local job holds the run's lock instead
    assert launch._still_submitted(records, tmp_path, plan) is None


def test_runs_share_gpus_evenly_up_to_the_limit():
    from arae.launch import least_loaded
    held: list = []
    for _ in range(5):
        held.append(least_loaded([0, 1], held))
    assert held == [0, 1, 0, 1, 0]
    assert least_loaded([3], [3, 3]) == 3  # one GPU: every run on it
    assert main(["--launcher", "local", "--jobs", "8", "--runs-per-gpu", "0"]) == 2  # refused in one line
