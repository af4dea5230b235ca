"""KenLM perplexity metrics against the real lmplz: a missing lmplz fails these tests, it never skips them."""
from __future__ import annotations

import math
from pathlib import Path
import random
import stat

import pytest

from arae.errors import SuiteError
from arae.metrics import METRICS, EvalContext, flavoured_name
from arae.metrics.diversity import unique_fraction
from arae.metrics.ngram_lm import (HOW_TO_GET_LMPLZ, NgramModel, find_lmplz, forward_ppl, perplexity,
                                   reverse_ppl, train_ngram)

# Log10 values are multiples of 1/8, exact in KenLM's float32, so the sums below are exact.
P = {"<unk>": -1.0, "<s>": -99.0, "</s>": -0.5, "a": -0.75, "b": -0.625}
BO = {"<s>": -0.25, "a": -0.5, "b": -0.125}
P2 = {("<s>", "a"): -0.25, ("a", "b"): -0.125, ("b", "a"): -0.375, ("b", "</s>"): -0.25}
TOY_ARPA = "\\data\\\nngram 1=5\nngram 2=4\n\n\\1-grams:\n" + "".join(
    f"{p}\t{w}\t{BO.get(w, 0.0)}\n" for w, p in P.items()) + "\n\\2-grams:\n" + "".join(
    f"{p}\t{u} {v}\n" for (u, v), p in P2.items()) + "\n\\end\\\n"


def _corpus(n: int = 400, seed: int = 0) -> list[str]:
    """A small template language with Zipf-distributed nouns (so some are rare, as in real text):
    varied enough for lmplz to estimate its discounts without the fallback."""
    rng = random.Random(seed)
    subj = ["a man", "a woman", "the dog", "two kids", "a girl", "the old man", "people", "a boy"]
    verb = ["is playing with", "is eating", "is sitting on", "is looking at", "walks past", "holds"]
    dets, nouns = ["the", "a", "one", "his", "her", "some"], [f"noun{k}" for k in range(1, 200)]
    tail = ["", "outside", "in the park", "at night", "near the house"]

    def zipf(words: list[str]) -> str:
        return rng.choices(words, [1 / k for k in range(1, len(words) + 1)])[0]

    return [" ".join(filter(None, [rng.choice(subj), rng.choice(verb), zipf(dets), zipf(nouns), rng.choice(tail), "."]))
            for _ in range(n)]


def test_hand_computed_perplexity_with_backoff_and_oov(tmp_path):
    arpa = tmp_path / "toy.arpa"
    arpa.write_text(TOY_ARPA)
    model = NgramModel.from_arpa(arpa)
    assert (model.order, model.vocab) == (2, {"a", "b"})

    res = perplexity(model, ["a b b a c", "b a"])
    log10 = [P2["<s>", "a"], P2["a", "b"],
             BO["b"] + P["b"],          # b | b: no bigram, back off to the unigram
             P2["b", "a"],
             BO["a"] + P["<unk>"],      # c is out of vocabulary: scored as <unk> after backing off
             BO["<s>"] + P["b"],        # b | <s>
             P2["b", "a"]]              # no </s>: eos is not scored
    assert (res.n_sentences, res.n_words, res.n_oov) == (2, 7, 1)
    assert res.oov_rate == pytest.approx(1 / 7)
    assert res.log_prob_ln == pytest.approx(sum(log10) * math.log(10), abs=1e-9)
    assert res.ppl == pytest.approx(math.exp(-sum(log10) * math.log(10) / 7), abs=1e-6)


def test_trained_model_prefers_training_sentences_to_scrambled_ones(tmp_path):
    corpus = _corpus()
    model = train_ngram(corpus, 3, tmp_path)
    assert not model.discount_fallback_used and model.n_train_sentences == len(corpus)
    seen = perplexity(model, [corpus[0]]).ppl
    scrambled = perplexity(model, [" ".join(reversed(corpus[0].split()))]).ppl
    assert math.isfinite(seen) and 1 < seen < scrambled


def test_discount_fallback_fires_on_degenerate_text_and_is_recorded(tmp_path):
    result = forward_ppl(["a man is playing a guitar ."] * 3, ["a man is playing ."], 5, tmp_path)
    assert result.value is not None and math.isfinite(result.value)
    assert result.details["discount_fallback"] is True
    lm_folder = tmp_path.parent / result.details["lm_artefact"]
    assert lm_folder.parent == tmp_path
    assert "BadDiscountException" in (lm_folder / "lmplz.log").read_text()
    assert "Substituting fallback discounts" in (lm_folder / "lmplz.discount_fallback.log").read_text()


def test_the_forward_lm_of_a_training_text_is_built_once_and_reused(tmp_path, monkeypatch):
    corpus = _corpus(50)
    first = forward_ppl(corpus, corpus[:5], 3, tmp_path)
    broken = tmp_path / "lmplz"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("ARAE_LMPLZ", str(broken))  # a rebuild would now fail
    again = forward_ppl(corpus, corpus[5:10], 3, tmp_path)
    assert again.value is not None and again.details["lm_artefact"] == first.details["lm_artefact"]
    assert not (tmp_path.parent / first.details["lm_artefact"] / "train.txt").exists()  # only the model is kept
    with pytest.raises(SuiteError):  # another text or order is another artefact
        forward_ppl(corpus[:40], corpus[:5], 3, tmp_path)


@pytest.mark.parametrize("samples", [[], ["", "  ", "<s> </s>"]])
def test_empty_samples_give_a_reason_not_a_number(tmp_path, samples):
    result = reverse_ppl(samples, ["a man is here ."], 5, tmp_path, ["a", "man"])
    assert result.value is None and "no non-empty sentence" in result.missing_reason
    assert not (tmp_path / "train.txt").exists()  # refused before lmplz
    result = forward_ppl(_corpus(50), samples, 3, tmp_path / "fwd")
    assert result.value is None and "no words" in result.missing_reason


def test_special_tokens_in_samples_do_not_crash_lmplz(tmp_path):
    model = train_ngram(["<s> a man <unk> here </s>", "a <unk> dog ."] * 2, 3, tmp_path)
    assert "<oov>" in model.vocab and not model.vocab & {"<unk>", "<s>", "</s>"}
    assert "<oov>" in model.path.read_text()
    assert perplexity(model, ["a <unk> dog ."]).n_oov == 0  # <unk> means <oov> on both sides


def test_reverse_ppl_reports_oov_rate_and_vocab_smoothing(tmp_path):
    samples = _corpus(200, seed=1)
    real = ["a man is eating the noun1 .", "a zebra is eating the noun1 ."]
    result = reverse_ppl(samples, real, 5, tmp_path, ["noun1", "zebra"])
    assert result.value is not None
    assert result.details["n_words"] == 14 and result.details["n_oov"] == 0  # zebra is in the vocab lines
    result = reverse_ppl(samples, real, 5, tmp_path / "novocab", [])
    d = result.details
    assert (d["n_oov"], d["oov_rate"], d["order"]) == (1, pytest.approx(1 / 14), 5)
    assert (d["n_samples"], d["n_vocab_lines"]) == (200, 0)
    assert reverse_ppl(samples, real, 5, tmp_path / "v", ["noun1", "zebra"]).details["vocab_line_share"] == 2 / 202
    assert d["protocol"] == "kenlm5, bos=True eos=False, natural log, vocab appended once"


def test_find_lmplz_honours_env_and_explains_how_to_get_it(tmp_path, monkeypatch):
    link = tmp_path / "my-lmplz"
    link.symlink_to(find_lmplz())
    monkeypatch.setenv("ARAE_LMPLZ", str(link))
    assert find_lmplz() == link
    monkeypatch.setenv("ARAE_LMPLZ", str(tmp_path / "missing"))
    with pytest.raises(SuiteError, match="bash scripts/setup.sh") as err:
        find_lmplz()
    assert HOW_TO_GET_LMPLZ in str(err.value)


@pytest.mark.parametrize("script, reason", [("echo 'cannot allocate memory' >&2; exit 1", "cannot allocate memory"),
                                            ("exit 0", "empty ARPA")])
def test_other_lmplz_failures_fail_the_run_rather_than_cache_a_missing_value(tmp_path, monkeypatch, script, reason):
    fake = tmp_path / "lmplz"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("ARAE_LMPLZ", str(fake))
    with pytest.raises(SuiteError, match=reason):
        forward_ppl(["a b c"], ["a b"], 3, tmp_path / "work")


def test_registry_flavours_and_unique_fraction(tmp_path):
    assert {"forward_ppl.kenlm", "reverse_ppl.kenlm", "unique_fraction"} <= set(METRICS.names())
    assert flavoured_name("reverse_ppl.kenlm", {"order": 4}) == "reverse_ppl.kenlm4"
    assert flavoured_name("forward_ppl.kenlm", {}) == "forward_ppl.kenlm5"
    assert flavoured_name("unique_fraction", {"order": 4}) == "unique_fraction"
    ctx = EvalContext(outputs={"samples": ["a b", "a b", "", "c d"]}, train_text=_corpus(50), eval_text=_corpus(5, seed=2),
                      vocab_words=["a", "b"], workdir=tmp_path, params={"order": 3})
    assert METRICS.get("unique_fraction")(ctx).to_dict() == {
        "value": 0.5, "missing_reason": None, "details": {"n_samples": 4, "n_distinct": 2, "n_empty": 1}, "rests_on": ""}
    assert METRICS.get("reverse_ppl.kenlm")(ctx).value is not None
    assert (tmp_path / "reverse_ppl.kenlm3" / "kenlm3.arpa").is_file()
    assert unique_fraction([]).missing_reason == "no samples"
