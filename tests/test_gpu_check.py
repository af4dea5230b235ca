"""The prepared GPU check runs on CPU-only machines as a dry run that checks its own arguments and plan."""
import subprocess

from conftest import REPO


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/gpu_check.sh", *args], cwd=REPO, capture_output=True, text=True)


def test_the_dry_run_prints_every_step_and_runs_nothing(tmp_path):
    done = _check("--dry-run", "--out", str(tmp_path / "check"), "--peer", str(tmp_path / "no-peer"))
    assert done.returncode == 0, done.stderr
    assert [line.split("]")[0] + "]" for line in done.stdout.splitlines()] == [
        "[peer]", "[perf]", "[shapes]", "[matrix]", "[matrix]", "[paths]", "[paths]"]
    assert "[peer] skipped: no compare.sh in" in done.stdout
    assert "--runs-per-gpu 4" in done.stdout and "train.fixed_shapes=false" in done.stdout
    assert not (tmp_path / "check").exists()


def test_bad_arguments_are_refused():
    assert _check("--dry-run", "--steps", "5").returncode == 2
    assert _check("--dry-run", "--only", "everything").returncode == 2
    assert _check("--dry-run", "--data-dir", "/no/such/folder").returncode == 2
