"""Shared fixtures: the real offline data beside the repository, synthetic data in its layout
(synthetic_data.py), and tiny corpora in real formats.

Markers (registered in pyproject.toml): `shared_data` is put on every test that uses the `shared` fixture,
here, so no such test can forget it; `slow` is set by hand on tests that take more than about 5 s.
`pytest -m "not shared_data"` runs in a clone with nothing beside it; `pytest -m "not slow"` is the quick set."""
import os
from pathlib import Path

import pytest
import torch

from synthetic_data import write_synthetic_data

# Tests that call models directly compute with one thread, as every run does (its `threads` setting): on a
# busy 2-core machine two threads per process slow small models down many times over.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """../shared/data beside the repository, or $ARAE_SHARED_DATA; its absence is a failure, not a skip."""
    path = Path(os.environ.get("ARAE_SHARED_DATA") or REPO.parent / "shared" / "data")
    assert (path / "snli" / "s1.dev").is_file(), f"offline data not found at {path}"
    return path


@pytest.fixture(scope="session")
def shared():
    """The real offline data (read only). Tests using it are marked shared_data automatically."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def fixture_data(tmp_path_factory) -> Path:
    """Synthetic data in the layout of the real data (read only; written once per session by synthetic_data.py):
    snli/ (300 dev, 240 test pairs), yelp/ and yelp-references/ (40 test sentences per style, 4 references),
    mnist/ (300 training, 120 test images). Numbers measured on it only show that the code ran."""
    return write_synthetic_data(tmp_path_factory.mktemp("synthetic-data"))


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


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
