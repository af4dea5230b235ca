"""What happens when things break: kills, interrupts, crashes, bad checkpoints, full disks, two processes."""
import errno
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import arae.io
from arae.cli import main
from arae.io import read_json
from arae.metrics import METRICS
from conftest import REPO

ARAE_ONLY = ["-b", "snli_generation", "-r", "arae", "--preset", "smoke",
             "--set", "eval.n_samples=60", "--set", "train.batch_size=16"]


def _args(out, corpus, steps=6, every=3):
    return [*ARAE_ONLY, "--out", str(out), "--set", f"data={corpus}", "--set", f"train.steps={steps}",
            "--set", f"train.log_every={min(every, 5)}", "--set", f"train.checkpoint_every={every}"]


def _run_dir(out):
    return next(out.glob("snli_generation/arae/seed0-*"))


def _spawn(args):
    return subprocess.Popen([sys.executable, "run_all.py", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_step(out, step, proc, timeout=120):
    began = time.time()
    while time.time() - began < timeout:
        assert proc.poll() is None, f"run ended before step {step}: {proc.communicate()[1][-2000:]}"
        ckpt = list(out.glob("snli_generation/arae/seed0-*/checkpoint.pt"))
        if ckpt and torch.load(ckpt[0], weights_only=True)["step"] >= step:
            return
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint at step {step} after {timeout}s")


def _result(out):
    return read_json(_run_dir(out) / "result.json")["metrics"]


@pytest.mark.slow
def test_sigkill_mid_training_then_rerun_matches_an_uninterrupted_run(tmp_path, tiny_text_dir):
    assert main(_args(tmp_path / "clean", tiny_text_dir, steps=200, every=20)) == 0
    out = tmp_path / "killed"
    proc = _spawn(_args(out, tiny_text_dir, steps=200, every=20))
    _wait_for_step(out, 40, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert read_json(_run_dir(out) / "status.json")["state"] == "running" and not (_run_dir(out) / "result.json").exists()
    rerun = subprocess.run([sys.executable, "run_all.py", *_args(out, tiny_text_dir, steps=200, every=20)],
                           cwd=REPO, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resuming from step" in rerun.stderr
    assert _result(out) == _result(tmp_path / "clean")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    proc = _spawn(_args(out, tiny_text_dir, steps=100000, every=20))
    _wait_for_step(out, 20, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "the same command will resume from its checkpoint (checkpoint saved at step" in err
    assert "Traceback" not in err
    status = read_json(_run_dir(out) / "status.json")
    assert status["state"] == "stopped" and "stopped (Ctrl-C or SIGTERM)" in status["error"]


@pytest.mark.slow
def test_sigterm_marks_the_run_stopped_keeps_its_checkpoint_and_the_report_says_so(tmp_path, tiny_text_dir):
    from arae.results import collect_runs
    out = tmp_path / "runs"
    proc = _spawn(_args(out, tiny_text_dir, steps=100000, every=20))
    _wait_for_step(out, 20, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert "the same command will resume from its checkpoint (checkpoint saved at step" in err
    assert read_json(_run_dir(out) / "status.json")["state"] == "stopped"
    assert (_run_dir(out) / "checkpoint.pt").exists()
    assert [r.state for r in collect_runs(out)] == ["stopped"]


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_that_the_next_run_resumes_from(tmp_path, tiny_text_dir, monkeypatch, capsys):
    """The checkpoint is written at the interrupt (none is due before step 100), and the resumed run
    ends with the numbers of an uninterrupted one."""
    from arae.models.arae import ARAE
    args = lambda out: _args(out, tiny_text_dir, steps=12, every=100)  # noqa: E731
    assert main(args(tmp_path / "clean")) == 0
    step_once = ARAE.train_step

    def interrupted_at_step_7(self, step, batcher):
        if step == 7:
            os.kill(os.getpid(), signal.SIGINT)  # as a Ctrl-C in the terminal would
        return step_once(self, step, batcher)
    monkeypatch.setattr(ARAE, "train_step", interrupted_at_step_7)
    out = tmp_path / "interrupted"
    assert main(args(out)) == 130
    assert "checkpoint saved at step 8/12" in capsys.readouterr().err
    assert torch.load(_run_dir(out) / "checkpoint.pt", weights_only=True)["step"] == 8
    monkeypatch.setattr(ARAE, "train_step", step_once)
    assert main(args(out)) == 0
    assert "resuming from step 8/12" in capsys.readouterr().err
    assert _result(out) == _result(tmp_path / "clean")


@pytest.mark.slow
def test_crash_during_metrics_keeps_finished_metrics(tmp_path, tiny_text_dir, monkeypatch):
    assert main(_args(tmp_path / "clean", tiny_text_dir)) == 0
    out = tmp_path / "runs"
    forward = METRICS._items["forward_ppl.kenlm"]
    monkeypatch.setitem(METRICS._items, "forward_ppl.kenlm", lambda ctx: 1 / 0)
    assert main(_args(out, tiny_text_dir)) == 1
    finished = _run_dir(out) / "metrics" / "reverse_ppl.kenlm5.json"
    stamp = finished.stat().st_mtime_ns
    assert "ZeroDivisionError" in read_json(_run_dir(out) / "status.json")["error"]
    monkeypatch.setitem(METRICS._items, "forward_ppl.kenlm", forward)
    assert main(_args(out, tiny_text_dir)) == 0
    assert finished.stat().st_mtime_ns == stamp  # not recomputed
    assert _result(out) == _result(tmp_path / "clean")


@pytest.mark.slow
def test_corrupted_checkpoint_is_refused_then_force_starts_over(tmp_path, tiny_text_dir, capsys):
    out = tmp_path / "runs"
    assert main(_args(out, tiny_text_dir)) == 0
    run_dir = _run_dir(out)
    (run_dir / "status.json").unlink()  # as if killed before the end
    (run_dir / "result.json").unlink()
    (run_dir / "checkpoint.pt").write_bytes(b"\x00garbage")
    assert main(_args(out, tiny_text_dir)) == 1
    error = read_json(run_dir / "status.json")["error"]
    assert "corrupted checkpoint" in error and str(run_dir / "checkpoint.pt") in error and "--force" in error
    assert not (run_dir / "result.json").exists()
    assert main([*_args(out, tiny_text_dir), "--force"]) == 0
    assert read_json(run_dir / "status.json")["state"] == "done"


class Payload:
    """Unpickling it runs a shell command that creates `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_checkpoint_with_pickled_code_is_not_executed(tmp_path, tiny_text_dir):
    out, marker = tmp_path / "runs", tmp_path / "pwned"
    assert main(_args(out, tiny_text_dir)) == 0
    run_dir = _run_dir(out)
    (run_dir / "result.json").unlink()
    torch.save({"step": 1, "evil": Payload(marker)}, run_dir / "checkpoint.pt")
    torch.load(run_dir / "checkpoint.pt", weights_only=False)  # the payload works: a full unpickle runs it
    assert marker.exists()
    marker.unlink()
    assert main(_args(out, tiny_text_dir)) == 1
    assert "corrupted checkpoint" in read_json(run_dir / "status.json")["error"]
    assert not marker.exists()


@pytest.mark.slow
def test_checkpoint_from_another_config_is_refused_with_the_difference(tmp_path, tiny_text_dir):
    assert main(_args(tmp_path / "a", tiny_text_dir)) == 0
    assert main(_args(tmp_path / "b", tiny_text_dir, steps=8)) == 0
    target = _run_dir(tmp_path / "b")
    (target / "result.json").unlink()
    (target / "checkpoint.pt").write_bytes((_run_dir(tmp_path / "a") / "checkpoint.pt").read_bytes())
    assert main(_args(tmp_path / "b", tiny_text_dir, steps=8)) == 1
    error = read_json(target / "status.json")["error"]
    assert "different config" in error and "train.steps: checkpoint 6 vs run 8" in error


def test_full_disk_is_reported_and_loses_nothing(tmp_path, tiny_text_dir, monkeypatch, capsys):
    out = tmp_path / "runs"
    assert main(_args(out, tiny_text_dir)) == 0
    summary_before = (out / "summary.csv").read_text()
    real_write = arae.io.atomic_write_bytes

    def full_disk(path, data):
        if path.name in ("result.json", "summary.csv"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)
    monkeypatch.setattr(arae.io, "atomic_write_bytes", full_disk)
    assert main([*_args(out, tiny_text_dir), "--seeds", "2"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    seed1 = next(out.glob("snli_generation/arae/seed1-*"))
    assert read_json(seed1 / "status.json")["state"] == "failed" and not (seed1 / "result.json").exists()
    assert (out / "summary.csv").read_text() == summary_before  # the previous table is intact
    assert read_json(_run_dir(out) / "status.json")["state"] == "done"


@pytest.mark.slow
def test_two_processes_on_one_folder_never_run_a_run_twice(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    args = ["-b", "snli_generation", "--preset", "smoke", "--out", str(out), "--set", f"data={tiny_text_dir}",
            "--set", "train.steps=40", "--set", "eval.n_samples=60", "--set", "train.batch_size=16"]
    procs = [_spawn(args), _spawn(args)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    for row in ("lm", "ae", "arae"):
        trained = sum(f"[snli_generation/{row}/seed0] training throughput" in e for e in errs)
        assert trained == 1, (row, errs)
    assert all(read_json(d / "status.json")["state"] == "done" for d in out.glob("snli_generation/*/seed0-*"))
