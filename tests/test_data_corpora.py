"""Corpora on fixtures and on the real offline data in ../shared/data (never skipped)."""
import json
import re

import pytest

from arae.data import DATASETS, build_corpus, read_snli, read_text_lines, sha256_file
from arae.errors import ConfigError, DataError


def _jsonl(path, pairs):
    """pairs: (premise, hypothesis, label); the parse is flat brackets around the words."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({
        "gold_label": label,
        "sentence1_binary_parse": f"( ( {p} ) )", "sentence2_binary_parse": f"( {h} )"}) + "\n"
        for p, h, label in pairs))


# --- fixtures ------------------------------------------------------------------------------

def test_snli_lm_official_layout_uses_train_plus_dev_and_no_substitute(tmp_path):
    folder = tmp_path / "snli" / "snli_1.0"
    _jsonl(folder / "snli_1.0_train.jsonl", [("P1 .", "H1 .", "neutral"), ("P1 .", "H2 .", "-")])
    _jsonl(folder / "snli_1.0_dev.jsonl", [("P2 .", "H3 .", "entailment")])
    _jsonl(folder / "snli_1.0_test.jsonl", [("P3 .", "a b c d e .", "contradiction")])
    corpus = build_corpus("snli_lm", tmp_path, maxlen=3)
    # Pairs without a gold label are kept, as in lang/snli_preprocessing.py.
    assert [" ".join(s) for s in corpus.train] == ["p1 .", "p2 .", "h1 .", "h2 .", "h3 ."]
    assert corpus.valid == [] and corpus.test == [["p3", "."]]
    d = corpus.description
    assert d["substitute"] is None
    assert d["files"]["train"] == [str(folder / "snli_1.0_train.jsonl"),
                                   str(folder / "snli_1.0_dev.jsonl")]
    assert d["sizes"] == {"train": 5, "valid": 0, "test": 1}
    assert d["dropped_longer_than_maxlen"] == {"train": 0, "valid": 0, "test": 1}
    assert "pairs without a gold label: kept, as in the official preprocessing" in d["filters"]


def test_snli_lm_without_train_falls_back_to_dev_and_says_so(tmp_path):
    for split in ("dev", "test"):
        for name, text in (("s1", "A b .\nA b .\n"), ("s2", "C .\nD .\n"),
                           ("labels", "neutral\nentailment\n")):
            (tmp_path / f"{name}.{split}").write_text(text)
    corpus = build_corpus("snli_lm", tmp_path, maxlen=15, lowercase=False)
    assert corpus.train == [["A", "b", "."], ["C", "."], ["D", "."]]
    assert corpus.description["substitute"].startswith(
        f"SNLI train (550k pairs) not found in {tmp_path}; trained on SNLI dev")


def test_snli_lm_without_test_fails_clearly(tmp_path):
    _jsonl(tmp_path / "snli_1.0_dev.jsonl", [("a .", "b .", "neutral")])
    with pytest.raises(DataError, match="SNLI test split not found"):
        build_corpus("snli_lm", tmp_path, maxlen=15)


def test_text_dir_reads_splits_filters_length_and_allows_no_valid(tmp_path):
    (tmp_path / "train.txt").write_text("The cat .\none two three four\n")
    (tmp_path / "test.txt").write_text("a dog .\n")
    corpus = build_corpus("text_dir", tmp_path, maxlen=3)
    assert corpus.train == [["the", "cat", "."]] and corpus.valid == []
    assert corpus.test == [["a", "dog", "."]]
    d = corpus.description
    assert d["files"] == {"train": [str(tmp_path / "train.txt")], "valid": [],
                          "test": [str(tmp_path / "test.txt")]}
    assert d["dropped_longer_than_maxlen"]["train"] == 1 and d["substitute"] is None


def test_text_dir_missing_files_name_the_folder(tmp_path):
    (tmp_path / "train.txt").write_text("x\n")
    expected = f"{tmp_path}: text corpus folder lacks test.txt"
    with pytest.raises(DataError, match="^" + re.escape(expected)):
        build_corpus("text_dir", tmp_path, maxlen=15)


def test_unknown_corpus_name_suggests_the_closest():
    with pytest.raises(ConfigError, match="did you mean 'snli_lm'"):
        build_corpus("snli-lm", ".", maxlen=15)


# --- the real offline data -----------------------------------------------------------------

def test_real_snli_dev_and_test_pairs(shared):
    dev, test = read_snli(shared, "dev"), read_snli(shared, "test")
    assert (len(dev), len(test)) == (9842, 9824)
    assert {p.label for p in dev} == {"entailment", "neutral", "contradiction"}
    assert dev[0].premise[:2] == ["two", "women"]


def test_real_snli_lm_substitute_sizes_and_description(shared):
    corpus = build_corpus("snli_lm", shared, maxlen=15)
    d = corpus.description
    # dev: 3,319 premises (consecutive duplicates dropped) + 9,842 hypotheses = 13,161.
    assert d["sizes_before_filter"] == {"train": 13161, "valid": 0, "test": 13147}
    assert d["sizes"] == {"train": 11519, "valid": 0, "test": 11481}
    assert d["dropped_longer_than_maxlen"] == {"train": 1642, "valid": 0, "test": 1666}
    assert (len(corpus.train), len(corpus.test), corpus.valid) == (11519, 11481, [])
    assert all(len(s) <= 15 and s == [t.lower() for t in s] for s in corpus.train)
    assert "trained on SNLI dev" in d["substitute"] and "11519 after" in d["substitute"]
    assert d["files"]["train"][0].endswith("snli/s1.dev")
    assert d["files"]["test"][0].endswith("snli/s1.test")


def test_registered_hashes_match_the_offline_copies_and_readme(shared):
    """The yelp/yelp-references copies are byte-identical to the upstream files we download."""
    readme = {line.split()[1]: line.split()[0] for line in read_text_lines(shared / "README.md")
              if len(line.split()) == 2 and len(line.split()[0]) == 16}
    checked = 0
    for name in ("yelp_shen", "yelp_references"):
        source = DATASETS.get(name)
        for f in source.files:
            local = shared / source.folder / f.filename
            if f.sha256 is not None and local.is_file():
                assert sha256_file(local) == f.sha256, local
                assert readme[f"{source.folder}/{f.filename}"] == f.sha256[:16]
                checked += 1
    assert checked == 16


def test_real_reference_file_without_trailing_newline(shared):
    assert len(read_text_lines(shared / "yelp-references" / "reference1.0")) == 500


def test_missing_yelp_files_say_how_to_download_them(tmp_path):
    from arae.errors import DataError
    with pytest.raises(DataError, match=r"sentiment.test.0: file not found; fetch it with: python run_all.py "
                                        r"--download yelp_shen --data-dir"):
        build_corpus("yelp", tmp_path, maxlen=25)
    (tmp_path / "yelp").mkdir()
    for k in range(2):
        (tmp_path / "yelp" / f"sentiment.test.{k}").write_text("a b .\n")
    with pytest.raises(DataError, match=r"yelp-references/sentiment.test.0: file not found; fetch it with: "
                                        r"python run_all.py --download yelp_references"):
        build_corpus("yelp", tmp_path, maxlen=25)
