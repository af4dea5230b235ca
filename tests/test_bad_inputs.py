"""The catalogue of bad inputs, through the command line: one clear line, exit 2, nothing counted as done."""
import pytest

from arae.cli import main
from arae.io import read_json
from conftest import TINY_SENTENCES

TINY = ["-b", "snli_generation", "--preset", "smoke", "--set", "train.steps=4", "--set", "eval.n_samples=40",
        "--set", "train.batch_size=16"]


def _corpus(tmp_path, **files):
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    defaults = {"train.txt": "\n".join(TINY_SENTENCES * 4) + "\n", "test.txt": "\n".join(TINY_SENTENCES) + "\n"}
    for name, content in {**defaults, **files}.items():
        if content is not None:
            path = folder / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def _snli(tmp_path, s1="a b .\nc d .\n", s2="e f .\ng h .\n", labels="neutral\nentailment\n"):
    folder = tmp_path / "data" / "snli"
    folder.mkdir(parents=True)
    for split in ("dev", "test"):
        (folder / f"s1.{split}").write_text(s1)
        (folder / f"s2.{split}").write_text(s2)
        (folder / f"labels.{split}").write_text(labels)
    return folder.parent


def _fails_cleanly(args, capsys, *expected):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


def test_missing_data_folder(tmp_path, capsys):
    _fails_cleanly([*TINY, "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path / "nowhere")], capsys,
                   str(tmp_path / "nowhere"))
    assert not list((tmp_path / "o").glob("**/result.json"))


@pytest.mark.parametrize("files, expected", [
    ({"test.txt": None}, ["test.txt"]),
    ({"train.txt": ""}, ["train.txt", "empty"]),
    ({"train.txt": b"\x7fELF\x00\x00\x01binary"}, ["train.txt", "binary"]),
    ({"train.txt": b"a man .\nok line .\nbad \xff\xfe bytes\n"}, ["train.txt:3", "UTF-8"]),
])
def test_bad_corpus_files_name_the_file_and_line(tmp_path, capsys, files, expected):
    corpus = _corpus(tmp_path, **files)
    _fails_cleanly([*TINY, "--out", str(tmp_path / "o"), "--set", f"data={corpus}"], capsys, *expected)
    assert not list((tmp_path / "o").glob("**/result.json"))


@pytest.mark.parametrize("kwargs, expected", [
    ({"labels": "neutral\n"}, ["s1.dev", "labels.dev", "2", "1"]),
    ({"labels": "neutral\nmaybe\n"}, ["labels.dev:2", "maybe"]),
])
def test_bad_snli_files(tmp_path, capsys, kwargs, expected):
    data = _snli(tmp_path, **kwargs)
    _fails_cleanly([*TINY, "--out", str(tmp_path / "o"), "--data-dir", str(data)], capsys, *expected)


@pytest.mark.slow
def test_a_sentence_far_over_the_maximum_length_is_dropped_and_recorded(tmp_path):
    corpus = _corpus(tmp_path, **{"train.txt": "\n".join(TINY_SENTENCES * 4 + ["word " * 5000]) + "\n"})
    out = tmp_path / "o"
    assert main([*TINY, "-r", "real", "--out", str(out), "--set", f"data={corpus}"]) == 0
    data = read_json(next(out.glob("snli_generation/real/seed0-*/result.json")))["data"]
    assert data["dropped_longer_than_maxlen"]["train"] == 1 and data["sizes"]["train"] == len(TINY_SENTENCES) * 4


def test_unknown_row_gets_a_did_you_mean(tmp_path, capsys):
    _fails_cleanly([*TINY, "--out", str(tmp_path), "-r", "arae_"], capsys, "did you mean 'arae'")


def test_nothing_left_after_the_length_filter(tmp_path, capsys):
    corpus = _corpus(tmp_path, **{"test.txt": "word " * 40 + "\n"})
    _fails_cleanly([*TINY, "--out", str(tmp_path / "o"), "--set", f"data={corpus}"], capsys,
                   "test.txt", "no test sentence with at most 15 tokens")


def test_missing_lmplz_is_reported_before_any_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARAE_LMPLZ", str(tmp_path / "no-lmplz"))
    _fails_cleanly([*TINY, "--out", str(tmp_path / "o"), "--set", f"data={_corpus(tmp_path)}"], capsys,
                   "bash scripts/setup.sh")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, expected", [
    (["--set", "train.amp=fp16"], "expected one of none, bf16"),
    (["--report-only"], "no benchmark results in"),
])
def test_bad_options(tmp_path, capsys, args, expected):
    _fails_cleanly([*TINY, "--out", str(tmp_path / "o"), "--set", f"data={_corpus(tmp_path)}", *args], capsys,
                   expected)
