"""Readers for the raw text formats; every bad input becomes a DataError naming file and line."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from arae.errors import ConfigError, DataError, download_hint

NLI_LABELS = ("entailment", "neutral", "contradiction")
NO_GOLD_LABEL = "-"  # SNLI pairs whose annotators did not agree
SNLI_SPLITS = ("train", "dev", "test")


@dataclass
class NLIPair:
    premise: list[str]
    hypothesis: list[str]
    label: str


class NLIPairs(list):
    """A list of NLIPair that also says where it came from, for run descriptions."""

    def __init__(self, pairs: list[NLIPair], files: list[Path], skipped_no_gold: int):
        super().__init__(pairs)
        self.files = files
        self.skipped_no_gold = skipped_no_gold


def read_text_lines(path: str | Path) -> list[str]:
    """All lines without their endings (\\n or \\r\\n); blank lines kept so indices = line - 1.

    Splits on \\n only (not str.splitlines), so line numbers agree with `wc -l` and with
    line-aligned sibling files even when a sentence contains U+2028 or a form feed.
    """
    return _read_lines(path, replace_bad_utf8=False)[0]


def read_lines_replacing_bad_utf8(path: str | Path) -> tuple[list[str], list[int]]:
    """Like read_text_lines, but bytes that are not UTF-8 become U+FFFD instead of an error. Returns the
    lines and the numbers of the lines that had such bytes, for the run's record. For files we do not
    own whose one bad line should not block a benchmark (a human reference file of Li et al. 2018)."""
    return _read_lines(path, replace_bad_utf8=True)


def _read_lines(path: str | Path, replace_bad_utf8: bool) -> tuple[list[str], list[int]]:
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    if path.is_dir():
        raise DataError(path, "is a directory, expected a text file")
    data = path.read_bytes()
    nul = data.find(b"\0")
    if nul >= 0:
        raise DataError(path, "binary file (contains NUL bytes), expected UTF-8 text",
                        line=data.count(b"\n", 0, nul) + 1)
    replaced = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if not replace_bad_utf8:
            raise DataError(path, f"not valid UTF-8 (byte 0x{data[e.start]:02x})",
                            line=data.count(b"\n", 0, e.start) + 1) from None
        text = data.decode("utf-8", errors="replace")
        replaced = [i for i, raw in enumerate(data.split(b"\n"), 1) if _bad_utf8(raw)]
    lines = text.removeprefix("\ufeff").split("\n")
    if lines[-1] == "":
        lines.pop()  # the trailing newline ends the last line, it does not start a new one
    lines = [line.removesuffix("\r") for line in lines]
    if not any(line.strip() for line in lines):
        raise DataError(path, "empty file (no non-blank line)")
    return lines, replaced


def read_given_lines(path: str | Path, expected: int, against: str, column: int | None = None) -> tuple[list[str], list[int]]:
    """The lines of a file that must be line-aligned with `expected` sentences of `against` (given transfers,
    references), by the one rule for such files: bytes that are not UTF-8 are replaced, and the lines that
    had them returned for the record; a line with a tab is refused unless `column` (1-based) names the
    tab-separated column to keep; a line count that differs is refused, naming the blank lines."""
    lines, repaired = read_lines_replacing_bad_utf8(path)
    if column is None:
        for i, line in enumerate(lines, 1):
            if "\t" in line:
                raise DataError(path, "has a tab: a two-column file (source<TAB>transfer)? Say which column "
                                      "holds the transfer (--outputs NAME=DIR:COLUMN, or given.column)", line=i)
    else:
        kept = []
        for i, line in enumerate(lines, 1):
            cells = line.split("\t")
            if len(cells) < column:
                raise DataError(path, f"{len(cells)} tab-separated column(s), but column {column} is asked for", line=i)
            kept.append(cells[column - 1])
        lines = kept
    if len(lines) != expected:
        blank = [i for i, line in enumerate(lines, 1) if not line.strip()]
        named = f"; blank: line {', '.join(map(str, blank[:5]))}" if blank else ""
        raise DataError(path, f"{len(lines)} lines, but {against} are {expected}: line i must belong to sentence "
                              f"i{named}")
    return lines, repaired


def _bad_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def read_sentences(path: str | Path, lowercase: bool = True) -> list[list[str]]:
    """One whitespace-tokenized sentence per non-blank line."""
    lines = read_text_lines(path)
    return [_tokens(line, lowercase) for line in lines if line.strip()]


def _tokens(text: str, lowercase: bool) -> list[str]:
    return (text.lower() if lowercase else text).split()


def read_style_corpus(paths_by_style: dict[str, str | Path],
                      lowercase: bool = True) -> dict[str, list[list[str]]]:
    """One file per style, e.g. {"negative": yelp/sentiment.dev.0, "positive": ...dev.1}."""
    return {style: read_sentences(path, lowercase) for style, path in paths_by_style.items()}


def _senteval_files(folder: Path, split: str) -> list[Path]:
    return [folder / f"s1.{split}", folder / f"s2.{split}", folder / f"labels.{split}"]


def _jsonl_candidates(data_dir: Path, split: str) -> list[Path]:
    name = f"snli_1.0_{split}.jsonl"
    folders = [data_dir, data_dir / "snli", data_dir / "snli" / "snli_1.0", data_dir / "snli_1.0"]
    return [folder / name for folder in folders]


def locate_snli(data_dir: str | Path, split: str) -> list[Path] | None:
    """The files holding one SNLI split: [jsonl] (preferred, official) or [s1, s2, labels]."""
    if split not in SNLI_SPLITS:
        raise ConfigError(f"unknown SNLI split {split!r} (known: {', '.join(SNLI_SPLITS)})")
    data_dir = Path(data_dir)
    for candidate in _jsonl_candidates(data_dir, split):
        if candidate.is_file():
            return [candidate]
    for folder in (data_dir, data_dir / "snli"):
        files = _senteval_files(folder, split)
        present = [f.exists() for f in files]
        if all(present):
            return files
        if any(present):
            missing = ", ".join(f.name for f, ok in zip(files, present) if not ok)
            raise DataError(folder, f"incomplete SentEval SNLI layout: {missing} missing")
    return None


def read_snli(data_dir: str | Path, split: str, lowercase: bool = True, *,
              include_no_gold: bool = False) -> NLIPairs:
    """One SNLI split from the official jsonl or the SentEval s1/s2/labels layout.

    Pairs without a gold label ("-") are skipped and counted, unless include_no_gold
    (the official LM preprocessing keeps them; they then carry the label "-").
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(data_dir, "data folder does not exist; download SNLI into it with "
                                  f"`python run_all.py --download snli --data-dir {data_dir}`, "
                                  "or pass --data-dir with the folder that holds it")
    files = locate_snli(data_dir, split)
    if files is None:
        looked = [str(p) for p in _jsonl_candidates(data_dir, split)]
        looked += [str(p) for folder in (data_dir, data_dir / "snli")
                   for p in _senteval_files(folder, split)]
        raise DataError(data_dir, f"SNLI {split} split not found; looked for {', '.join(looked)}. "
                                  f"{download_hint('snli', data_dir)}, or put the files there")
    if len(files) == 1:
        return _read_snli_jsonl(files[0], lowercase, include_no_gold)
    return _read_snli_senteval(files, lowercase)


def _read_snli_senteval(files: list[Path], lowercase: bool) -> NLIPairs:
    s1, s2, labels = (read_text_lines(f) for f in files)
    if not len(s1) == len(s2) == len(labels):
        counts = ", ".join(f"{f} has {len(x)} lines" for f, x in zip(files, (s1, s2, labels)))
        raise DataError(files[0].parent, f"SNLI files are not line-aligned: {counts}")
    pairs = []
    for i, (premise, hypothesis, label) in enumerate(zip(s1, s2, labels), start=1):
        label = label.strip()
        if label not in NLI_LABELS:
            raise DataError(files[2], f"unknown label {label!r} (expected one of "
                                      f"{', '.join(NLI_LABELS)})", line=i)
        pairs.append(NLIPair(_tokens(premise, lowercase), _tokens(hypothesis, lowercase), label))
    return NLIPairs(pairs, files, skipped_no_gold=0)


def _parse_tokens(parse: str) -> list[str]:
    """Tokens of a binary parse such as "( ( Two women ) ( are ... ) )": brackets removed."""
    return [t for t in parse.split() if t not in ("(", ")")]


def _read_snli_jsonl(path: Path, lowercase: bool, include_no_gold: bool) -> NLIPairs:
    pairs, skipped = [], 0
    for i, line in enumerate(read_text_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            label = record["gold_label"]
            premise = _parse_tokens(record["sentence1_binary_parse"])
            hypothesis = _parse_tokens(record["sentence2_binary_parse"])
        except json.JSONDecodeError as e:
            raise DataError(path, f"malformed JSON: {e.msg} (column {e.colno})", line=i) from None
        except KeyError as e:
            raise DataError(path, f"missing field {e.args[0]!r}", line=i) from None
        except (TypeError, AttributeError):
            raise DataError(path, "expected an object with string fields gold_label, "
                                  "sentence1_binary_parse, sentence2_binary_parse",
                            line=i) from None
        if label == NO_GOLD_LABEL and not include_no_gold:
            skipped += 1
            continue
        if label not in NLI_LABELS and label != NO_GOLD_LABEL:
            raise DataError(path, f"unknown gold_label {label!r}", line=i)
        if lowercase:
            premise, hypothesis = [t.lower() for t in premise], [t.lower() for t in hypothesis]
        pairs.append(NLIPair(premise, hypothesis, label))
    return NLIPairs(pairs, [path], skipped_no_gold=skipped)


def snli_lm_sentences(*splits: list[NLIPair]) -> list[list[str]]:
    """The official lang/snli_preprocessing.py order: premises, then hypotheses.

    Premises repeat for the ~3 hypotheses written about each; like the official code, a
    premise is dropped only when equal to the previous one, and that check restarts for each
    split (each source file). Empty sentences are dropped.
    """
    premises, hypotheses = [], []
    for pairs in splits:
        previous = None
        for pair in pairs:
            if pair.premise != previous:
                premises.append(pair.premise)
            previous = pair.premise
        hypotheses.extend(pair.hypothesis for pair in pairs)
    return [s for s in premises + hypotheses if s]
