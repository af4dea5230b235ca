"""Shared fixtures: the real offline data beside the repository, and tiny corpora in real formats."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """../shared/data beside the repository, or $ARAE_SHARED_DATA; its absence is a failure, not a skip."""
    path = Path(os.environ.get("ARAE_SHARED_DATA") or REPO.parent / "shared" / "data")
    assert (path / "snli" / "s1.dev").is_file(), f"offline data not found at {path}"
    return path


@pytest.fixture(scope="session")
def shared():
    return shared_data_dir()


TINY_SENTENCES = [
    "a man is playing a guitar .", "a woman is sitting on a bench .", "two dogs run in the park .",
    "a child is eating an apple .", "the man is sleeping .", "a dog is running on the beach .",
    "people are walking in the street .", "a woman is reading a book .", "the children are playing outside .",
    "a man rides a bike .", "a girl is singing .", "two men are talking .",
]


@pytest.fixture
def tiny_text_dir(tmp_path) -> Path:
    """A user corpus folder (train.txt / valid.txt / test.txt) small enough for end-to-end runs in seconds."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "train.txt").write_text("\n".join(TINY_SENTENCES * 8) + "\n")
    (folder / "valid.txt").write_text("\n".join(TINY_SENTENCES[:4]) + "\n")
    (folder / "test.txt").write_text("\n".join(TINY_SENTENCES[::-1]) + "\n")
    return folder
