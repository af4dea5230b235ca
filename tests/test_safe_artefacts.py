"""Shared artefacts (style judge, digit classifier) are stored as sha256-checked arrays, never pickled, and the numpy
code that applies them predicts what the fitted scikit-learn models predict."""
import hashlib
import json
import pickle
import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from arae.array_store import load_arrays, save_arrays
from arae.errors import DataError
from arae.metrics.digits import SETTINGS as DIGIT_SETTINGS, DigitMLP, digit_classifier, export as export_digits
from arae.metrics.style_judge import TfidfLogreg, export as export_judge, fit_judge, style_judge


def _styled_sentences(n_styles: int, n: int, seed: int) -> list[list[str]]:
    """n sentences per style: words drawn from the style's own list and a shared list, so some are hard to tell."""
    rng = np.random.default_rng(seed)
    shared = [f"w{i}" for i in range(30)]
    own = [[f"s{k}w{i}" for i in range(15)] + ["Good", "BAD", "café"][k:k + 1] for k in range(n_styles)]
    return [[" ".join(rng.choice(own[k]) if rng.random() < 0.25 else rng.choice(shared)
                      for _ in range(rng.integers(1, 12))) for _ in range(n)] for k in range(n_styles)]


@pytest.mark.parametrize("n_styles", [2, 3])
def test_numpy_judge_predicts_what_the_sklearn_pipeline_predicts(tmp_path, n_styles):
    train, held_out = _styled_sentences(n_styles, 150, 0), _styled_sentences(n_styles, 40, 1)
    test = [s for style in _styled_sentences(n_styles, 120, 2) for s in style] + ["", "UNSEEN words only", "W1  w2\tw3"]
    pipeline = fit_judge(train)
    expected = pipeline.predict(test)
    assert 0.1 < np.mean(expected == 0) < 0.9  # not a trivial judge

    model = TfidfLogreg.from_arrays(*export_judge(pipeline))
    assert np.allclose(model.features(test).toarray(), pipeline[0].transform(test).toarray(), atol=1e-12)
    assert np.array_equal(model.predict(test), expected)

    styles = [f"style{k}" for k in range(n_styles)]
    built = style_judge("tfidf", styles, train, held_out, tmp_path)
    again = style_judge("tfidf", styles, train, held_out, tmp_path)  # loaded back from the stored arrays
    assert built.predict(test) == again.predict(test) == [int(k) for k in expected]
    truth = [k for k, style in enumerate(held_out) for _ in style]
    sklearn_accuracy = np.mean(pipeline.predict([s for style in held_out for s in style]) == truth)
    assert again.info["built"]["held_out_accuracy"] == pytest.approx(sklearn_accuracy)


def _digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 784)) < 0.3).astype(np.uint8), rng.integers(0, 10, n)


def test_numpy_digit_forward_pass_gives_sklearn_probabilities(tmp_path):
    train, test = _digits(100, 0), _digits(30, 1)
    model = MLPClassifier(hidden_layer_sizes=tuple(DIGIT_SETTINGS["hidden_layer_sizes"]),
                          max_iter=DIGIT_SETTINGS["max_iter"], batch_size=DIGIT_SETTINGS["batch_size"],
                          random_state=DIGIT_SETTINGS["random_state"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(*train)
    images = _digits(200, 2)[0]
    expected = model.predict_proba(images)
    assert np.allclose(DigitMLP.from_arrays(export_digits(model)).predict_proba(images), expected, rtol=0, atol=1e-6)

    stored, info = digit_classifier(train, test, tmp_path)  # the same fit, stored and loaded back
    assert np.allclose(stored.predict_proba(images), expected, rtol=0, atol=1e-6)
    assert info["test_accuracy"] == pytest.approx(model.score(*test)) and not list(tmp_path.rglob("*.pkl"))


def _forbid_reading(monkeypatch) -> None:
    """From now on, unpickling anything or parsing any .npz file fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("read a file that should have been refused")
    for name in ("load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(np, "load", refuse)


def _flip_a_byte(path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _manifest(tmp_path, kind: str) -> tuple:
    [folder] = tmp_path.glob(f"{kind}-*")
    return folder, json.loads((folder / "artefact.json").read_text())


def test_manifest_records_the_sha256_of_each_stored_file(tmp_path):
    train = _styled_sentences(2, 60, 0)
    style_judge("tfidf", ["a", "b"], train, train, tmp_path)
    style_judge("fasttext", ["a", "b"], train, train, tmp_path)
    digit_classifier(_digits(100, 0), _digits(20, 1), tmp_path)
    for kind, name in (("judge-tfidf", "judge.npz"), ("judge-fasttext", "judge.bin"), ("digits-mlp", "classifier.npz")):
        folder, manifest = _manifest(tmp_path, kind)
        record = manifest["built"]["stored" if kind.startswith("judge") else "arrays"]
        assert record["file"] == name
        assert record["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()


def test_tampered_artefacts_are_refused_before_being_read(tmp_path, monkeypatch):
    train, digits = _styled_sentences(2, 60, 0), (_digits(100, 0), _digits(20, 1))
    style_judge("tfidf", ["a", "b"], train, train, tmp_path)
    style_judge("fasttext", ["a", "b"], train, train, tmp_path)
    digit_classifier(*digits, tmp_path)
    judge_folder, _ = _manifest(tmp_path, "judge-tfidf")
    fasttext_folder, _ = _manifest(tmp_path, "judge-fasttext")
    _flip_a_byte(fasttext_folder / "judge.bin", 100)
    digits_folder, _ = _manifest(tmp_path, "digits-mlp")
    _flip_a_byte(judge_folder / "judge.npz", 200)
    _flip_a_byte(digits_folder / "classifier.npz", -10)

    _forbid_reading(monkeypatch)
    with pytest.raises(DataError, match=r"judge\.npz: sha256 differs") as refused:
        style_judge("tfidf", ["a", "b"], train, train, tmp_path)
    with pytest.raises(DataError, match=r"judge\.bin: sha256 differs"):
        style_judge("fasttext", ["a", "b"], train, train, tmp_path)
    assert refused.value.path == str(judge_folder / "judge.npz") and "\n" not in str(refused.value)
    with pytest.raises(DataError, match=r"classifier\.npz: sha256 differs"):
        digit_classifier(*digits, tmp_path)
    (digits_folder / "classifier.npz").unlink()
    with pytest.raises(DataError, match=r"classifier\.npz: missing"):
        digit_classifier(*digits, tmp_path)


def test_object_arrays_are_neither_stored_nor_loaded(tmp_path):
    """Even a file whose sha256 an attacker also rewrote in the manifest cannot make numpy unpickle."""
    with pytest.raises(ValueError, match="object arrays"):
        save_arrays(tmp_path, "bad", {"x": np.array([{"a": 1}], dtype=object)}, {})
    record = save_arrays(tmp_path, "evil", {"x": np.zeros(3)}, {})
    np.savez(tmp_path / "evil.npz", x=np.array([{"a": 1}], dtype=object))  # numpy pickles object arrays
    record["sha256"] = hashlib.sha256((tmp_path / "evil.npz").read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="allow_pickle"):
        load_arrays(tmp_path, "evil", record)


def test_the_fasttext_judge_is_reproducible_and_judges(tmp_path):
    """One thread and seed 0: two fits on the same sentences give the same file; the judge learns the styles."""
    train, held_out = _styled_sentences(2, 2000, 0), _styled_sentences(2, 100, 1)
    first = style_judge("fasttext", ["a", "b"], train, held_out, tmp_path / "one")
    second = style_judge("fasttext", ["a", "b"], train, held_out, tmp_path / "two")
    files = [next((tmp_path / k).glob("judge-fasttext-*")) / "judge.bin" for k in ("one", "two")]
    assert files[0].read_bytes() == files[1].read_bytes()
    assert first.info["built"]["held_out_accuracy"] > 0.7  # chance is 0.5; a quarter of the words tell the style
    test = [s for style in held_out for s in style] + [""]
    assert first.predict(test) == second.predict(test) and first.predict([""]) in ([0], [1], [-1])
