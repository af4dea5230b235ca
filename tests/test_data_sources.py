"""Dataset registry, data-dir resolution, verified downloads with retries and progress (file://
and a local http.server on 127.0.0.1 only), and safe unzip."""
import hashlib
import http.client
import http.server
import re
import stat
import threading
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from arae.data import (DATASETS, DatasetSource, RemoteFile, download, resolve_data_dir,
                       safe_extract_zip, sha256_file)
from arae.data import sources
from arae.errors import ConfigError, DataError


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch):
    monkeypatch.setattr(sources, "RETRY_BACKOFF_S", 0)


def _source(files, folder="demo"):
    return DatasetSource(name="demo", description="test", folder=folder, files=tuple(files),
                         citation="none", licence="none")


def _served(tmp_path, name, data: bytes):
    """A file reachable through a file:// URL, standing in for a remote server."""
    path = tmp_path / "server" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path.as_uri()


def test_registry_lists_the_five_datasets_with_their_layout_folders():
    assert DATASETS.names() == ["mnist", "snli", "yelp_published", "yelp_references", "yelp_shen"]
    folders = {n: DATASETS.get(n).folder for n in DATASETS}
    assert folders == {"mnist": "mnist", "snli": "snli", "yelp_published": "yelp-published",
                       "yelp_references": "yelp-references", "yelp_shen": "yelp"}
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


@pytest.fixture
def server():
    """A local HTTP server: `server.answers` is the list of statuses to give, one per request
    (then 200); `server.body` is what a 200 sends; `server.requests` counts the requests."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            httpd.requests += 1
            status = httpd.answers.pop(0) if httpd.answers else 200
            body = httpd.body if status == 200 else b"try later"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.answers, httpd.body, httpd.requests = [], b"", 0
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/f.bin"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _counting_urlopen(monkeypatch, fail_with=None):
    """Record every urlopen call's url and timeout; raise `fail_with` instead of opening."""
    calls = []
    real = urllib.request.urlopen

    def urlopen(url, *, timeout):
        calls.append((url, timeout))
        if fail_with is not None:
            raise fail_with
        return real(url, timeout=timeout)

    monkeypatch.setattr(sources.urllib.request, "urlopen", urlopen)
    return calls


def test_all_expands_to_every_registered_dataset_and_checks_names_first(monkeypatch, tmp_path):
    fetched = []
    monkeypatch.setattr(sources, "download", lambda name, data_dir, progress: fetched.append(name))
    sources.download_datasets(["all"], tmp_path)
    assert fetched == DATASETS.names() == ["mnist", "snli", "yelp_published", "yelp_references", "yelp_shen"]
    assert sources.dataset_names(["snli", "all", "snli"]) == [
        "snli", "mnist", "yelp_published", "yelp_references", "yelp_shen"]

    fetched.clear()
    with pytest.raises(ConfigError) as err:
        sources.download_datasets(["snli", "mnsit"], tmp_path)
    assert fetched == []  # the typo is caught before snli is fetched
    assert "did you mean 'mnist'" in str(err.value)
    assert "(known: mnist, snli, yelp_published, yelp_references, yelp_shen, all)" in str(err.value)
    with pytest.raises(ConfigError, match="did you mean 'all'"):
        sources.dataset_names(["alll"])


def test_server_errors_are_retried_until_the_file_arrives(server, tmp_path, capsys):
    server.answers, server.body = [503, 500], b"third time lucky\n"
    src = _source([RemoteFile(server.url, hashlib.sha256(server.body).hexdigest(), "f.bin")])
    folder = download(src, tmp_path)
    assert server.requests == 3
    assert (folder / "f.bin").read_bytes() == server.body
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "f.bin"]
    err = capsys.readouterr().err
    assert "attempt 1 of 3 failed (HTTP Error 503" in err and "attempt 2 of 3 failed" in err


def test_a_client_error_such_as_404_is_not_retried(server, tmp_path):
    server.answers = [404]
    with pytest.raises(DataError, match="failed after 1 attempt: HTTP Error 404"):
        download(_source([RemoteFile(server.url, None, "f.bin")]), tmp_path, progress=False)
    assert server.requests == 1


@pytest.mark.parametrize("error", [urllib.error.URLError("connection refused"),
                                   TimeoutError("the read operation timed out"),
                                   http.client.RemoteDisconnected("closed connection")])
def test_a_persistent_network_failure_gives_up_after_n_attempts_naming_the_url(
        monkeypatch, tmp_path, error):
    monkeypatch.setattr(sources, "DOWNLOAD_ATTEMPTS", 4)
    monkeypatch.setattr(sources, "RETRY_BACKOFF_S", 1.5)
    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    calls = _counting_urlopen(monkeypatch, fail_with=error)
    url = "http://127.0.0.1:9/nowhere/g.txt"
    with pytest.raises(DataError) as err:
        download(_source([RemoteFile(url, None, "g.txt")]), tmp_path, progress=False)
    assert len(calls) == 4
    assert waits == [1.5, 3.0, 6.0]  # doubling backoff, no wait after the last attempt
    assert f"download of {url} failed after 4 attempts: " in str(err.value)
    assert str(error) in str(err.value)
    assert list((tmp_path / "demo").iterdir()) == []  # no partial download left


def test_a_hash_mismatch_is_final_and_not_retried(monkeypatch, tmp_path):
    calls = _counting_urlopen(monkeypatch)
    src = _source([RemoteFile(_served(tmp_path, "h.txt", b"tampered\n"), "0" * 64, "h.txt")])
    with pytest.raises(DataError, match="sha256 mismatch"):
        download(src, tmp_path / "data", progress=False)
    assert len(calls) == 1


def test_urlopen_is_given_the_timeout(monkeypatch, tmp_path):
    calls = _counting_urlopen(monkeypatch)
    url = _served(tmp_path, "t.txt", b"x")
    download(_source([RemoteFile(url, None, "t.txt")]), tmp_path / "data", progress=False)
    assert calls == [(url, sources.DOWNLOAD_TIMEOUT_S)] and sources.DOWNLOAD_TIMEOUT_S == 60


def test_progress_reports_bytes_done_of_content_length_and_percentage(
        server, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sources, "PROGRESS_EVERY_S", 0)  # report after every chunk
    server.body = bytes(2_500_000)
    src = _source([RemoteFile(server.url, None, "f.bin")])
    download(src, tmp_path / "a")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  f.bin: ")]
    assert lines[0] == "  f.bin: 1.0 of 2.5 MB (41%)"  # after the first 1 MiB chunk
    assert lines[1] == "  f.bin: 2.1 of 2.5 MB (83%)"
    assert lines[-1] == "  f.bin: 2.5 of 2.5 MB (100%)"

    download(src, tmp_path / "b", progress=False)
    assert capsys.readouterr().err == ""


def test_progress_without_a_content_length_says_only_the_bytes_done():
    assert sources._progress_line("x.zip", 42_100_000, None) == "  x.zip: 42.1 MB"
    assert sources._progress_line("x.zip", 42_100_000, 94_600_000) == "  x.zip: 42.1 of 94.6 MB (44%)"


def test_the_published_outputs_source_matches_the_offline_copy_file_for_file(shared):
    """Every file the download would fetch is in the offline copy with the same hash, and vice versa."""
    from arae.data.sources import sha256_file
    src = DATASETS.get("yelp_published")
    folder = shared / src.folder
    assert {f.filename: f.sha256 for f in src.files} == {
        str(p.relative_to(folder)): sha256_file(p) for p in folder.glob("*/test.*.tsf")}
