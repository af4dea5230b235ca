"""Corpora, one type per kind of data (text, styled text, sentence pairs, images), each with a record of exactly
which data was used."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

from arae.data.readers import (NLIPair, locate_snli, read_given_lines, read_sentences, read_snli,
                               snli_lm_sentences)
from arae.errors import ConfigError, DataError, download_hint
from arae.registry import Registry

Sentences = list[list[str]]


@dataclass
class TextCorpus:
    """Sentences: train/valid/test hold every sentence of a split (the vocabulary and the forward LM read these)."""

    name: str
    train: Sentences
    valid: Sentences
    test: Sentences
    description: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "text"
    unit: ClassVar[str] = "sentence"

    def size(self, split: str) -> int:
        return len(getattr(self, split))

    def fingerprint_parts(self) -> Iterator[bytes]:
        """Everything of the data that decides a result, as bytes (the run hash covers it)."""
        for split in (self.train, self.valid, self.test):
            yield "\n".join(" ".join(s) for s in split).encode() + b"\0"


@dataclass
class StyledCorpus(TextCorpus):
    """Text in styles: each split is also kept per style, in `styles` order; `references[k][i]` are the human
    rewrites of test sentence i of style k, where they exist."""

    styles: tuple[str, ...] = ()
    by_style: dict[str, list[Sentences]] = field(default_factory=dict)  # split -> one list per style
    references: list[list[list[str]]] | None = None
    full_train: list[Sentences] | None = None  # every training sentence per style, before a preset's cap: the judge's
    kind: ClassVar[str] = "styled text"

    def fingerprint_parts(self) -> Iterator[bytes]:
        yield from super().fingerprint_parts()  # which sentence has which style, and the references, decide too
        yield repr((self.styles, self.description["sizes_per_style"], self.references)).encode()
        if self.full_train is not None:  # what the style judge learns from
            yield "\n".join(" ".join(s) for sentences in self.full_train for s in sentences).encode()


@dataclass
class PairCorpus(TextCorpus):
    """Labelled sentence pairs per split in `pairs` (never length-filtered: a classifier is tested on every
    pair); the flat splits hold their sentences, for pretraining."""

    pairs: dict[str, list[NLIPair]] = field(default_factory=dict)  # split -> labelled pairs, e.g. "pool", "test"
    kind: ClassVar[str] = "sentence pairs"

    def fingerprint_parts(self) -> Iterator[bytes]:
        yield from super().fingerprint_parts()  # labelled pairs: their labels decide results too
        for split, pairs in sorted(self.pairs.items()):
            yield split.encode() + repr([(p.premise, p.hypothesis, p.label) for p in pairs]).encode()


@dataclass
class ImageCorpus:
    """Labelled images per split: split -> (pixels (N, 784) uint8, labels (N,))."""

    name: str
    images: dict[str, tuple[Any, Any]]
    description: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "images"
    unit: ClassVar[str] = "image"

    def size(self, split: str) -> int:
        return len(self.images[split][0]) if split in self.images else 0

    def fingerprint_parts(self) -> Iterator[bytes]:
        for split, (pixels, labels) in sorted(self.images.items()):
            yield split.encode() + pixels.tobytes() + labels.tobytes()


Corpus = TextCorpus | ImageCorpus  # what a corpus builder returns; a task names the kind it reads


CorpusBuilder = Callable[..., Corpus]
CORPORA: Registry[CorpusBuilder] = Registry("corpus")


def build_corpus(name: str, data_dir: str | Path, **kw: Any) -> Corpus:
    builder = CORPORA.get(name)
    takes = [p for p in inspect.signature(builder).parameters if p != "data_dir"]
    if unknown := sorted(set(kw) - set(takes)):
        raise ConfigError(f"corpus {name!r} has no setting {', '.join('data.' + k for k in unknown)} "
                          f"(it takes: {', '.join('data.' + k for k in takes) or 'none'})")
    return builder(Path(data_dir), **kw)


def _length_filter(sentences: Sentences, maxlen: int) -> tuple[Sentences, int]:
    """The official rule: a sentence with more than maxlen tokens is dropped, not truncated."""
    kept = [s for s in sentences if len(s) <= maxlen]
    return kept, len(sentences) - len(kept)


def _finish(name: str, splits: dict[str, Sentences], files: dict[str, list[Path]],
            maxlen: int, lowercase: bool, filters: list[str], substitute: str | None,
            user_corpus: str | None = None, kind: type[TextCorpus] = TextCorpus) -> TextCorpus:
    """Apply the length filter to every split and write down what was read and dropped."""
    kept, dropped = {}, {}
    for split, sentences in splits.items():
        kept[split], dropped[split] = _length_filter(sentences, maxlen)
    description = {
        "name": name,
        "files": {split: [str(p) for p in paths] for split, paths in files.items()},
        "sizes_before_filter": {split: len(s) for split, s in splits.items()},
        "sizes": {split: len(s) for split, s in kept.items()},
        "dropped_longer_than_maxlen": dropped,
        "maxlen": maxlen,
        "lowercase": lowercase,
        "filters": filters + [f"sentences with more than {maxlen} tokens dropped"],
        "substitute": substitute,
        "user_corpus": user_corpus,  # a user's own folder: no paper numbers apply
    }
    return kind(name, kept["train"], kept["valid"], kept["test"], description)


def _lower(sentences: Sentences) -> Sentences:
    return [[t.lower() for t in s] for s in sentences]


@CORPORA.register("snli_lm")
def build_snli_lm(data_dir: Path, *, maxlen: int, lowercase: bool = True) -> TextCorpus:
    """SNLI sentences for language modelling, as lang/snli_preprocessing.py makes them.

    Official: train = SNLI train + dev, test = SNLI test, no validation split. Without the
    train split (as offline), train on dev and say so in description["substitute"].
    """
    data_dir = Path(data_dir)
    has_train = locate_snli(data_dir, "train") is not None
    # Read cased: the official duplicate-premise check compares the cased text.
    pools = {s: read_snli(data_dir, s, lowercase=False, include_no_gold=True)
             for s in (("train", "dev") if has_train else ("dev",))}
    test = read_snli(data_dir, "test", lowercase=False, include_no_gold=True)
    train_sentences = snli_lm_sentences(*pools.values())
    test_sentences = snli_lm_sentences(test)
    if lowercase:
        train_sentences, test_sentences = _lower(train_sentences), _lower(test_sentences)

    filters = ["premises: consecutive duplicates dropped (per file)", "empty sentences dropped",
               "order: all premises, then all hypotheses"]
    senteval = any(len(p.files) == 3 for p in (*pools.values(), test))
    filters.append("pairs without a gold label: " + (
        "absent from the SentEval files used (the official preprocessing keeps them)"
        if senteval else "kept, as in the official preprocessing"))
    substitute = None
    if not has_train:
        n_train = len(_length_filter(train_sentences, maxlen)[0])
        n_test = len(_length_filter(test_sentences, maxlen)[0])
        substitute = (f"SNLI train (550k pairs) not found in {data_dir}; trained on SNLI dev "
                      f"premises+hypotheses ({len(pools['dev'])} pairs, {len(train_sentences)} "
                      f"sentences, {n_train} after the length filter), evaluated on SNLI test "
                      f"({len(test)} pairs, {n_test} sentences after the length filter)")
    files = {"train": [f for p in pools.values() for f in p.files], "valid": [],
             "test": list(test.files)}
    splits = {"train": train_sentences, "valid": [], "test": test_sentences}
    return _finish("snli_lm", splits, files, maxlen, lowercase, filters, substitute)


@CORPORA.register("text_dir")
def build_text_dir(data_dir: Path, *, maxlen: int, lowercase: bool = True) -> TextCorpus:
    """A user folder with train.txt, test.txt and optionally valid.txt, one sentence a line."""
    folder = Path(data_dir)
    missing = [n for n in ("train.txt", "test.txt") if not (folder / n).is_file()]
    if missing:
        raise DataError(folder, f"text corpus folder lacks {' and '.join(missing)} "
                                f"(expected train.txt, test.txt, optional valid.txt)")
    paths = {split: folder / f"{split}.txt" for split in ("train", "valid", "test")}
    present = {split: path for split, path in paths.items() if path.is_file()}
    splits = {split: read_sentences(present[split], lowercase) if split in present else []
              for split in paths}
    files = {split: [present[split]] if split in present else [] for split in paths}
    filters = ["whitespace tokenization", "blank lines skipped"]
    return _finish("text_dir", splits, files, maxlen, lowercase, filters, substitute=None,
                   user_corpus=str(folder))


def _styled(name: str, styles: list[str], per_style: dict[str, list[Sentences]], files: dict[str, list[Path]],
            maxlen: int, lowercase: bool, filters: list[str], substitute: str | None, user_corpus: str | None,
            references: list[list[list[str]]] | None = None, notes: dict | None = None,
            full_train: list[Sentences] | None = None) -> StyledCorpus:
    """A corpus with styles: each split is filtered per style; the flat splits are their concatenation.
    A test sentence dropped by the length filter takes its references with it. `full_train`: the training
    sentences before a cap (max_train_per_style), where there is one."""
    kept: dict[str, list[Sentences]] = {}
    for split, lists in per_style.items():
        kept[split] = [_length_filter(sentences, maxlen)[0] for sentences in lists]
    for k, style in enumerate(styles):  # every style must be trainable (BatchNorm needs 2) and testable
        for split, least in (("train", 2), ("test", 1)):
            if len(kept[split][k]) < least:
                where = files[split][k] if k < len(files[split]) else files["train"][k]
                raise DataError(where, f"style {style!r} has {len(kept[split][k])} {split} sentence(s) with at most "
                                       f"{maxlen} tokens; at least {least} needed")
    if references is not None:
        references = [[refs for sentence, refs in zip(per_style["test"][k], references[k]) if len(sentence) <= maxlen]
                      for k in range(len(styles))]
    flat = {split: [s for sentences in lists for s in sentences] for split, lists in per_style.items()}
    corpus = _finish(name, flat, files, maxlen, lowercase, filters, substitute, user_corpus, StyledCorpus)
    corpus.styles, corpus.by_style, corpus.references = tuple(styles), kept, references
    if full_train is not None:
        corpus.full_train = [_length_filter(sentences, maxlen)[0] for sentences in full_train]
    corpus.description.update(styles=list(styles), sizes_per_style={
        split: dict(zip(styles, map(len, lists))) for split, lists in kept.items()}, **(notes or {}))
    return corpus


def _evenly_spaced(sentences: Sentences, cap: int) -> Sentences:
    """At most `cap` sentences spread over the whole file (0: all), so a capped run still sees every part of it."""
    if not cap or len(sentences) <= cap:
        return sentences
    return [sentences[i * len(sentences) // cap] for i in range(cap)]


YELP_STYLES = ("negative", "positive")  # Shen's .0 and .1


@CORPORA.register("yelp")
def build_yelp(data_dir: Path, *, maxlen: int, lowercase: bool = True, max_train_per_style: int = 0) -> StyledCorpus:
    """Shen et al.'s Yelp sentiment data, tested on Li et al.'s 500+500 sentences with 4 human references.

    Official train split when `yelp/sentiment.train.{0,1}` exist; otherwise the documented substitute:
    train on Shen's test split. Validation: Shen dev minus the Li test sentences (not used in training)."""
    data_dir = Path(data_dir)
    yelp, refs_dir = data_dir / "yelp", data_dir / "yelp-references"
    has_train = all((yelp / f"sentiment.train.{k}").is_file() for k in range(2))
    train_split = "train" if has_train else "test"
    train_files = [yelp / f"sentiment.{train_split}.{k}" for k in range(2)]
    test_files = [refs_dir / f"sentiment.test.{k}" for k in range(2)]
    for path, dataset in [*((f, "yelp_shen") for f in train_files), *((f, "yelp_references") for f in test_files)]:
        if not path.is_file():
            raise DataError(path, f"file not found; {download_hint(dataset, data_dir)}")
    whole = [read_sentences(f, lowercase) for f in train_files]
    train = [_evenly_spaced(sentences, max_train_per_style) for sentences in whole]
    test = [read_sentences(f, lowercase) for f in test_files]
    dev = [read_sentences(yelp / f"sentiment.dev.{k}", lowercase) for k in range(2)]
    held_out = {" ".join(s) for sentences in test for s in sentences}  # never trained on, nor validated on
    valid = [[s for s in sentences if " ".join(s) not in held_out] for sentences in dev]
    overlap = [sum(" ".join(s) in held_out for s in sentences) for sentences in train]
    train = [[s for s in sentences if " ".join(s) not in held_out] for sentences in train]
    full_train = [[s for s in sentences if " ".join(s) not in held_out] for sentences in whole]
    references, replaced = [[[] for _ in sentences] for sentences in test], []
    for k in range(2):
        for r in range(4):
            path = refs_dir / f"reference{r}.{k}"
            lines, bad = read_given_lines(path, len(test[k]), f"the test sentences of {test_files[k]}")
            replaced += [f"{path}:{line}" for line in bad]
            for i, line in enumerate(lines):
                references[k][i].append(line.lower() if lowercase else line)
    filters = ["whitespace tokenization (the files are tokenized)", "references: reference{0,1,2,3}.{0,1}",
               f"training sentences equal to a test sentence dropped ({overlap[0]} negative, {overlap[1]} positive)"]
    if max_train_per_style:
        filters.append(f"training sentences capped at {max_train_per_style:,} per style, evenly spaced over each file")
    substitute = None if has_train else (
        f"Yelp train split (sentiment.train.*, 444k sentences) not found in {yelp}; trained on Shen's test split "
        f"({sum(map(len, train)):,} sentences), validated on Shen dev minus the Li test sentences, "
        f"tested on the Li test sentences ({sum(map(len, test)):,}) with 4 human references")
    notes = {"references_with_invalid_utf8": {"lines": replaced, "handling": "undecodable bytes replaced by U+FFFD"}}
    files = {"train": train_files, "valid": [yelp / f"sentiment.dev.{k}" for k in range(2)], "test": test_files}
    return _styled("yelp", list(YELP_STYLES), {"train": train, "valid": valid, "test": test}, files, maxlen,
                   lowercase, filters, substitute, None, references, notes, full_train)


@CORPORA.register("style_dir")
def build_style_dir(data_dir: Path, *, maxlen: int, lowercase: bool = True, max_train_per_style: int = 0) -> StyledCorpus:
    """A user folder with one `<style>.txt` per style (at least two), one sentence a line. Test sentences:
    `<style>.test.txt` where it exists, else every 10th line of `<style>.txt`; lines 5, 15, ... are held
    out for validation. Neither is trained on."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(folder, "style folder does not exist (expected one <style>.txt file per style)")
    paths = sorted(p for p in folder.glob("*.txt") if not p.name.endswith(".test.txt"))
    if len(paths) < 2:
        raise DataError(folder, f"found {len(paths)} style file(s); expected at least two <style>.txt files, "
                                "one sentence per line")
    styles, train, valid, test = [p.stem for p in paths], [], [], []
    files = {"train": [], "valid": [], "test": []}
    for path in paths:
        sentences = read_sentences(path, lowercase)
        test_path = path.with_suffix(".test.txt")
        if test_path.is_file():
            train.append([s for i, s in enumerate(sentences, 1) if i % 10 != 5])
            test.append(read_sentences(test_path, lowercase))
            valid.append([s for i, s in enumerate(sentences, 1) if i % 10 == 5])
            files["test"].append(test_path)
        else:
            train.append([s for i, s in enumerate(sentences, 1) if i % 10 not in (0, 5)])
            test.append([s for i, s in enumerate(sentences, 1) if i % 10 == 0])
            valid.append([s for i, s in enumerate(sentences, 1) if i % 10 == 5])
            files["test"].append(path)
        files["train"].append(path)
    full_train, train = train, [_evenly_spaced(sentences, max_train_per_style) for sentences in train]
    filters = ["whitespace tokenization", "blank lines skipped",
               "test: <style>.test.txt, else every 10th line of <style>.txt (lines 10, 20, ...)",
               "validation (reverse PPL is scored on it): lines 5, 15, 25, ... of <style>.txt"]
    return _styled("style_dir", styles, {"train": train, "valid": valid, "test": test}, files,
                   maxlen, lowercase, filters, None, str(folder), full_train=full_train)


@CORPORA.register("snli_pairs")
def build_snli_pairs(data_dir: Path, *, maxlen: int, lowercase: bool = True) -> PairCorpus:
    """SNLI for semi-supervised classification (docs/paper.md): a pool of labelled pairs, of which a
    benchmark reveals a fraction of the labels, and the pool's sentences as unlabelled text.

    Official: pool = SNLI train (550k pairs), valid = SNLI dev (model selection), test = SNLI test.
    Without the train split (as offline): pool = SNLI dev, no validation pairs, test = SNLI test, and
    description["substitute"] says so. `train` holds the pool's premises (consecutive duplicates dropped)
    and hypotheses of at most `maxlen` tokens, for pretraining; the pairs themselves are never filtered."""
    data_dir = Path(data_dir)
    has_train = locate_snli(data_dir, "train") is not None
    pool = read_snli(data_dir, "train" if has_train else "dev", lowercase)
    valid = read_snli(data_dir, "dev", lowercase) if has_train else []
    test = read_snli(data_dir, "test", lowercase)
    splits = {"train": snli_lm_sentences(pool), "valid": [], "test": snli_lm_sentences(test)}
    files = {"train": list(pool.files), "valid": list(valid.files) if valid else [], "test": list(test.files)}
    filters = ["pairs without a gold label dropped", "pretraining sentences: the pool's premises (consecutive "
               "duplicates dropped) and hypotheses", "pairs are not length-filtered"]
    substitute = None if has_train else (
        f"SNLI train (550k pairs) not found in {data_dir}; the labelled pool is SNLI dev ({len(pool):,} pairs, "
        f"{len(splits['train']):,} sentences for pretraining before the length filter), no validation pairs, "
        f"evaluated on SNLI test ({len(test):,} pairs)")
    corpus = _finish("snli_pairs", splits, files, maxlen, lowercase, filters, substitute, kind=PairCorpus)
    corpus.pairs = {"pool": list(pool), "valid": list(valid), "test": list(test)}
    corpus.description["pairs"] = {split: len(p) for split, p in corpus.pairs.items()}
    return corpus
