"""MNIST digits as a corpus of images (an ImageCorpus), binarized as bmnist/main.lua does it: a pixel is 1
when its grey value is above half of 255 (the official code scales to [-1, 1] and thresholds at 0).

Official: all 60,000 training images (train-images-idx3-ubyte.gz), tested on the 10,000 of t10k. Offline
(the offline data copy's mnist/), the first 10,000 training images come as train-first10k.npz; the substitute is
recorded in the corpus description."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from arae.data.corpora import CORPORA, ImageCorpus
from arae.errors import DataError, download_hint

PIXELS = 28 * 28
_MAGIC = {"images": 2051, "labels": 2049}


def read_idx(path: Path, kind: str) -> np.ndarray:
    """An idx file (.gz or not) of images (N, 784) or labels (N,), uint8; a bad header names the file."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DataError(path, f"cannot read ({err})") from None
    header = 16 if kind == "images" else 8
    if len(data) < header or int.from_bytes(data[:4], "big") != _MAGIC[kind]:
        raise DataError(path, f"not an idx {kind} file (expected magic number {_MAGIC[kind]})")
    n = int.from_bytes(data[4:8], "big")
    width = PIXELS if kind == "images" else 1
    if kind == "images" and data[8:16] != (28).to_bytes(4, "big") * 2:
        raise DataError(path, "images are not 28 x 28")
    if len(data) != header + n * width:
        raise DataError(path, f"truncated: {len(data) - header} bytes of data for {n} {kind}")
    array = np.frombuffer(data, np.uint8, offset=header)
    return array.reshape(n, PIXELS) if kind == "images" else array


def binarize(pixels: np.ndarray) -> np.ndarray:
    return (pixels > 127.5).astype(np.uint8)


def _labelled(images: np.ndarray, labels: np.ndarray, files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    if len(images) != len(labels):
        raise DataError(files[0], f"{len(images)} images but {len(labels)} labels in {files[1]}")
    if labels.size and labels.max() > 9:
        raise DataError(files[1], f"label {labels.max()} is not a digit")
    return binarize(images), labels.astype(np.int64)


@CORPORA.register("mnist")
def build_mnist(data_dir: Path) -> ImageCorpus:
    folder = Path(data_dir) / "mnist"
    full, first10k = folder / "train-images-idx3-ubyte.gz", folder / "train-first10k.npz"
    test_files = [folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"]
    substitute = None
    if full.exists():
        train_files = [full, folder / "train-labels-idx1-ubyte.gz"]
        train = _labelled(read_idx(full, "images"), read_idx(train_files[1], "labels"), train_files)
    elif first10k.exists():
        train_files = [first10k, first10k]
        try:
            with np.load(first10k) as saved:
                x, y = saved["x"], saved["y"]
        except (OSError, KeyError, ValueError) as err:
            raise DataError(first10k, f"expected arrays x (N, 784) and y (N,) ({err})") from None
        if x.ndim != 2 or x.shape[1] != PIXELS:
            raise DataError(first10k, f"x has shape {x.shape}, expected (N, {PIXELS})")
        train = _labelled(x, y, train_files)
        substitute = (f"MNIST training images 10,001-60,000 not found in {folder}; trained on the first "
                      f"{len(x):,} training images ({first10k.name}, grouped by digit)")
    else:
        raise DataError(folder, f"no MNIST training images: expected {full.name} (all 60,000) or {first10k.name}; "
                                f"{download_hint('mnist', folder.parent)}")
    for path in test_files:
        if not path.exists():
            raise DataError(path, f"MNIST test file not found; {download_hint('mnist', folder.parent)}")
    test = _labelled(read_idx(test_files[0], "images"), read_idx(test_files[1], "labels"), test_files)
    description = {
        "name": "mnist", "files": {"train": [str(p) for p in dict.fromkeys(train_files)],
                                   "test": [str(p) for p in test_files]},
        "sizes": {"train": len(train[0]), "test": len(test[0])}, "unit": "images",
        "filters": ["binarized: pixel > 127.5 is 1 (bmnist/main.lua)"],
        "substitute": substitute, "user_corpus": None,
    }
    return ImageCorpus("mnist", {"train": train, "test": test}, description)
