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
_DUALRL_OUTPUTS = "https://raw.githubusercontent.com/luofuli/DualRL/f412d903de683cf00ca471a1e413f916911a811c/outputs/yelp/"


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

DATASETS.add("yelp_published", DatasetSource(
    name="yelp_published",
    description="Published systems' and human writers' transfers of the Li et al. 2018 test sentences (11 systems, "
                "4 writers): <system>/test.{0,1}.tsf one transfer a line, test.{0-1,1-0}.tsf source<TAB>transfer",
    folder="yelp-published",
    files=_files(_DUALRL_OUTPUTS, {
        "BackTranslation_Pr/test.0.tsf": "2736dd0ae7e5ff490f1e3f523f97253be2c6b0b6527bd0a1e3c947f28f056d66",
        "BackTranslation_Pr/test.1.tsf": "a8977f5a43f7e430157d30bcb2742594ceb06463a5faa6e8de2a61b6ef245535",
        "BackTranslation_Pr/test.0-1.tsf": "dcd003e4a38da70c4e61ce8b778882726c640cbc4f92a48293ea4c920a71b9e7",
        "BackTranslation_Pr/test.1-0.tsf": "d6bf2ca86f93554ff3e51f10cfef3f16b0cad6e1543735ff2c5f8c69b954f0b1",
        "CrossAlignment_Shen/test.0.tsf": "b69ed0bf3a3142bf9861a72017b02afb2123e56357b86f5dbc9b7cadee34a81f",
        "CrossAlignment_Shen/test.1.tsf": "776ff16519477bf7a6f0bd3d8eb5d3360aeffdcc2ea79eb529e0ae4c1e254742",
        "CrossAlignment_Shen/test.0-1.tsf": "15b7a158aee27efe9bce2b12dd5e595c13e96e67d739e0a8b47602ec93668c9c",
        "CrossAlignment_Shen/test.1-0.tsf": "c96bd6b8b85f0f1bb97cd90b12741dd7eecf115c3cf59fcdefb6eed2a3319a9e",
        "DeleteOnly_Li/test.0.tsf": "ab50e3167390808628076afde94f790011ae84c573903a1a65a62ff14eb3eabd",
        "DeleteOnly_Li/test.1.tsf": "82b1764256af02349ac6221c220004b5b3f76b60cac5291e0fd3dc3ed8ed8b33",
        "DeleteOnly_Li/test.0-1.tsf": "c872b98c059b3e051a0e872f950556e3f27ff70bd64364304cc4b04a872f4645",
        "DeleteOnly_Li/test.1-0.tsf": "289736c9bc943cb73ad3b2e2c3ce5d723e06d3c83b20dc39f1fd1a10f8ae016f",
        "DeleteRetrieve_Li/test.0.tsf": "79a6a442f1b730880a78ee2bd39c9cd5530b73fcf03034ffb84163d074540132",
        "DeleteRetrieve_Li/test.1.tsf": "3a638dab037bdd65eea74e8f2a3ea94c93c06c89c48d44430d37291c15a8ca46",
        "DeleteRetrieve_Li/test.0-1.tsf": "aa70524f44fe670506e7a736f8c840a6fd9e110f7da501e64520aaf2448d45bf",
        "DeleteRetrieve_Li/test.1-0.tsf": "7be7e647dd9f16090ac4deace80107b781a763067c3f30912edf86ab6d30a0f8",
        "DualRL/test.0.tsf": "c8938a1ebc60cafd9accb5d1656c7946d37b7abf16c32446abedbfa368da48e4",
        "DualRL/test.1.tsf": "71c9c30ba68dd724e3b12b345e3700056d7487b95020bd4fc8de5a086a434c07",
        "DualRL/test.0-1.tsf": "ef5ca683ceb8d6c5b68fa584b2f36bb48bbb95018a74b7afedd11224bda5e7d1",
        "DualRL/test.1-0.tsf": "3663993d1eb2f7d59195abb0075cb1555a50f0d09dba4f7c9537d9b131e112d4",
        "Human0/test.0.tsf": "102cd3dbbb082f967304b4b7ba9a10aa4739b35e8cf61eea91e5cebc5843fcf8",
        "Human0/test.1.tsf": "64bb25a4e18dbcec18879c01298957b81f598950055c816a8d44f5fe95463f8d",
        "Human0/test.0-1.tsf": "34936cf6353d5126085c55e503f02a72e5bce6ba1cccf2f73eb9d477436ac517",
        "Human0/test.1-0.tsf": "8a212bae89671641a9d619845625af32298274572fd0ff5d31847643631d9b4a",
        "Human1/test.0.tsf": "027eebd99881c962fcfc307cef700d7a4dad660bbbe56798b1b5b50848695318",
        "Human1/test.1.tsf": "fcfddaca014fd1ca15f168519abca1ec8446ac32b09fb4e03c13cabecf9e7b5c",
        "Human1/test.0-1.tsf": "84572e0d89bed89475c34e21ff26bbef191ef3b7d68e13a03ed810d3a28c37b9",
        "Human1/test.1-0.tsf": "6de40391529b1c515e745b9ea792fc140ae282b01163509f36d75c2b1bd3e4a2",
        "Human2/test.0.tsf": "cd7ea125ed01cb14215e4001351a6bc7435ea6ca49d2962d8fcced535ebee523",
        "Human2/test.1.tsf": "eae00138a54354e190459ede15d327b7de469a5e98fb459eddda66c06fcf35f4",
        "Human2/test.0-1.tsf": "643b4136c14936ed25352680185f3eacf72b0b32c333e98120fe510ce1cd722c",
        "Human2/test.1-0.tsf": "190038e3d97bd78c1d4cf0bf6cddecc7d7c1a87cef4bc63b68712586f5e46fc1",
        "Human3/test.0.tsf": "48fcde5e4c31b0d5557ce23a916788f3ab63158c6dc2127d1699af69e1e882fb",
        "Human3/test.1.tsf": "df2bd05e05e133b324b3cdff32a9af5d49130ec1a3177eaa05a2afa7fac57a62",
        "Human3/test.0-1.tsf": "76d41f3420c91dd2ab17f62517a8d33a8f7b4317e414d6783a9d691c5ff957da",
        "Human3/test.1-0.tsf": "ab27fef2f7943665c97674b3556e945c91bf19a7f7c22771f4f37e4d563c8bb1",
        "Multidecoder_Fu/test.0.tsf": "74eb620634897977f1b7549cfef23d3bf9ca6f1210a0d60d7e80ab3d865ccce1",
        "Multidecoder_Fu/test.1.tsf": "029bac6c6200a2d0cf6b32462ec68539ef5414224b6c6aaf2d5ebda4d7d5072d",
        "Multidecoder_Fu/test.0-1.tsf": "1d9858e0326c1ca6be285919b8dbe5b34ba324df87d41bccc2cf69fff6a7dd7f",
        "Multidecoder_Fu/test.1-0.tsf": "8f67b74739f7362f3294fdbf87b75ad85223e29903a82e70a865596171f84261",
        "RetrieveOnly_Li/test.0.tsf": "87505c5b34344023a4a3e6bfea107d20142c7a3c1676808e56ab0df2138dfc62",
        "RetrieveOnly_Li/test.1.tsf": "579acf1cbc0b2999e5bd21b5181cc8f9ded2414aaa5cd0e70c33aca68658c6f3",
        "RetrieveOnly_Li/test.0-1.tsf": "5952a6cb68f7ca0611273b999e6a39918c600b595fe27a140926bdad5b917650",
        "RetrieveOnly_Li/test.1-0.tsf": "9e73fe6fae8024017a1ac891ac379cccfd31037f70f65150a63e1497347228ae",
        "StyleEmbedding_Fu/test.0.tsf": "a659084926631e499828a1c652f01638b29b4ed49e891e0c5a3767cbb9be218f",
        "StyleEmbedding_Fu/test.1.tsf": "76cbbcff29d610391f080b831fea758b8ac91d6b4b4ebe351443ab5e492c4f2b",
        "StyleEmbedding_Fu/test.0-1.tsf": "75ac33de649e60cc712a816bfe6e34aa5426592508d86c494711483a7e08046a",
        "StyleEmbedding_Fu/test.1-0.tsf": "43154d6fc1b2a14a6ede27a788895c42cf624f6dae6c9d1099ab93da7b2fa087",
        "TemplateBase_Li/test.0.tsf": "a6843537f74ed89a9dfa77a6e36735eae29b5de9e7c346dae84c09789a2d50f6",
        "TemplateBase_Li/test.1.tsf": "3ceec2616a97365e90e2cfea60d8c2a969ca0c65c2d6e0112aedd4bc35b00ec1",
        "TemplateBase_Li/test.0-1.tsf": "059564cb11381b1ede7f9203525510842bc82a7a3f751f77a14a583d4c7bfa76",
        "TemplateBase_Li/test.1-0.tsf": "1c06d5642db59797702de98b2a213ae4e8eda132ee4423fcdd02378c4f6fa6f4",
        "UnpairedRL_Xu/test.0.tsf": "e8d6ecda5255072a44602e0edfc23d85d5eba68929420a60cb72beffacee84a6",
        "UnpairedRL_Xu/test.1.tsf": "034f5217c2c66d0168421acd5536a5b7b78f754efe0b57b7d6a32cf633dbecd5",
        "UnpairedRL_Xu/test.0-1.tsf": "8d1805e862503b4a81f44369c570e77bd3b238bd45a726983bca128b52f97eb0",
        "UnpairedRL_Xu/test.1-0.tsf": "cb5f40d0c8de669cc26e590ec57eb6e51beaf51ee05404029737248fb9bc831d",
        "UnsuperMT_Zhang/test.0.tsf": "037298117e71df66fa8172cb3c58dbc9adb4058f001554f54a18c644fdd3c073",
        "UnsuperMT_Zhang/test.1.tsf": "711af79929e5f979052f830deb4c1c03ebc011276e2f089dccbefc716d4b6357",
        "UnsuperMT_Zhang/test.0-1.tsf": "d3585199adc6d209eb1c025944edffac3b72ca7d5f3f6cd04e6e327355413988",
        "UnsuperMT_Zhang/test.1-0.tsf": "3ea7a30bdde77fbe2f82414ac5ec892dbe13a4d4706eb425e1e59f90caadd769",
    }),
    citation="Luo et al. A Dual Reinforcement Learning Framework for Unsupervised Text Style Transfer. IJCAI 2019 "
             "(the collection), and each system's paper.",
    licence="MIT (luofuli/DualRL)",
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
        target.parent.mkdir(parents=True, exist_ok=True)  # a file may sit in a sub-folder (one per system)
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
