"""KenLM n-gram forward and reverse perplexity, following the official ARAE code (lang/train.py
`train_lm`, lang/utils.py `get_ppl`): lmplz modified Kneser-Ney, scored with bos=True, eos=False,
PPL = exp(natural-log NLL / number of words).

lmplz refuses the words <s>, </s> and <unk> in its input, so every sentence (training and
evaluation alike, so that the same string is the same word on both sides) is normalised first:
<unk> becomes the literal <oov> (the unknown-word token the official ARAE samples contain) and
<s>, </s> are dropped (they mark sentence boundaries, which KenLM adds itself).
"""
from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import kenlm

from arae.artefacts import build_once
from arae.errors import MetricNotComputable, SuiteError
from arae.io import atomic_write_text
from arae.metrics.base import MetricValue, oov_note

HOW_TO_GET_LMPLZ = ("run `bash scripts/setup.sh` (builds lmplz from the kenlm==0.3.0 source package) "
                    "or set ARAE_LMPLZ=/path/to/lmplz")
_DROPPED = {"<s>", "</s>"}
_RENAMED = {"<unk>": "<oov>"}


@dataclass(frozen=True)
class NgramModel:
    path: Path
    order: int
    discount_fallback_used: bool
    n_train_sentences: int
    vocab: frozenset[str]

    @classmethod
    def from_arpa(cls, path: str | Path) -> "NgramModel":
        """Wrap an existing ARPA file; order and vocabulary are read from the file itself."""
        order, vocab, section = 0, set(), ""
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("ngram "):
                    order = max(order, int(line[6:].split("=")[0]))
                elif line.startswith("\\"):
                    section = line
                elif section == "\\1-grams:" and line:
                    vocab.add(line.split()[1])
        return cls(Path(path), order, False, 0, frozenset(vocab - {"<s>", "</s>", "<unk>"}))


@dataclass(frozen=True)
class PerplexityResult:
    ppl: float
    n_sentences: int
    n_words: int
    n_oov: int
    oov_rate: float
    log_prob_ln: float  # total natural-log probability of all scored words (<= 0)


def normalise(sentence: str) -> str:
    """Make a sentence acceptable to lmplz (see the module docstring)."""
    return " ".join(_RENAMED.get(w, w) for w in sentence.split() if w not in _DROPPED)


def find_lmplz() -> Path:
    """ARAE_LMPLZ, then this virtualenv's bin/ (where scripts/setup.sh puts it), then PATH."""
    if env := os.environ.get("ARAE_LMPLZ"):
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise SuiteError(f"ARAE_LMPLZ={env} is not an executable file; {HOW_TO_GET_LMPLZ}")
        return Path(env)
    for bin_dir in (Path(sys.prefix) / "bin", Path(sys.executable).parent):
        if os.access(bin_dir / "lmplz", os.X_OK):
            return bin_dir / "lmplz"
    if found := shutil.which("lmplz"):
        return Path(found)
    raise SuiteError(f"KenLM's lmplz was not found; {HOW_TO_GET_LMPLZ}")


def _is_bad_discount(stderr: str) -> bool:
    """lmplz aborts with BadDiscountException when modified Kneser-Ney discounts cannot be
    estimated (tiny, repetitive or collapsed text); both of its messages name the fallback flag."""
    return "BadDiscountException" in stderr or "--discount_fallback" in stderr


def _run_lmplz(cmd: list[str], arpa: Path, log: Path) -> subprocess.CompletedProcess:
    arpa.unlink(missing_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    atomic_write_text(log, proc.stderr)
    return proc


def _lmplz_failure(proc: subprocess.CompletedProcess, arpa: Path) -> str | None:
    """Why this lmplz run produced no model, or None if it did (a failed lmplz may leave an empty file)."""
    if proc.returncode == 0 and arpa.is_file() and arpa.stat().st_size > 0:
        return None
    if proc.returncode == 0:
        return f"lmplz exited 0 but wrote an empty ARPA file {arpa}"
    tail = " | ".join(proc.stderr.strip().splitlines()[-5:])
    return f"lmplz failed (exit {proc.returncode}): {tail or 'no message'}"


def train_ngram(sentences: Sequence[str], order: int, workdir: Path, *,
                extra_lines: Sequence[str] = ()) -> NgramModel:
    """Train a modified Kneser-Ney ARPA model with lmplz; --discount_fallback is used only when
    lmplz cannot estimate discounts without it, and that is recorded on the model."""
    lines = [normalise(s) for s in sentences]
    if not any(lines):
        raise MetricNotComputable(f"no non-empty sentence to train a {order}-gram model on "
                                  f"({len(lines)} sentences given)")
    extra = [e for e in map(normalise, extra_lines) if e]
    workdir = Path(workdir)
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    text, arpa = workdir / "train.txt", workdir / f"kenlm{order}.arpa"
    atomic_write_text(text, "".join(line + "\n" for line in extra + lines))
    cmd = [str(find_lmplz()), "-o", str(order), "-S", "20%", "-T", str(workdir / "tmp"),
           "--text", str(text), "--arpa", str(arpa)]
    proc = _run_lmplz(cmd, arpa, workdir / "lmplz.log")
    fallback = proc.returncode != 0 and _is_bad_discount(proc.stderr)
    if fallback:
        proc = _run_lmplz(cmd + ["--discount_fallback"], arpa, workdir / "lmplz.discount_fallback.log")
    if reason := _lmplz_failure(proc, arpa):
        # lmplz itself broke (memory, disk, a signal): the run fails and is retried, nothing is cached
        raise SuiteError(f"{reason} (log: {workdir / 'lmplz.log'})")
    vocab = frozenset(w for line in extra + lines for w in line.split())
    return NgramModel(arpa, order, fallback, len(lines), vocab)


def _load_quietly(path: Path) -> "kenlm.Model":
    """KenLM prints a progress bar and a build_binary hint on the C++ stderr; keep the run's log readable."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        return kenlm.Model(str(path))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def perplexity(model: NgramModel, sentences: Sequence[str], lm: "kenlm.Model | None" = None) -> PerplexityResult:
    """Official get_ppl: bos=True, eos=False (</s> not scored); OOV words are scored as <unk>
    and counted, so the OOV rate can be reported beside the number. `lm`: the model already loaded."""
    lm = lm or _load_quietly(model.path)
    log10_total, n_words, n_oov = 0.0, 0, 0
    for sentence in sentences:
        for log10_prob, _, oov in lm.full_scores(normalise(sentence), bos=True, eos=False):
            log10_total += log10_prob
            n_words += 1
            n_oov += bool(oov)
    if n_words == 0:
        raise MetricNotComputable(f"no words to score ({len(sentences)} evaluation sentences)")
    log_prob_ln = log10_total * math.log(10)
    try:
        ppl = math.exp(-log_prob_ln / n_words)
    except OverflowError:
        ppl = math.inf
    if not math.isfinite(ppl):
        raise MetricNotComputable(f"perplexity is not finite (total log10 prob {log10_total})")
    return PerplexityResult(ppl, len(sentences), n_words, n_oov, n_oov / n_words, log_prob_ln)


def _protocol(order: int, reverse: bool) -> str:
    return f"kenlm{order}, bos=True eos=False, natural log" + (", vocab appended once" if reverse else "")


def _score(model: NgramModel, evaluate: Sequence[str], details: dict,
           groups: dict[str, Sequence[str]] | None = None) -> MetricValue:
    """PPL of `evaluate`; with `groups` (e.g. one per transfer direction) also each group's, in the details."""
    lm = _load_quietly(model.path)
    try:
        result = perplexity(model, evaluate, lm)
    except MetricNotComputable as err:
        return MetricValue.missing(str(err), **details)
    details.update(oov_rate=result.oov_rate, n_oov=result.n_oov, n_words=result.n_words,
                   n_sentences=result.n_sentences)
    if groups:
        per = {}
        for name, sentences in groups.items():
            try:
                per[name] = perplexity(model, sentences, lm).ppl
            except MetricNotComputable:
                per[name] = None  # a group with no words to score
        details["per_direction"] = per
    return MetricValue(result.ppl, None, details, _rests_on(details))


def _rests_on(details: dict) -> str:
    """What the perplexity rests on: the reverse LM's training lines, the scored words outside the LM's
    vocabulary, and whether lmplz could estimate its Kneser-Ney discounts."""
    parts = []
    if details.get("n_vocab_lines") is not None:
        share = details["vocab_line_share"]
        parts.append(f"LM of {details['n_samples']:,} samples + {details['n_vocab_lines']:,} vocabulary lines"
                     + (f" ({share:.0%})" if share is not None else ""))
    parts.append(oov_note(details["oov_rate"]))
    if details.get("discount_fallback"):
        parts.append("lmplz used --discount_fallback (too little text for Kneser-Ney discounts)")
    return "; ".join(parts)


def shared_ngram(sentences: Sequence[str], order: int, artefacts: Path) -> tuple[NgramModel, dict]:
    """An n-gram model of `sentences` built once per (text, order) under `artefacts` and reused by every
    row and run that scores against the same text (the forward LM of a training split)."""
    text_hash = hashlib.sha256("\n".join(sentences).encode()).hexdigest()

    def build(folder: Path) -> dict:
        model = train_ngram(sentences, order, folder)
        (folder / "train.txt").unlink()
        shutil.rmtree(folder / "tmp", ignore_errors=True)
        return {"arpa": model.path.name, "discount_fallback": model.discount_fallback_used,
                "n_train_sentences": model.n_train_sentences}

    folder, info = build_once(artefacts, f"ngram{order}", {"text_sha256": text_hash, "order": order}, build)
    built = info["built"]
    return NgramModel(folder / built["arpa"], order, built["discount_fallback"], built["n_train_sentences"],
                      frozenset()), info


def forward_ppl(real_train: Sequence[str], samples: Sequence[str], order: int,
                artefacts: Path, groups: dict[str, Sequence[str]] | None = None) -> MetricValue:
    """LM on the real training text (built once, see shared_ngram), scored on the samples: are they fluent?"""
    model, info = shared_ngram(real_train, order, artefacts)
    details = {"order": order, "protocol": _protocol(order, False), "discount_fallback": model.discount_fallback_used,
               "n_train_sentences": model.n_train_sentences, "lm_artefact": info["artefact"]}
    return _score(model, samples, details, groups)


def reverse_ppl(samples: Sequence[str], real_eval: Sequence[str], order: int, workdir: Path,
                vocab_words: Sequence[str]) -> MetricValue:
    """LM on the samples plus every vocabulary word once on its own line (the official
    "laplacian smoothing"), scored on real held-out text: do the samples cover the data?
    The details say what the number rests on: how many sample lines, and how many vocabulary lines
    were appended (a large share makes the LM closer to a unigram model of the vocabulary)."""
    n_vocab = sum(1 for w in vocab_words if normalise(w))
    details = {"order": order, "protocol": _protocol(order, True), "n_samples": len(samples),
               "n_vocab_lines": n_vocab,
               "vocab_line_share": n_vocab / (n_vocab + len(samples)) if n_vocab + len(samples) else None}
    try:
        model = train_ngram(samples, order, workdir, extra_lines=vocab_words)
    except MetricNotComputable as err:
        return MetricValue.missing(str(err), **details)
    details.update(discount_fallback=model.discount_fallback_used, n_train_sentences=model.n_train_sentences)
    return _score(model, real_eval, details)
