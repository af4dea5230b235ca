"""Sentence corpora for the text models, each with a record of exactly which data was used."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from arae.data.readers import locate_snli, read_sentences, read_snli, snli_lm_sentences
from arae.errors import DataError
from arae.registry import Registry

Sentences = list[list[str]]


@dataclass
class Corpus:
    name: str
    train: Sentences
    valid: Sentences
    test: Sentences
    description: dict[str, Any] = field(default_factory=dict)


CorpusBuilder = Callable[..., Corpus]
CORPORA: Registry[CorpusBuilder] = Registry("corpus")


def build_corpus(name: str, data_dir: str | Path, **kw: Any) -> Corpus:
    return CORPORA.get(name)(Path(data_dir), **kw)


def _length_filter(sentences: Sentences, maxlen: int) -> tuple[Sentences, int]:
    """The official rule: a sentence with more than maxlen tokens is dropped, not truncated."""
    kept = [s for s in sentences if len(s) <= maxlen]
    return kept, len(sentences) - len(kept)


def _finish(name: str, splits: dict[str, Sentences], files: dict[str, list[Path]],
            maxlen: int, lowercase: bool, filters: list[str], substitute: str | None,
            user_corpus: str | None = None) -> Corpus:
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
    return Corpus(name, kept["train"], kept["valid"], kept["test"], description)


def _lower(sentences: Sentences) -> Sentences:
    return [[t.lower() for t in s] for s in sentences]


@CORPORA.register("snli_lm")
def build_snli_lm(data_dir: Path, *, maxlen: int, lowercase: bool = True) -> Corpus:
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
def build_text_dir(data_dir: Path, *, maxlen: int, lowercase: bool = True) -> Corpus:
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
