"""Atomic writes: a failed write leaves the previous file whole, and no temporary file behind."""
import pytest

from arae.io import append_jsonl, atomic_write_json, atomic_write_text, read_json, read_jsonl


def test_failed_write_keeps_the_previous_content(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    atomic_write_json(path, {"value": 1})
    assert path.stat().st_mode & 0o044  # readable by others, unlike mkstemp's 0600

    def disk_full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("os.fsync", disk_full)
    with pytest.raises(OSError):
        atomic_write_text(path, "{}")
    assert read_json(path) == {"value": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_torn_last_jsonl_line_is_skipped(tmp_path):
    path = tmp_path / "scalars.jsonl"
    append_jsonl(path, {"step": 1})
    with open(path, "a") as f:
        f.write('{"step": 2, "los')  # a crash mid-line
    assert read_jsonl(path) == [{"step": 1}]
