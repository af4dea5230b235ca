"""The style judges behind transfer accuracy, each a flavour of the metric, trained on the real training
sentences of every style (the whole training split, whatever the preset, so accuracies compare across presets):

- `fasttext`: a fastText supervised classifier, the kind of judge the paper used (its training is
  undocumented, docs/paper.md): fastText's supervised defaults, one thread and seed 0 (so a fit is
  reproducible), stored as fastText's own binary file and loaded only after its sha256 is checked.
- `tfidf`: a logistic regression on word 1-3-gram TF-IDF features (fitted with scikit-learn), stored as
  arrays (arae.array_store, no pickle) and predicting with the numpy code here.

Each is built once per training data and settings (arae.artefacts) and shared by every row, seed and the
`score` command; its accuracy on real held-out sentences is recorded beside every transfer accuracy.
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from arae.array_store import load_arrays, save_arrays
from arae.artefacts import build_once
from arae.data.sources import sha256_file
from arae.errors import DataError

SETTINGS = {"ngram_range": [1, 3], "min_df": 2, "sublinear_tf": True, "C": 4.0, "max_iter": 2000}
TOKEN = re.compile(r"\S+")  # the vectorizer's token_pattern


@dataclass
class TfidfLogreg:
    """A fitted judge pipeline rebuilt from its exported arrays, predicting what the pipeline predicts: lowercase,
    word n-grams, counts of vocabulary terms, sublinear tf times idf, L2-normalised rows, then the linear model."""
    vocabulary: dict[str, int]  # term -> column
    idf: np.ndarray
    coef: np.ndarray            # (1, terms) for two classes, else (classes, terms)
    intercept: np.ndarray
    classes: np.ndarray
    ngram_range: tuple[int, int]

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "TfidfLogreg":
        terms = arrays["terms"].tobytes().decode().split("\n")
        return cls(dict(zip(terms, range(len(terms)))), arrays["idf"], arrays["coef"], arrays["intercept"],
                   arrays["classes"], tuple(meta["ngram_range"]))

    def features(self, sentences: list[str]) -> sparse.csr_matrix:
        low, high = self.ngram_range
        columns, starts = [], [0]
        for sentence in sentences:
            tokens = TOKEN.findall(sentence.lower())
            grams = (" ".join(tokens[i:i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1))
            columns.extend(c for c in map(self.vocabulary.get, grams) if c is not None)
            starts.append(len(columns))
        x = sparse.csr_matrix((np.ones(len(columns)), columns, starts), shape=(len(sentences), len(self.idf)))
        x.sum_duplicates()  # one entry per term: its count
        x.data = (1 + np.log(x.data)) * self.idf[x.indices]
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        x.data /= np.repeat(norms, np.diff(x.indptr))
        return x

    def predict(self, sentences: list[str]) -> np.ndarray:
        scores = self.features(sentences) @ self.coef.T + self.intercept
        return self.classes[(scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)]


def export(pipeline) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a fitted judge pipeline: all that prediction needs. The terms go in column order as one
    UTF-8 blob, since a term never holds a newline (tokens are \\S+)."""
    vectorizer, model = pipeline[0], pipeline[-1]
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return ({"terms": np.frombuffer("\n".join(terms).encode(), np.uint8), "idf": vectorizer.idf_,
             "coef": model.coef_, "intercept": model.intercept_, "classes": model.classes_},
            {"ngram_range": list(vectorizer.ngram_range)})


class TfidfKind:
    """How the `tfidf` judge is fitted, stored and loaded."""
    settings = SETTINGS

    @staticmethod
    def versions() -> dict:
        return {"sklearn": sklearn.__version__}

    @staticmethod
    def build(train: list[list[str]], folder: Path) -> dict:
        arrays, meta = export(fit_judge(train))
        return save_arrays(folder, "judge", arrays, meta)

    @staticmethod
    def load(folder: Path, record: dict):
        return TfidfLogreg.from_arrays(*load_arrays(folder, "judge", record))


class FastTextKind:
    """How the `fasttext` judge is fitted, stored and loaded."""
    settings = {"lr": 0.1, "epoch": 5, "dim": 100, "wordNgrams": 1, "minCount": 1, "loss": "softmax",
                "thread": 1, "seed": 0}

    @staticmethod
    def versions() -> dict:
        from importlib.metadata import version
        return {"fasttext": version("fasttext-wheel")}

    @staticmethod
    def build(train: list[list[str]], folder: Path) -> dict:
        import fasttext
        lines = [f"__label__{k} {s}\n" for k, sentences in enumerate(train) for s in sentences]
        random.Random(0).shuffle(lines)  # fastText reads its file in order: styles in blocks would bias it
        text = folder / "train.txt"
        text.write_text("".join(lines), encoding="utf-8")
        model = fasttext.train_supervised(str(text), verbose=0, **FastTextKind.settings)
        model.save_model(str(folder / "judge.bin"))
        text.unlink()
        return {"file": "judge.bin", "sha256": sha256_file(folder / "judge.bin")}

    @staticmethod
    def load(folder: Path, record: dict):
        from fasttext.FastText import _FastText
        path = folder / record["file"]
        if not path.exists() or sha256_file(path) != record["sha256"]:
            raise DataError(path, f"sha256 differs from the one recorded when it was built (or the file is gone); "
                                  f"delete {folder} to build it again")
        return FastTextPredictor(_FastText(model_path=str(path)))


@dataclass
class FastTextPredictor:
    model: Any

    def predict(self, sentences: list[str]) -> np.ndarray:
        """The label index of each sentence (-1 for one fastText gives no label, e.g. empty)."""
        labels, _ = self.model.f.multilinePredict([s.replace("\n", " ") + "\n" for s in sentences], 1, 0.0, "replace")
        return np.array([int(found[0].removeprefix("__label__")) if found else -1 for found in labels])


JUDGES = {"fasttext": FastTextKind, "tfidf": TfidfKind}  # flavour -> kind; transfer_acc.<flavour>, judge_acc.<flavour>


@dataclass
class StyleJudge:
    flavour: str
    model: Any
    styles: tuple[str, ...]
    info: dict  # the artefact record: folder, key, held-out accuracy

    def predict(self, sentences: list[str]) -> list[int]:
        """The index (in `styles`) of each sentence's predicted style."""
        return [int(k) for k in self.model.predict(sentences)]

    def accuracy(self, sentences: list[str], style: int) -> float:
        predicted = self.predict(sentences)
        return sum(p == style for p in predicted) / len(predicted)


def fit_judge(train: list[list[str]]):
    """The `tfidf` judge pipeline fitted on one list of sentences per style (label = the list's index)."""
    texts = [s for sentences in train for s in sentences]
    labels = [k for k, sentences in enumerate(train) for _ in sentences]
    vectorizer = TfidfVectorizer(ngram_range=tuple(SETTINGS["ngram_range"]), min_df=SETTINGS["min_df"],
                                 sublinear_tf=SETTINGS["sublinear_tf"], token_pattern=r"\S+", lowercase=True)
    model = LogisticRegression(C=SETTINGS["C"], max_iter=SETTINGS["max_iter"])
    return make_pipeline(vectorizer, model).fit(texts, labels)


def style_judge(flavour: str, styles: list[str], train: list[list[str]], held_out: list[list[str]],
                artefacts: Path) -> StyleJudge:
    """The `flavour` judge of `styles` trained on `train` (one list of sentences per style), built once. Its
    accuracy on `held_out` (real sentences of each style, unseen in training) is measured when it is built."""
    kind = JUDGES[flavour]

    def digest(lists: list[list[str]]) -> str:
        h = hashlib.sha256()
        for sentences in lists:
            h.update("\n".join(sentences).encode() + b"\0")
        return h.hexdigest()

    def build(folder: Path) -> dict:
        record = kind.build(train, folder)
        judge = StyleJudge(flavour, kind.load(folder, record), tuple(styles), {})
        per_style = {style: judge.accuracy(sentences, k)
                     for k, (style, sentences) in enumerate(zip(styles, held_out)) if sentences}
        n = sum(len(s) for s in held_out)
        overall = sum(per_style[s] * len(h) for s, h in zip(styles, held_out) if h) / n if n else None
        return {"held_out_accuracy": overall, "held_out_accuracy_per_style": per_style, "n_held_out": n,
                "n_train": sum(map(len, train)), "stored": record}

    key = {"judge": flavour, "settings": kind.settings, "styles": list(styles), "train_sha256": digest(train),
           "held_out_sha256": digest(held_out), **kind.versions()}
    folder, info = build_once(artefacts, f"judge-{flavour}", key, build)
    return StyleJudge(flavour, kind.load(folder, info["built"]["stored"]), tuple(styles), info)
