"""Readers on tiny fixtures in the real formats; each bad input must name file and line."""
import json
import re

import pytest

from arae.data import (NLIPair, read_sentences, read_snli, read_style_corpus, read_text_lines,
                       snli_lm_sentences)
from arae.errors import ConfigError, DataError


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


def _parse(sentence):
    """A right-branching binary parse in the SNLI jsonl style."""
    words = sentence.split()
    parse = words[-1]
    for w in reversed(words[:-1]):
        parse = f"( {w} {parse} )"
    return f"( {parse} )"


def _jsonl_line(premise, hypothesis, label):
    return json.dumps({"gold_label": label, "sentence1": premise, "sentence2": hypothesis,
                       "sentence1_binary_parse": _parse(premise),
                       "sentence2_binary_parse": _parse(hypothesis)})


def _senteval(folder, split, s1, s2, labels):
    for name, lines in (("s1", s1), ("s2", s2), ("labels", labels)):
        _write(folder / f"{name}.{split}", "".join(f"{line}\n" for line in lines))


# --- read_text_lines / read_sentences ---------------------------------------------------

def test_crlf_and_missing_trailing_newline(tmp_path):
    path = _write(tmp_path / "t.txt", b"one two\r\n\r\nthree")
    assert read_text_lines(path) == ["one two", "", "three"]


def test_read_sentences_lowercases_and_skips_blank_lines(tmp_path):
    path = _write(tmp_path / "t.txt", "A Man  sits .\n   \nHe\tsleeps\n")
    assert read_sentences(path) == [["a", "man", "sits", "."], ["he", "sleeps"]]
    assert read_sentences(path, lowercase=False)[0] == ["A", "Man", "sits", "."]


def test_style_corpus_reads_one_file_per_style(tmp_path):
    neg, pos = _write(tmp_path / "s.0", "bad food\n"), _write(tmp_path / "s.1", "Great food\n")
    assert read_style_corpus({"negative": neg, "positive": pos}) == {
        "negative": [["bad", "food"]], "positive": [["great", "food"]]}


@pytest.mark.parametrize("content, message, line", [
    (b"", "empty file", None),
    (b"\n  \n\t\n", "empty file", None),
    (b"fine\nbad \x00 byte\n", "binary file", 2),
    (b"ok\nstill ok\ncaf\xe9\n", "not valid UTF-8", 3),
])
def test_bad_text_files_name_file_and_line(tmp_path, content, message, line):
    path = _write(tmp_path / "bad.txt", content)
    with pytest.raises(DataError, match=message) as err:
        read_text_lines(path)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert str(err.value).startswith(where)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'nope.txt'}: file not found")):
        read_text_lines(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="is a directory"):
        read_sentences(tmp_path)


# --- SNLI, SentEval layout ----------------------------------------------------------------

def test_senteval_layout_in_data_dir_or_snli_subfolder(tmp_path):
    _senteval(tmp_path / "snli", "dev", ["A dog runs ."], ["An animal moves ."], ["entailment"])
    pairs = read_snli(tmp_path, "dev")
    assert pairs == [NLIPair(["a", "dog", "runs", "."], ["an", "animal", "moves", "."],
                             "entailment")]
    assert pairs.files == [tmp_path / "snli" / f"{n}.dev" for n in ("s1", "s2", "labels")]
    assert read_snli(tmp_path / "snli", "dev", lowercase=False)[0].premise[0] == "A"


def test_senteval_line_count_mismatch_names_files_and_counts(tmp_path):
    _senteval(tmp_path, "test", ["a .", "b ."], ["c .", "d ."], ["neutral"])
    with pytest.raises(DataError, match="not line-aligned") as err:
        read_snli(tmp_path, "test")
    assert f"{tmp_path / 'labels.test'} has 1 lines" in str(err.value)
    assert f"{tmp_path / 's1.test'} has 2 lines" in str(err.value)


def test_senteval_unknown_label_names_file_and_line(tmp_path):
    _senteval(tmp_path, "dev", ["a .", "b ."], ["c .", "d ."], ["neutral", "maybe"])
    expected = f"{tmp_path / 'labels.dev'}:2: unknown label 'maybe'"
    with pytest.raises(DataError, match=re.escape(expected)):
        read_snli(tmp_path, "dev")


def test_incomplete_senteval_layout_names_the_missing_file(tmp_path):
    _write(tmp_path / "s1.dev", "a .\n")
    _write(tmp_path / "s2.dev", "b .\n")
    with pytest.raises(DataError, match="labels.dev missing"):
        read_snli(tmp_path, "dev")


# --- SNLI, official jsonl -----------------------------------------------------------------

@pytest.mark.parametrize("subdir", [".", "snli", "snli/snli_1.0", "snli_1.0"])
def test_jsonl_found_in_every_supported_folder(tmp_path, subdir):
    lines = [_jsonl_line("Two women hug .", "Sisters hug .", "neutral"),
             _jsonl_line("Two women hug .", "Nobody hugs .", "-"),
             _jsonl_line("A cat sleeps .", "A cat naps .", "entailment")]
    path = _write(tmp_path / subdir / "snli_1.0_train.jsonl", "\n".join(lines) + "\n")
    pairs = read_snli(tmp_path, "train")
    assert [p.label for p in pairs] == ["neutral", "entailment"]
    assert pairs[0].premise == ["two", "women", "hug", "."]
    assert pairs.skipped_no_gold == 1 and pairs.files == [path]
    kept = read_snli(tmp_path, "train", include_no_gold=True)
    assert [p.label for p in kept] == ["neutral", "-", "entailment"]


def test_jsonl_is_preferred_over_senteval(tmp_path):
    _senteval(tmp_path / "snli", "dev", ["from senteval ."], ["x ."], ["neutral"])
    _write(tmp_path / "snli" / "snli_1.0" / "snli_1.0_dev.jsonl",
           _jsonl_line("from jsonl .", "y .", "neutral"))
    assert read_snli(tmp_path, "dev")[0].premise == ["from", "jsonl", "."]


@pytest.mark.parametrize("bad_line, message", [
    ('{"gold_label": "neutral", ', "malformed JSON"),
    ('{"gold_label": "neutral"}', "missing field 'sentence1_binary_parse'"),
    ('["a list"]', "expected an object"),
    (None, "unknown gold_label 'sure'"),
])
def test_bad_jsonl_lines_name_file_and_line(tmp_path, bad_line, message):
    bad_line = bad_line or _jsonl_line("a .", "b .", "sure")
    good = _jsonl_line("a .", "b .", "neutral")
    path = _write(tmp_path / "snli_1.0_dev.jsonl", f"{good}\r\n{bad_line}")
    with pytest.raises(DataError, match=re.escape(f"{path}:2: {message}")):
        read_snli(tmp_path, "dev")


def test_no_snli_files_says_where_it_looked_and_how_to_download(tmp_path):
    with pytest.raises(DataError) as err:
        read_snli(tmp_path, "test")
    message = str(err.value)
    assert message.startswith(f"{tmp_path}: SNLI test split not found")
    for looked in ("snli_1.0_test.jsonl", str(tmp_path / "snli" / "s1.test"), "labels.test"):
        assert looked in message
    assert f"run_all.py --download snli --data-dir {tmp_path}" in message


def test_a_missing_data_folder_says_it_does_not_exist_and_how_to_download(tmp_path):
    with pytest.raises(DataError) as err:
        read_snli(tmp_path / "nowhere", "dev")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'nowhere'}: data folder does not exist")
    assert "run_all.py --download snli" in message and "arae.data" not in message


def test_unknown_split_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown SNLI split 'valid'"):
        read_snli(tmp_path, "valid")


# --- LM sentences ---------------------------------------------------------------------------

def test_lm_sentences_drop_only_consecutive_duplicate_premises_per_split():
    def pair(p, h):
        return NLIPair(p.split(), h.split(), "neutral")
    train = [pair("p1", "h1"), pair("p1", "h2"), pair("p2", "h3"), pair("p1", "h4")]
    dev = [pair("p1", "h5"), pair("p1", "h6")]
    assert [" ".join(s) for s in snli_lm_sentences(train, dev)] == [
        "p1", "p2", "p1", "p1", "h1", "h2", "h3", "h4", "h5", "h6"]
