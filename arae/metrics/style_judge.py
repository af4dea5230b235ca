"""The style judge behind transfer accuracy: a logistic regression on word 1-3-gram TF-IDF features
(scikit-learn), trained on the real training sentences of every style.

The paper's judge was a fastText classifier whose training is undocumented (paper.md section 2.4);
this one is ours, so its accuracies carry the flavour `ngram_logreg`, and its own accuracy on real
held-out sentences is recorded beside every transfer accuracy. It is built once per training data
and judge settings (arae.artefacts) and shared by every row, seed and the `score` command.
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from arae.artefacts import build_once

JUDGE = "ngram_logreg"
SETTINGS = {"ngram_range": [1, 3], "min_df": 2, "sublinear_tf": True, "C": 4.0, "max_iter": 2000}


@dataclass
class StyleJudge:
    pipeline: object
    styles: tuple[str, ...]
    info: dict  # the artefact record: folder, key, held-out accuracy

    def predict(self, sentences: list[str]) -> list[int]:
        """The index (in `styles`) of each sentence's predicted style."""
        return [int(k) for k in self.pipeline.predict(sentences)] if sentences else []

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
        pipeline = fit_judge(train)
        (folder / "judge.pkl").write_bytes(pickle.dumps(pipeline))
        judge = StyleJudge(pipeline, tuple(styles), {})
        per_style = {style: judge.accuracy(sentences, k)
                     for k, (style, sentences) in enumerate(zip(styles, held_out)) if sentences}
        n = sum(len(s) for s in held_out)
        overall = sum(per_style[s] * len(h) for s, h in zip(styles, held_out) if h) / n if n else None
        return {"held_out_accuracy": overall, "held_out_accuracy_per_style": per_style, "n_held_out": n,
                "n_train": sum(map(len, train))}

    key = {"judge": JUDGE, "settings": SETTINGS, "styles": list(styles), "train_sha256": digest(train),
           "held_out_sha256": digest(held_out),
           "sklearn": sklearn.__version__}
    folder, info = build_once(artefacts, f"judge-{JUDGE}", key, build)
    return StyleJudge(pickle.loads((folder / "judge.pkl").read_bytes()), tuple(styles), info)
