"""Dataset registry, data-dir resolution, verified downloads (file:// only) and safe unzip."""
import hashlib
import re
import stat
import zipfile

import pytest

from arae.data import (DATASETS, DatasetSource, RemoteFile, download, resolve_data_dir,
                       safe_extract_zip, sha256_file)
from arae.errors import ConfigError, DataError


def _source(files, folder="demo"):
    return DatasetSource(name="demo", description="test", folder=folder, files=tuple(files),
                         citation="none", licence="none")


def _served(tmp_path, name, data: bytes):
    """A file reachable through a file:// URL, standing in for a remote server."""
    path = tmp_path / "server" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path.as_uri()


def test_registry_lists_the_four_datasets_with_their_layout_folders():
    assert DATASETS.names() == ["mnist", "snli", "yelp_references", "yelp_shen"]
    folders = {n: DATASETS.get(n).folder for n in DATASETS}
    assert folders == {"mnist": "mnist", "snli": "snli", "yelp_references": "yelp-references",
                       "yelp_shen": "yelp"}
    for name in DATASETS:
        for f in DATASETS.get(name).files:
            assert f.url.startswith("https://") and f.url.endswith(f.filename)
            assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)


def test_unknown_dataset_suggests_the_closest_name():
    with pytest.raises(ConfigError, match="did you mean 'snli'"):
        download("snlii", "/nonexistent")


def test_resolve_data_dir_prefers_flag_then_env_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("ARAE_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(str(tmp_path / "flag")) == tmp_path / "flag"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("ARAE_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path / ".cache" / "arae" / "data"


def test_sha256_file(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f") == hashlib.sha256(b"abc").hexdigest()


def test_download_verifies_moves_into_layout_and_records_sums(tmp_path, capsys):
    data = b"hello\n"
    src = _source([RemoteFile(_served(tmp_path, "a.txt", data),
                              hashlib.sha256(data).hexdigest(), "a.txt")])
    folder = download(src, tmp_path / "data")
    assert folder == tmp_path / "data" / "demo"
    assert (folder / "a.txt").read_bytes() == data
    assert (folder / "SHA256SUMS").read_text() == f"{hashlib.sha256(data).hexdigest()}  a.txt\n"
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "a.txt"]  # no temp left
    assert "downloading" in capsys.readouterr().err

    download(src, tmp_path / "data")  # already there and verified: not fetched again
    assert "downloading" not in capsys.readouterr().err


def test_download_without_known_hash_prints_and_records_the_computed_hash(tmp_path, capsys):
    data = b"unknown provenance\n"
    src = _source([RemoteFile(_served(tmp_path, "b.txt", data), None, "b.txt")])
    folder = download(src, tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    assert f"sha256 not known to the suite; computed {digest}" in capsys.readouterr().err
    assert f"{digest}  b.txt" in (folder / "SHA256SUMS").read_text()


def test_sha_mismatch_deletes_the_file_and_names_file_and_both_hashes(tmp_path):
    data = b"tampered\n"
    expected = "0" * 64
    src = _source([RemoteFile(_served(tmp_path, "c.txt", data), expected, "c.txt")])
    folder = tmp_path / "data" / "demo"
    folder.mkdir(parents=True)
    (folder / "c.txt").write_bytes(b"stale copy\n")  # a wrong old copy must go too
    with pytest.raises(DataError) as err:
        download(src, tmp_path / "data", progress=False)
    message = str(err.value)
    assert str(folder / "c.txt") in message
    assert expected in message and hashlib.sha256(data).hexdigest() in message
    assert list(folder.iterdir()) == []


def test_failed_download_is_a_data_error_naming_the_url(tmp_path):
    url = (tmp_path / "missing.txt").as_uri()
    with pytest.raises(DataError, match="download of .*missing.txt failed"):
        download(_source([RemoteFile(url, None, "d.txt")]), tmp_path, progress=False)
    assert list((tmp_path / "demo").iterdir()) == []


def test_download_extracts_zip_archives(tmp_path):
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/x.jsonl", "{}\n")
    src = _source([RemoteFile(archive.as_uri(), sha256_file(archive), "pack.zip", extract=True)])
    folder = download(src, tmp_path / "data", progress=False)
    assert (folder / "inner" / "x.jsonl").read_text() == "{}\n"


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt"])
def test_zip_member_escaping_the_target_is_refused_and_nothing_extracted(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.txt", "fine")
        zf.writestr(member, "pwned")
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(DataError, match=re.escape(repr(member))):
        safe_extract_zip(archive, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_zip_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(DataError, match="'link' is a symbolic link"):
        safe_extract_zip(archive, tmp_path / "out")


def test_corrupt_zip_is_a_data_error(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="x.zip: cannot extract"):
        safe_extract_zip(tmp_path / "x.zip", tmp_path)
