"""The style judge behind transfer accuracy: a logistic regression on word 1-3-gram TF-IDF features
(fitted with scikit-learn), trained on the real training sentences of every style. It is stored as arrays
(arae.array_store, no pickle) and predicts with the numpy code here, at build time as after loading.

The paper's judge was a fastText classifier whose training is undocumented (docs/paper.md);
this one is ours, so its accuracies carry the flavour `ngram_logreg`, and its own accuracy on real
held-out sentences is recorded beside every transfer accuracy. It is built once per training data
and judge settings (arae.artefacts) and shared by every row, seed and the `score` command.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from arae.array_store import load_arrays, save_arrays
from arae.artefacts import build_once

JUDGE = "ngram_logreg"
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


@dataclass
class StyleJudge:
    model: TfidfLogreg
    styles: tuple[str, ...]
    info: dict  # the artefact record: folder, key, held-out accuracy

    def predict(self, sentences: list[str]) -> list[int]:
        """The index (in `styles`) of each sentence's predicted style."""
        return [int(k) for k in self.model.predict(sentences)]

    def accuracy(self, sentences: list[str], style: int) -> float:
        predicted = self.predict(sentences)
        return sum(p == style for p in predicted) / len(predicted)


def fit_judge(train: list[list[str]]):
    """The judge pipeline fitted on one list of sentences per style (label = the list's index)."""
    texts = [s for sentences in train for s in sentences]
    labels = [k for k, sentences in enumerate(train) for _ in sentences]
    vectorizer = TfidfVectorizer(ngram_range=tuple(SETTINGS["ngram_range"]), min_df=SETTINGS["min_df"],
                                 sublinear_tf=SETTINGS["sublinear_tf"], token_pattern=r"\S+", lowercase=True)
    model = LogisticRegression(C=SETTINGS["C"], max_iter=SETTINGS["max_iter"])
    return make_pipeline(vectorizer, model).fit(texts, labels)


def style_judge(styles: list[str], train: list[list[str]], held_out: list[list[str]], artefacts: Path) -> StyleJudge:
    """The judge of `styles` trained on `train` (one list of sentences per style), built once. Its accuracy on
    `held_out` (real sentences of each style, unseen in training) is measured when it is built and recorded."""
    def digest(lists: list[list[str]]) -> str:
        h = hashlib.sha256()
        for sentences in lists:
            h.update("\n".join(sentences).encode() + b"\0")
        return h.hexdigest()

    def build(folder: Path) -> dict:
        arrays, meta = export(fit_judge(train))
        record = save_arrays(folder, "judge", arrays, meta)
        judge = StyleJudge(TfidfLogreg.from_arrays(arrays, meta), tuple(styles), {})
        per_style = {style: judge.accuracy(sentences, k)
                     for k, (style, sentences) in enumerate(zip(styles, held_out)) if sentences}
        n = sum(len(s) for s in held_out)
        overall = sum(per_style[s] * len(h) for s, h in zip(styles, held_out) if h) / n if n else None
        return {"held_out_accuracy": overall, "held_out_accuracy_per_style": per_style, "n_held_out": n,
                "n_train": sum(map(len, train)), "arrays": record}

    key = {"judge": JUDGE, "settings": SETTINGS, "styles": list(styles), "train_sha256": digest(train),
           "held_out_sha256": digest(held_out),
           "sklearn": sklearn.__version__}
    folder, info = build_once(artefacts, f"judge-{JUDGE}", key, build)
    model = TfidfLogreg.from_arrays(*load_arrays(folder, "judge", info["built"]["arrays"]))
    return StyleJudge(model, tuple(styles), info)
