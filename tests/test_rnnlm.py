"""The RNN-LM perplexity flavour (the paper's protocol): batching, what is scored, epoch selection, vocabulary."""
from __future__ import annotations

import math

import pytest
import torch

from dataclasses import asdict

from arae.data.vocab import BOS_ID, EOS_ID, Vocab
from arae.errors import ConfigError, MetricNotComputable
from arae.metrics import METRICS, EvalContext
from arae.metrics import rnnlm
from arae.metrics.rnnlm import RnnLmSettings, held_out, perplexity, train_lm
from test_ngram_lm import _corpus

TINY_LM = RnnLmSettings(emsize=16, nhidden=16, epochs=3, batch_size=8)


def test_batches_hold_equal_lengths_and_predict_the_end_of_sentence():
    encoded = [[5] * n for n in (3, 1, 3, 2, 3, 3, 1)]
    batches = rnnlm._batches(encoded, 3, seed=0)
    assert sorted(len(s) for src, _ in batches for s in src) == sorted(n + 1 for n in (3, 1, 3, 2, 3, 3, 1))
    for src, tgt in batches:
        assert src.shape == tgt.shape and len(src) <= 3
        assert (src[:, 0] == BOS_ID).all() and (tgt[:, -1] == EOS_ID).all()
        assert torch.equal(src[:, 1:], tgt[:, :-1])


def test_perplexity_scores_every_word_and_the_end_of_sentence_and_counts_unknown_words():
    lm = train_lm(["a b", "b a"], ["a b"], RnnLmSettings(emsize=4, nhidden=4, epochs=1))
    scored = perplexity(lm, ["a b c", "b", ""])  # the empty sentence is dropped, c is not in the vocabulary
    assert scored["n_sentences"] == 2 and scored["n_words"] == 4 + 2 and scored["n_oov"] == 1
    assert math.isclose(scored["oov_rate"], 1 / 6)


def test_vocabulary_comes_from_the_training_text_and_the_generators_unknown_word_is_a_word():
    lm = train_lm(["a <unk> b", "<s> a b </s>"], ["a b"], RnnLmSettings(emsize=4, nhidden=4, epochs=1))
    assert sorted(lm.vocab.words) == ["<oov>", "a", "b"]


def test_the_best_validation_epoch_is_kept_and_training_is_deterministic():
    text, valid = _corpus(300), _corpus(60, seed=1)
    state = torch.random.get_rng_state()
    lm = train_lm(text, valid, TINY_LM)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state is untouched
    assert len(lm.valid_ppl_by_epoch) == 3 and lm.valid_ppl_by_epoch[lm.best_epoch - 1] == min(lm.valid_ppl_by_epoch)
    assert math.isclose(perplexity(lm, valid)["ppl"], min(lm.valid_ppl_by_epoch), rel_tol=1e-6)
    assert train_lm(text, valid, TINY_LM).valid_ppl_by_epoch == lm.valid_ppl_by_epoch


def test_held_out_text_uses_the_validation_split_or_halves_of_the_test_split():
    ctx = EvalContext(outputs={}, train_text=[], eval_text=["t1", "t2", "t3", "t4", "t5"], vocab_words=[], workdir=None)
    valid, scored, how = held_out(ctx)
    assert (valid, scored) == (["t1", "t3", "t5"], ["t2", "t4"]) and "no validation split" in how
    ctx.valid_text = ["v1"]
    assert held_out(ctx)[:2] == (["v1"], ctx.eval_text)
    ctx.valid_text = list(ctx.eval_text)  # a transfer run scores the validation split: never choose on it too
    valid, scored, how = held_out(ctx)
    assert (valid, scored) == (["t1", "t3", "t5"], ["t2", "t4"]) and "the scored text is the validation split" in how


def _ctx(samples, tmp_path, **params):
    return EvalContext(outputs={"samples": samples}, train_text=_corpus(300), eval_text=_corpus(80, seed=2),
                       vocab_words=[], workdir=tmp_path / "work", params={"rnnlm": params}, artefacts=tmp_path / "art")


def test_reverse_ppl_rewards_samples_that_cover_the_real_text(tmp_path):
    settings = {"emsize": 16, "nhidden": 16, "epochs": 3, "batch_size": 8}
    like_data = METRICS.get("reverse_ppl.rnnlm")(_ctx(_corpus(300, seed=5), tmp_path, **settings))
    words = " ".join(_corpus(300, seed=5)).split()
    scrambled = [" ".join(words[i:i + 8][::-1]) for i in range(0, len(words), 8)]
    garbage = METRICS.get("reverse_ppl.rnnlm")(_ctx(scrambled, tmp_path, **settings))
    assert like_data.value < garbage.value
    d = like_data.details
    assert d["n_samples"] == 300 and d["held_out"].startswith("no validation split") and 1 <= d["best_epoch"] <= 3
    assert "</s> scored" in d["protocol"] and d["n_sentences"] == 40  # the scored half of the 80 test sentences
    empty = METRICS.get("reverse_ppl.rnnlm")(_ctx(["", ""], tmp_path, **settings))
    assert empty.value is None and "no non-empty sentence" in empty.missing_reason


def test_forward_ppl_trains_its_lm_once_per_training_text(tmp_path, monkeypatch):
    settings = {"emsize": 16, "nhidden": 16, "epochs": 2, "batch_size": 8}
    first = METRICS.get("forward_ppl.rnnlm")(_ctx(_corpus(50, seed=7), tmp_path, **settings))
    monkeypatch.setattr(rnnlm, "train_lm", lambda *a: pytest.fail("the shared forward LM was trained again"))
    again = METRICS.get("forward_ppl.rnnlm")(_ctx(_corpus(50, seed=7), tmp_path, **settings))
    assert first.value == again.value and first.details["lm_artefact"].startswith("art/rnnlm-")
    fluent = METRICS.get("forward_ppl.rnnlm")(_ctx(_corpus(50, seed=8), tmp_path, **settings))
    garbled = METRICS.get("forward_ppl.rnnlm")(_ctx([" ".join(s.split()[::-1]) for s in _corpus(50, seed=8)],
                                                    tmp_path, **settings))
    assert fluent.value < garbled.value


def test_unknown_settings_fail_clearly():
    with pytest.raises(ConfigError, match="unknown setting.*hidden.*known: batch_size"):
        RnnLmSettings.from_params({"rnnlm": {"hidden": 3}})
    with pytest.raises(ConfigError, match="at least one epoch"):
        RnnLmSettings.from_params({"rnnlm": {"epochs": 0}})


def test_a_diverging_lm_is_missing_not_a_number():
    lm_settings = RnnLmSettings(emsize=8, nhidden=8, epochs=2, lr=1e6, clip=1e9)
    with pytest.raises(MetricNotComputable, match="not finite after any of its 2 epochs"):
        train_lm(_corpus(100), _corpus(20, seed=1), lm_settings)


def test_metric_selection_by_glob():
    from arae.benchmark import BENCHMARKS
    from arae.runner import select_metrics, with_metrics
    import benchmarks  # noqa: F401
    spec = BENCHMARKS.get("snli_generation")
    assert [m.key for m in select_metrics(spec, ["*.rnnlm"])] == ["reverse_ppl.rnnlm", "forward_ppl.rnnlm"]
    assert len(select_metrics(spec, None)) == len(spec.metrics)
    assert select_metrics(spec, ["bleu*"]) == ()
    assert [s.name for s in with_metrics([spec, BENCHMARKS.get("bmnist")], ["*.rnnlm"])] == ["snli_generation"]
    with pytest.raises(ConfigError, match="no metric of the selected benchmarks matches.*snli_generation: reverse_ppl"):
        with_metrics([spec], ["bleu*"])


def test_a_perplexity_resting_on_too_few_known_words_says_so():
    from arae.metrics.base import OOV_WARNING, oov_note
    assert oov_note(0.05) == "OOV 5.0%" and "warning" not in oov_note(OOV_WARNING)
    assert oov_note(0.62, " of scored tokens").startswith("OOV 62.0% of scored tokens; warning: above 10%")


def test_the_fixed_vocabulary_flavour_scores_every_row_with_the_same_softmax(tmp_path):
    """Samples that are one sentence: with the tool's vocabulary the LM knows five words and real text is mostly
    one cheap <unk>; with the benchmark's vocabulary it must spread probability over every word."""
    from arae.metrics import METRICS
    real = _corpus(300)
    vocab = Vocab.build([s.split() for s in real], 1000).words
    collapsed = ["a man is sleeping ."] * 200
    ctx = EvalContext(outputs={"samples": collapsed}, train_text=real, eval_text=_corpus(80, seed=2),
                      vocab_words=vocab, workdir=tmp_path, params={"rnnlm": asdict(TINY_LM)})
    tool, fixed = METRICS.get("reverse_ppl.rnnlm")(ctx), METRICS.get("reverse_ppl.rnnlm_fixed")(ctx)
    assert tool.details["lm_vocab_size"] <= 10 and fixed.details["lm_vocab_size"] == len(Vocab(vocab))
    assert tool.details["oov_rate"] > 0.3 and fixed.details["oov_rate"] < tool.details["oov_rate"]
    assert "warning" in tool.rests_on and fixed.value > tool.value
