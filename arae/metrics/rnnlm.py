"""RNN-LM forward and reverse perplexity: the paper's own protocol (docs/paper.md, the
official lang/preprocess_lm.py + lang/train_rnnlm.py tool).

As the official tool: the vocabulary is the top `max_vocab` words of the LM's training text (for reverse
PPL, the samples); sentences are batched by equal length; a 1-layer LSTM with dropout on the embeddings and
before the softmax, uniform init +-0.1, SGD lr 1 without decay, gradient norm clipped at 5, a fixed number of
epochs, and the epoch with the best validation PPL is kept. PPL = exp(total NLL / predicted tokens), where
the predicted tokens include </s>.

The two caveats of docs/paper.md, decided as the official tool does: words of the scored text that
are not in the LM's vocabulary become <unk>, and the generators' own unknown word is the literal <oov>. For
reverse PPL <oov> is an ordinary word of the samples' vocabulary, and real words the samples never used become
<unk>, which the LM has rarely seen as a target (so scarce samples pay for it, unless their vocabulary is so
small that the LM's few words are all cheap). For forward PPL the LM's vocabulary is the real text's, which
has no <oov>: a sample's <oov> becomes <unk>, so the forward PPL also counts how often a generator emits its
unknown word. The share of <unk> among the scored tokens (</s> included) is in the details as `oov_rate`.

Batches are made once (shuffled, sorted by length, cut), and their order is shuffled every epoch; the
training loss of a batch is its summed NLL over the batch size (train_rnnlm.py sums the per-position batch
means), then clipped. The LM trains on the run's device.

Held-out data: the corpus's validation split selects the epoch and its test split is scored. A corpus
without a validation split (SNLI: the official preprocessing has none) is split in two: lines 1, 3, 5, ...
of the test split select the epoch and lines 2, 4, 6, ... are scored.
"""
from __future__ import annotations

import copy
import hashlib
import math
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from arae.artefacts import build_once
from arae.data.vocab import BOS_ID, EOS_ID, UNK_ID, Vocab
from arae.errors import ConfigError, MetricNotComputable
from arae.metrics.base import EvalContext, MetricValue, oov_note
from arae.metrics.ngram_lm import normalise
from arae.models.lm import LSTMLanguageModel

MAX_TOKENS = 200  # preprocess_lm.py --seqlength: longer sentences are dropped


@dataclass(frozen=True)
class RnnLmSettings:
    """train_rnnlm.py's defaults; presets may shrink them (eval.rnnlm in a benchmark's config)."""
    emsize: int = 300
    nhidden: int = 300
    dropout: float = 0.2
    epochs: int = 15
    lr: float = 1.0
    clip: float = 5.0
    batch_size: int = 32
    max_vocab: int = 70000
    seed: int = 3435

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "RnnLmSettings":
        given, known = params.get("rnnlm") or {}, {f.name for f in fields(cls)}
        if unknown := sorted(set(given) - known):
            raise ConfigError(f"eval.rnnlm: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        settings = cls(**given)
        if settings.epochs < 1:
            raise ConfigError(f"eval.rnnlm.epochs={settings.epochs}: the RNN LM needs at least one epoch")
        return settings


@dataclass
class TrainedLm:
    model: LSTMLanguageModel
    vocab: Vocab
    best_epoch: int
    valid_ppl_by_epoch: list[float]
    n_train_sentences: int


def _tokens(sentences: Sequence[str]) -> list[list[str]]:
    """Whitespace tokens, specials renamed as for KenLM (<unk> -> <oov>); empty and over-long sentences dropped."""
    kept = [normalise(s).split() for s in sentences]
    return [t for t in kept if 0 < len(t) <= MAX_TOKENS]


def _batches(encoded: list[list[int]], batch_size: int, seed: int) -> list[tuple]:
    """(src, tgt) tensors of equal-length sentences, made once as preprocess_lm.py does: shuffled (seeded),
    sorted by length, cut into batches of at most `batch_size` sentences of one length."""
    order = np.random.default_rng(seed).permutation(len(encoded))
    order = order[np.argsort([len(encoded[i]) for i in order], kind="stable")]
    batches, start = [], 0
    while start < len(order):
        length, end = len(encoded[order[start]]), start
        while end < len(order) and end - start < batch_size and len(encoded[order[end]]) == length:
            end += 1
        ids = torch.tensor([encoded[i] for i in order[start:end]])
        bos, eos = torch.full((len(ids), 1), BOS_ID), torch.full((len(ids), 1), EOS_ID)
        batches.append((torch.cat([bos, ids], 1), torch.cat([ids, eos], 1)))
        start = end
    return batches


@torch.no_grad()
def perplexity(lm: TrainedLm, sentences: Sequence[str], batch_size: int = 256) -> dict[str, Any]:
    """PPL of `sentences` (</s> scored), with how many tokens were scored and how many were <unk>."""
    encoded = [lm.vocab.encode(t) for t in _tokens(sentences)]
    if not encoded:
        raise MetricNotComputable(f"no non-empty sentence to score ({len(sentences)} given)")
    lm.model.eval()
    device = next(lm.model.parameters()).device
    total, n_tokens = 0.0, 0
    for src, tgt in _batches(encoded, batch_size, 0):
        total += float(lm.model.summed_nll(src.to(device), tgt.to(device)))
        n_tokens += tgt.numel()
    n_unk = sum(i == UNK_ID for ids in encoded for i in ids)
    ppl = math.exp(total / n_tokens) if total / n_tokens < 700 else math.inf
    if not math.isfinite(ppl):
        raise MetricNotComputable(f"perplexity is not finite (mean NLL {total / n_tokens:.1f} nats)")
    return {"ppl": ppl, "n_sentences": len(encoded), "n_words": n_tokens, "n_oov": n_unk,
            "oov_rate": n_unk / n_tokens}


PROGRESS_EVERY = 20.0  # seconds between progress lines while an LM trains


def train_lm(train: Sequence[str], valid: Sequence[str], settings: RnnLmSettings,
             device: torch.device | str = "cpu", vocab_words: Sequence[str] | None = None) -> TrainedLm:
    """An LSTM LM of `train`, its epoch chosen by validation PPL on `valid` (an epoch whose PPL is not finite is
    never chosen); deterministic for its settings on CPU (its own seed; the caller's random state is kept).
    Its vocabulary is the top words of `train` (the official tool), or `vocab_words` where given."""
    device, tokens = torch.device(device), _tokens(train)
    if not tokens:
        raise MetricNotComputable(f"no non-empty sentence to train the RNN LM on ({len(train)} given)")
    vocab = Vocab(vocab_words) if vocab_words is not None else Vocab.build(tokens, settings.max_vocab)
    batches = _batches([vocab.encode(t) for t in tokens], settings.batch_size, settings.seed)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(settings.seed)
        model = LSTMLanguageModel(len(vocab), settings.emsize, settings.nhidden, 1, settings.dropout).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr)
        lm, best_state, valid_ppls = TrainedLm(model, vocab, 0, [], len(tokens)), None, []
        began = said = time.perf_counter()
        for epoch in range(1, settings.epochs + 1):
            model.train()
            for done, i in enumerate(np.random.default_rng([settings.seed, epoch]).permutation(len(batches))):
                if time.perf_counter() - said > PROGRESS_EVERY:  # never silent for long (the paper's LMs take hours)
                    said = time.perf_counter()
                    print(f"  RNN LM on {len(tokens):,} sentences: epoch {epoch}/{settings.epochs}, batch "
                          f"{done}/{len(batches)} ({said - began:.0f}s)", file=sys.stderr, flush=True)
                src, tgt = (t.to(device) for t in batches[i])
                optimizer.zero_grad(set_to_none=True)
                loss = model.summed_nll(src, tgt) / len(src)  # train_rnnlm.py: per-position batch means, summed
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
                optimizer.step()
            try:
                valid_ppls.append(perplexity(lm, valid)["ppl"])
            except MetricNotComputable:
                valid_ppls.append(math.inf)
            if math.isfinite(valid_ppls[-1]) and valid_ppls[-1] == min(valid_ppls):
                best_state, lm.best_epoch = copy.deepcopy(model.state_dict()), epoch
    if best_state is None:
        raise MetricNotComputable(f"the RNN LM's validation PPL was not finite after any of its {settings.epochs} "
                                  f"epochs (training diverged)")
    model.load_state_dict(best_state)
    lm.valid_ppl_by_epoch = valid_ppls
    return lm


def held_out(ctx: EvalContext) -> tuple[list[str], list[str], str]:
    """(validation sentences, scored sentences, how they were chosen): see the module docstring. An LM never
    picks its epoch on the text it scores: where the validation split is the scored text (a transfer run
    scores its reverse PPL on the validation split), or there is none, the scored text is split in two."""
    if ctx.valid_text and ctx.valid_text != ctx.eval_text:
        return ctx.valid_text, ctx.eval_text, "epoch chosen on the validation split, test split scored"
    which = "the scored text is the validation split" if ctx.valid_text else "no validation split"
    if len(ctx.eval_text) < 2:
        raise MetricNotComputable(f"{which}, and it has only {len(ctx.eval_text)} sentence(s) to split into "
                                  f"validation and scored halves")
    return (ctx.eval_text[0::2], ctx.eval_text[1::2],
            f"{which}: epoch chosen on its lines 1, 3, 5, ..., lines 2, 4, 6, ... scored")


def _protocol(settings: RnnLmSettings) -> str:
    return (f"1-layer LSTM {settings.emsize}/{settings.nhidden}, dropout {settings.dropout}, SGD lr {settings.lr}, "
            f"{settings.epochs} epochs, best validation epoch, </s> scored")


def _details(lm: TrainedLm, settings: RnnLmSettings, how: str) -> dict[str, Any]:
    return {"protocol": _protocol(settings), "held_out": how, "settings": asdict(settings),
            "lm_vocab_size": len(lm.vocab), "n_train_sentences": lm.n_train_sentences, "best_epoch": lm.best_epoch,
            "valid_ppl_by_epoch": [round(p, 3) for p in lm.valid_ppl_by_epoch]}


def _score(lm: TrainedLm, sentences: Sequence[str], details: dict,
           groups: dict[str, Sequence[str]] | None = None) -> MetricValue:
    try:
        scored = perplexity(lm, sentences)
    except MetricNotComputable as err:
        return MetricValue.missing(str(err), **details)
    details.update({k: v for k, v in scored.items() if k != "ppl"})
    if groups:
        per = {}
        for name, group in groups.items():
            try:
                per[name] = perplexity(lm, group)["ppl"]
            except MetricNotComputable:
                per[name] = None  # a group with no words to score
        details["per_direction"] = per
    return MetricValue(scored["ppl"], None, details, oov_note(scored["oov_rate"], " of scored tokens (</s> included)"))


def reverse_ppl(ctx: EvalContext, fixed_vocab: bool = False) -> MetricValue:
    """An LM trained on the samples, scored on real held-out text: do the samples cover the data? With
    `fixed_vocab` (flavour rnnlm_fixed) the LM predicts over the benchmark's vocabulary (the run's, built from
    the real training text) instead of the samples' own words, so every row is scored with the same softmax
    and a collapsed generator cannot look good by knowing only a handful of words."""
    settings = RnnLmSettings.from_params(ctx.params)
    valid, scored, how = held_out(ctx)
    details = {"n_samples": len(ctx.reverse_lm_text), "held_out": how,
               "vocabulary": "the benchmark's" if fixed_vocab else "the samples' top words (the official tool)"}
    if fixed_vocab and not ctx.vocab_words:
        return MetricValue.missing("this run has no vocabulary of its own to fix the LM's to", **details)
    try:
        lm = train_lm(ctx.reverse_lm_text, valid, settings, ctx.device, ctx.vocab_words if fixed_vocab else None)
    except MetricNotComputable as err:
        return MetricValue.missing(str(err), **details)
    return _score(lm, scored, {**details, **_details(lm, settings, how)})


def forward_ppl(ctx: EvalContext) -> MetricValue:
    """An LM trained on the real training text (built once per text and settings, shared by every run of the
    output folder), scored on the samples: are they fluent?"""
    settings = RnnLmSettings.from_params(ctx.params)
    valid, _, how = held_out(ctx)
    key = {"train_sha256": hashlib.sha256("\n".join(ctx.train_text).encode()).hexdigest(),
           "valid_sha256": hashlib.sha256("\n".join(valid).encode()).hexdigest(), "settings": asdict(settings)}

    def build(folder: Path) -> dict:
        lm = train_lm(ctx.train_text, valid, settings, ctx.device)
        torch.save({"state": {k: v.cpu() for k, v in lm.model.state_dict().items()}, "words": lm.vocab.words},
                   folder / "lm.pt")
        return _details(lm, settings, how)

    folder, info = build_once(ctx.artefact_root, "rnnlm", key, build)
    lm = _load(folder / "lm.pt", settings, info["built"], torch.device(ctx.device))
    return _score(lm, ctx.generated, {**info["built"], "lm_artefact": info["artefact"]}, ctx.generated_by_direction)


def _load(path: Path, settings: RnnLmSettings, built: dict, device: torch.device) -> TrainedLm:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    vocab = Vocab(saved["words"])
    model = LSTMLanguageModel(len(vocab), settings.emsize, settings.nhidden, 1, settings.dropout)
    model.load_state_dict(saved["state"])
    return TrainedLm(model.to(device), vocab, built["best_epoch"], built["valid_ppl_by_epoch"], built["n_train_sentences"])
