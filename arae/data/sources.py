"""Where the official data lives, how to fetch it, and how to check it arrived intact.

The on-disk layout is the one of the offline data copy (snli/, yelp/, yelp-references/, mnist/),
so a folder prepared offline and a folder filled by `download` are interchangeable.
"""
from __future__ import annotations

import difflib
import hashlib
import http.client
import os
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from arae.errors import ConfigError, DataError
from arae.io import atomic_write_text
from arae.registry import Registry

DATA_DIR_ENV = "ARAE_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.cache/arae/data")
SUMS_FILE = "SHA256SUMS"  # per-folder record of what was downloaded, `sha256sum -c` format
ALL = "all"  # the --download value meaning every registered dataset

# A stalled server must not hang the suite, and a dropped connection usually passes.
DOWNLOAD_TIMEOUT_S = 60  # per blocking network operation (connect, each read), not per file
DOWNLOAD_ATTEMPTS = 3
RETRY_BACKOFF_S = 2.0  # wait before the 2nd attempt; doubled before each further one
PROGRESS_EVERY_S = 2.0
CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    url: str
    sha256: str | None  # None: not known to us; the computed hash is printed and recorded
    filename: str
    extract: bool = False  # a zip to unpack into the dataset folder after verification


@dataclass(frozen=True)
class DatasetSource:
    name: str
    description: str
    folder: str  # sub-folder of the data dir, as in the offline data copy
    files: tuple[RemoteFile, ...]
    citation: str
    licence: str
    notes: tuple[str, ...] = field(default=())


DATASETS: Registry[DatasetSource] = Registry("dataset")

_SHEN = "https://raw.githubusercontent.com/shentianxiao/language-style-transfer/master/data/yelp/"
_LI = "https://raw.githubusercontent.com/lijuncen/Sentiment-and-Style-Transfer/master/data/yelp/"
_LUO = "https://raw.githubusercontent.com/luofuli/DualRL/master/references/yelp/"
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"


def _files(base: str, hashes: dict[str, str | None]) -> tuple[RemoteFile, ...]:
    return tuple(RemoteFile(base + name, sha, name) for name, sha in hashes.items())


DATASETS.add("snli", DatasetSource(
    name="snli",
    description="Stanford NLI 1.0: 570k sentence pairs, jsonl with binary parses",
    folder="snli",
    # The archive's sha256 is not known to us offline (the copy in the offline data copy is the
    # SentEval re-export, not this zip). Its hash is printed and recorded on download.
    files=(RemoteFile("https://nlp.stanford.edu/projects/snli/snli_1.0.zip", None,
                      "snli_1.0.zip", extract=True),),
    citation="Bowman, Angeli, Potts, Manning. A large annotated corpus for learning natural "
             "language inference. EMNLP 2015.",
    licence="CC BY-SA 4.0",
))

DATASETS.add("yelp_shen", DatasetSource(
    name="yelp_shen",
    description="Shen et al. 2017 Yelp sentiment data, sentiment.{train,dev,test}.{0,1} "
                "(.0 negative, .1 positive)",
    folder="yelp",
    # Hashes of dev/test come from the unchanged copies in the offline data copy. The train files'
    # sha256 is unknown to us; their git blob ids are 036fc63d... (.0) and bacfff76... (.1).
    files=_files(_SHEN, {
        "sentiment.train.0": None,
        "sentiment.train.1": None,
        "sentiment.dev.0": "405ef6d4bfbc8bb92c3c55b496f315069cb5edb49ed34a07b1206341b83c344b",
        "sentiment.dev.1": "3509f6573411bbda2d5c071ed72ad276c12356c15c06205b8fdf74b217970c61",
        "sentiment.test.0": "b7466e8859e9948892a859af7938a82c801c99b69f884014082fd072a155bbf2",
        "sentiment.test.1": "a66e0ec3f0e1230ad4d2c822750a381cf6d99a99fa9b5ae79546f21ff79ed5c3",
    }),
    citation="Shen, Lei, Barzilay, Jaakkola. Style Transfer from Non-Parallel Text by "
             "Cross-Alignment. NeurIPS 2017.",
    licence="Yelp dataset terms (research use)",
))

DATASETS.add("yelp_references", DatasetSource(
    name="yelp_references",
    description="Li et al. 2018 Yelp test set (500+500) with human rewrites: reference.{0,1} "
                "(source<TAB>rewrite) and reference{0,1,2,3}.{0,1} (0 = Li's, 1-3 = Luo et al.)",
    folder="yelp-references",
    files=_files(_LI, {
        "sentiment.test.0": "29f23d6fe163a85ffe0aad31d54435bb8a65c3837767bebcd718f2c47d201cc4",
        "sentiment.test.1": "e42be2064b93be77b223e67d1ae3d297bbc6a38195017f3f195c1e3b58f72077",
        "reference.0": "a0a162722a4dcbc2d38fd9770f37d39f383777e0c545a6df5cd7ac58247d7a77",
        "reference.1": "5cc4011b1e7fdd72a3c56786a02ab2e50caf08ffd3bbd70bde854322e809f734",
    }) + _files(_LUO, {
        "reference0.0": "102cd3dbbb082f967304b4b7ba9a10aa4739b35e8cf61eea91e5cebc5843fcf8",
        "reference0.1": "64bb25a4e18dbcec18879c01298957b81f598950055c816a8d44f5fe95463f8d",
        "reference1.0": "027eebd99881c962fcfc307cef700d7a4dad660bbbe56798b1b5b50848695318",
        "reference1.1": "fcfddaca014fd1ca15f168519abca1ec8446ac32b09fb4e03c13cabecf9e7b5c",
        "reference2.0": "cd7ea125ed01cb14215e4001351a6bc7435ea6ca49d2962d8fcced535ebee523",
        "reference2.1": "eae00138a54354e190459ede15d327b7de469a5e98fb459eddda66c06fcf35f4",
        "reference3.0": "48fcde5e4c31b0d5557ce23a916788f3ab63158c6dc2127d1699af69e1e882fb",
        "reference3.1": "df2bd05e05e133b324b3cdff32a9af5d49130ec1a3177eaa05a2afa7fac57a62",
    }),
    citation="Li, Jia, He, Liang. Delete, Retrieve, Generate. NAACL 2018; Luo et al. A Dual "
             "Reinforcement Learning Framework for Unsupervised Text Style Transfer. IJCAI 2019.",
    licence="CC BY-SA 4.0 (Li et al.) / MIT (Luo et al.)",
))

DATASETS.add("mnist", DatasetSource(
    name="mnist",
    description="MNIST handwritten digits, the four original idx .gz files",
    folder="mnist",
    # The original archives' published sha256 sums. The .gz copies in the offline data copy hash
    # differently: same size and same decompressed bytes, re-gzipped with a newer header mtime.
    files=_files(_MNIST, {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }),
    citation="LeCun, Bottou, Bengio, Haffner. Gradient-based learning applied to document "
             "recognition. Proc. IEEE 1998.",
    licence="CC BY-SA 3.0",
))


def resolve_data_dir(cli_value: str | None) -> Path:
    """The --data-dir value, else $ARAE_DATA_DIR, else ~/.cache/arae/data."""
    value = cli_value or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(value).expanduser()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_names(requested: list[str]) -> list[str]:
    """The registered names asked for, `all` expanded, first occurrence kept.

    Every name is checked before anything is fetched, so a typo does not surface after
    an hour of downloading.
    """
    known = DATASETS.names()
    names: list[str] = []
    for name in requested:
        if name != ALL and name not in DATASETS:
            close = difflib.get_close_matches(name, known + [ALL], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown dataset {name!r}{hint} (known: {', '.join(known)}, {ALL})")
        names += [n for n in (known if name == ALL else [name]) if n not in names]
    return names


def download_datasets(requested: list[str], data_dir: str | Path, *,
                      progress: bool = True) -> list[Path]:
    """`download` each dataset named (`all`: every registered one); returns their folders."""
    return [download(name, data_dir, progress=progress) for name in dataset_names(requested)]


def download(source: str | DatasetSource, data_dir: str | Path, *, progress: bool = True) -> Path:
    """Fetch every file of a dataset into data_dir/<folder>, verified, and return that folder.

    `source` is a registered name or a DatasetSource (tests pass one with file:// URLs).
    Files already present with the expected hash are not fetched again.
    """
    src = DATASETS.get(source) if isinstance(source, str) else source
    folder = Path(data_dir).expanduser() / src.folder
    folder.mkdir(parents=True, exist_ok=True)
    recorded = {}
    for remote in src.files:
        target = folder / remote.filename
        if not _is_current(target, remote):
            _fetch(remote, target, progress)
        actual = sha256_file(target)
        recorded[remote.filename] = actual
        if remote.sha256 is None:
            _say(progress, f"{target}: sha256 not known to the suite; computed {actual} "
                           f"(recorded in {folder / SUMS_FILE})")
        if remote.extract:
            safe_extract_zip(target, folder)
    _record_sums(folder / SUMS_FILE, recorded)
    return folder


def _is_current(target: Path, remote: RemoteFile) -> bool:
    if not target.is_file():
        return False
    return remote.sha256 is None or sha256_file(target) == remote.sha256


def _fetch(remote: RemoteFile, target: Path, progress: bool) -> None:
    """Download to a temp name beside the target, verify, then move into place atomically.

    Network failures are retried; a sha256 mismatch is final (the server sent what it has).
    """
    _say(progress, f"downloading {remote.url} -> {target}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_with_retries(remote.url, out, target, progress)
        actual = sha256_file(tmp)
        if remote.sha256 is not None and actual != remote.sha256:
            target.unlink(missing_ok=True)  # a stale bad copy must not pass for the real file
            raise DataError(target, f"sha256 mismatch for {remote.url}: expected "
                                    f"{remote.sha256}, got {actual}; the download was deleted")
        os.replace(tmp, target)
    except OSError as e:
        raise DataError(target, f"download of {remote.url} failed: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    _say(progress, f"  {target.stat().st_size:,} bytes, sha256 {actual}")


def _copy_with_retries(url: str, out, target: Path, progress: bool) -> None:
    """Copy url into `out`, starting over after a network failure, up to DOWNLOAD_ATTEMPTS times."""
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        out.seek(0)
        out.truncate()
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                _copy(response, out, target.name, progress)
            return
        except (OSError, http.client.HTTPException) as e:  # URLError and timeouts are OSErrors
            if attempt == DOWNLOAD_ATTEMPTS or not _retryable(e):
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                raise DataError(target, f"download of {url} failed after {tries}: {e}") from e
            delay = RETRY_BACKOFF_S * 2 ** (attempt - 1)
            _say(progress, f"  attempt {attempt} of {DOWNLOAD_ATTEMPTS} failed ({e}); "
                           f"retrying in {delay:g} s")
            time.sleep(delay)


def _retryable(error: Exception) -> bool:
    """A server error (5xx) or lost connection may pass; a 404 or 403 answer will not."""
    return not isinstance(error, urllib.error.HTTPError) or error.code >= 500


def _copy(response, out, label: str, progress: bool) -> None:
    """Copy in chunks, saying how far it got every PROGRESS_EVERY_S seconds and at the end."""
    length = response.headers.get("Content-Length", "")
    total = int(length) if length.isdigit() else None
    done, next_report = 0, time.monotonic() + PROGRESS_EVERY_S
    while chunk := response.read(CHUNK):
        out.write(chunk)
        done += len(chunk)
        if time.monotonic() >= next_report:
            _say(progress, _progress_line(label, done, total))
            next_report = time.monotonic() + PROGRESS_EVERY_S
    _say(progress, _progress_line(label, done, total))


def _progress_line(label: str, done: int, total: int | None) -> str:
    if total is None:
        return f"  {label}: {done / 1e6:.1f} MB"
    percent = 100 * done // total if total else 100
    return f"  {label}: {done / 1e6:.1f} of {total / 1e6:.1f} MB ({percent}%)"


def _record_sums(path: Path, hashes: dict[str, str]) -> None:
    """Merge into the folder's SHA256SUMS so a later `sha256sum -c` can re-check the files."""
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            hashes.setdefault(name, digest)
    atomic_write_text(path, "".join(f"{h}  {n}\n" for n, h in sorted(hashes.items())))


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr, flush=True)


def safe_extract_zip(zip_path: str | Path, target_dir: str | Path) -> None:
    """Extract a zip, refusing the whole archive if any member could land outside target_dir.

    Checked before anything is written, so a hostile archive leaves no partial files.
    """
    zip_path, target = Path(zip_path), Path(target_dir).resolve()
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                _check_member(zip_path, info, target)
            zf.extractall(target)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(zip_path, f"cannot extract zip archive: {e}") from e


def _check_member(zip_path: Path, info: zipfile.ZipInfo, target: Path) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DataError(zip_path, f"refusing to extract: member {name!r} is a symbolic link")
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise DataError(zip_path, f"refusing to extract: member {name!r} escapes {target}")
    if not (target / name).resolve().is_relative_to(target):
        raise DataError(zip_path, f"refusing to extract: member {name!r} escapes {target}")
