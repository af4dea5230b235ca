"""Given transfers (arae/models/given.py): published systems' and users' outputs, read by one rule, on the real
files of the published collection (its quirks are real: two-column files, a line that is not UTF-8, files
without a final newline)."""
import shutil

import pytest

from arae.data.readers import read_given_lines
from arae.errors import ConfigError, DataError
from arae.models.given import direction_files

STYLES = ("negative", "positive")


def test_a_two_column_file_is_refused_naming_file_and_line_unless_a_column_is_chosen(shared):
    path = shared / "yelp-published" / "DualRL" / "test.0-1.tsf"
    with pytest.raises(DataError, match=r"test.0-1.tsf:1: has a tab.*NAME=DIR:COLUMN"):
        read_given_lines(path, 500, "the negative test sentences")
    transfers, _ = read_given_lines(path, 500, "the negative test sentences", column=2)
    one_column, _ = read_given_lines(shared / "yelp-published" / "DualRL" / "test.0.tsf", 500, "the sources")
    assert transfers == one_column


def test_bytes_that_are_not_utf8_are_replaced_and_their_line_reported(shared):
    lines, repaired = read_given_lines(shared / "yelp-published" / "Human2" / "test.0.tsf", 500, "the sources")
    assert repaired == [29] and "\ufffd" in lines[28] and len(lines) == 500


def test_a_file_without_final_newline_and_one_with_crlf_endings_read_alike(shared, tmp_path):
    real = shared / "yelp-published" / "Human1" / "test.0.tsf"  # no final newline
    crlf = tmp_path / "crlf.tsf"
    crlf.write_bytes(real.read_bytes().replace(b"\n", b"\r\n"))
    assert read_given_lines(real, 500, "x")[0] == read_given_lines(crlf, 500, "x")[0]


def test_short_blank_tailed_and_empty_files_are_refused_in_one_line(shared, tmp_path):
    real = (shared / "yelp-published" / "DualRL" / "test.0.tsf").read_bytes()
    short, blank, empty = tmp_path / "short.txt", tmp_path / "blank.txt", tmp_path / "empty.txt"
    short.write_bytes(b"".join(real.splitlines(keepends=True)[:499]))
    blank.write_bytes(real + b"\n")
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"short.txt: 499 lines, but the negative sources are 500"):
        read_given_lines(short, 500, "the negative sources")
    with pytest.raises(DataError, match=r"blank.txt: 501 lines.*blank: line 501"):
        read_given_lines(blank, 500, "the negative sources")
    with pytest.raises(DataError, match=r"empty.txt: empty file"):
        read_given_lines(empty, 500, "the negative sources")


def test_direction_files_read_both_layouts_and_name_what_is_missing(shared, tmp_path):
    published = shared / "yelp-published" / "DualRL"
    assert direction_files(published, STYLES) == {(0, 1): published / "test.0.tsf", (1, 0): published / "test.1.tsf"}
    three = ("a", "b", "c")
    for s, t in [("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c")]:
        (tmp_path / f"{s}-to-{t}.txt").write_text("x\n")
    with pytest.raises(DataError, match="no transfers for c-to-b.txt"):
        direction_files(tmp_path, three)
    (tmp_path / "c-to-b.txt").write_text("x\n")
    assert direction_files(tmp_path, three)[(2, 1)] == tmp_path / "c-to-b.txt"
    with pytest.raises(DataError, match="expected the files"):
        direction_files(published, three)


def test_outputs_option_becomes_a_row_of_transfer_benchmarks_only(shared, tmp_path):
    import benchmarks  # noqa: F401
    from arae.benchmark import BENCHMARKS
    from arae.runner import with_given_rows
    shutil.copytree(shared / "yelp-published" / "DualRL", tmp_path / "dual")
    specs = [BENCHMARKS.get("yelp_transfer"), BENCHMARKS.get("snli_generation")]
    yelp, snli = with_given_rows(specs, [f"mine={tmp_path / 'dual'}:2"])
    mine = yelp.rows[-1]
    assert mine.name == "mine" and mine.model == "given_transfers" and mine.overrides["given"]["column"] == 2
    assert snli is specs[1]
    with pytest.raises(ConfigError, match="already has a row named pub_dualrl"):
        with_given_rows(specs, [f"pub_dualrl={tmp_path / 'dual'}"])
    with pytest.raises(ConfigError, match="none of the selected benchmarks"):
        with_given_rows(specs[1:], [f"mine={tmp_path / 'dual'}"])
    with pytest.raises(ConfigError, match="not a folder"):
        with_given_rows(specs, ["mine=/no/such/folder"])


def test_the_synthetic_data_has_every_published_folder_the_benchmark_names():
    from benchmarks.yelp_transfer import PUBLISHED
    from synthetic_data import PUBLISHED_FOLDERS
    assert PUBLISHED_FOLDERS == tuple(folder for folder, _ in PUBLISHED)
