"""Latent vector arithmetic: the features read off spaCy's parse (as the official vector.py reads them), the
edit marks and precision, the benchmark end to end (training reused from snli_generation), and metrics missing
with the reason where the parser cannot be loaded."""
import json

import pytest
import torch

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.cli import main as run_all
from arae.metrics import METRICS, EvalContext, syntax
from arae.tasks.vector_arithmetic import mark_edits, unigram_precision

FLAVOUR = syntax.FLAVOUR
TRAIN = ["--set", "train.steps=10"]
VECTOR = ["--set", "eval.vector.pool=300", "--set", "eval.vector.sentences=4",
        "--set", "eval.vector.candidates=16", "--set", "eval.vector.samples=10", "--set", "eval.ae_fit_codes=100"]


@pytest.fixture(scope="module")
def parser():
    return syntax.load_parser()


def test_features_are_the_main_verb_the_subject_and_its_modifiers(parser):
    walking, standing, several, copula = parser.features(["a man is walking his dog .", "two women are standing .",
                                                          "several kids play in the park .", "a man is tall ."])
    assert walking == {"VERB": ["walking"], "NOUN": ["man"], "MOD": ["a"]}
    assert standing == {"VERB": ["standing"], "NOUN": ["women"], "MOD": ["two"]}
    assert several["NOUN"] == ["kids"] and "several" in several["MOD"] and syntax.has(several, "MOD_several")
    assert copula == {"VERB": [], "NOUN": [], "MOD": []}  # no verb: "is" is an auxiliary, as in spaCy 2's parse
    assert not syntax.has(walking, "VERB_standing") and syntax.has(standing, "VERB_standing")
    assert parser.description.startswith(f"{syntax.PIPELINE} {syntax.PIPELINE_VERSION} (spaCy 3.8")


def test_changed_words_are_marked_by_alignment_and_precision_clips_repeats():
    before, after = "a man is sitting on a bench .".split(), "two men are sitting on a bench outside .".split()
    assert mark_edits(before, after) == "[two] [men] [are] sitting on a bench [outside] ."
    assert mark_edits(before, before) == " ".join(before)
    assert unigram_precision("a a a dog".split(), "a dog runs".split()) == pytest.approx(2 / 4)
    assert unigram_precision([], "a dog".split()) == 0.0


def test_a_parser_that_cannot_be_loaded_leaves_every_metric_missing_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(syntax, "installed_versions", lambda: None)
    with pytest.raises(syntax.ParserUnavailable, match=r"pip install '\.\[parse\]'"):
        syntax.load_parser()
    monkeypatch.setattr(syntax, "installed_versions", lambda: {"spacy": "3.8.18", "pipeline": "3.7.1"})
    with pytest.raises(syntax.ParserUnavailable, match=f"3.7.1 is installed; this flavour is {FLAVOUR}"):
        syntax.load_parser()
    reason = "the English parser is not installed"
    ctx = EvalContext(outputs={"vector": None, "vector_missing": reason}, train_text=[], eval_text=[],
                      vocab_words=[], workdir=tmp_path, params={"target": "VERB_walking"})
    for metric in ("vector_match", "vector_precision", "vector_carriers"):
        value = METRICS.get(f"{metric}.{FLAVOUR}")(ctx)
        assert value.value is None and value.missing_reason == reason


def test_vector_arithmetic_end_to_end_reuses_snli_generation_training(fixture_data, tmp_path):
    out = tmp_path / "runs"
    common = ["--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data), *TRAIN]
    assert run_all(["-b", "snli_generation", "-r", "ae", "-r", "arae", "-m", "unique_fraction", *common]) == 0
    assert run_all(["-b", "vector_arithmetic", *common, *VECTOR]) == 0
    results = {p.parent.parent.name: json.loads(p.read_text()) for p in out.glob("vector_arithmetic/*/seed0-*/result.json")}
    assert set(results) == {"arae", "ae"}
    for row, result in results.items():
        assert result["timing"]["training_reused_from"].startswith(f"snli_generation/{row}/seed0")
        produced = json.loads(next(out.glob(f"vector_arithmetic/{row}/seed0-*/vector/outputs.json")).read_text())
        assert produced["pool"] == 300 and produced["parser"].startswith(f"parsed by {syntax.PIPELINE} 3.8.0")
        for target, outcome in produced["targets"].items():
            carriers = result["metrics"][f"vector_carriers.{FLAVOUR}@{target}"]
            assert carriers["value"] == outcome["carriers"]
            match = result["metrics"][f"vector_match.{FLAVOUR}@{target}"]
            if outcome["carriers"] == 0:
                assert match["value"] is None and "there is no offset towards it" in match["missing_reason"]
                continue
            assert 1 <= len(outcome["sentences"]) <= 4
            matched = [s["matched"] for s in outcome["sentences"]]
            assert match["value"] == pytest.approx(100 * sum(matched) / len(matched))
            for s in outcome["sentences"]:  # an original never has the target already; a match has it
                assert not syntax.has(syntax.featurize(_parse(s["original"])), target)
                if s["matched"]:
                    assert syntax.has(syntax.featurize(_parse(s["output"])), target)
    page = (out / "report" / "vector_arithmetic.html").read_text()
    assert "Match % ⇒walking" in page and "ARAE&#39;s offsets change the target feature more often" in page


_NLP = {}


def _parse(sentence: str):
    if "nlp" not in _NLP:
        _NLP["nlp"] = syntax.load_parser().nlp
    return _NLP["nlp"](sentence)


def test_latent_draws_are_seeded_and_sampled_decodes_differ_from_greedy(fixture_data, tmp_path):
    """An untrained AE is enough: its fitted Gaussian and decoder exist from the start."""
    from arae.benchmark import BENCHMARKS
    from arae.runner import load_corpus, plan_runs
    from arae.tasks.base import build_method
    spec = BENCHMARKS.get("vector_arithmetic")
    plan = next(p for p in plan_runs([spec], "smoke", 1, tmp_path, [], data_dir=fixture_data) if p.row.name == "ae")
    corpus, _ = load_corpus(plan.config, fixture_data)
    _, batcher, method = build_method(plan.config, "ae", corpus.train, plan.seed, torch.device("cpu"))
    latents = method.draw_latents(50, torch.Generator().manual_seed(3))
    assert torch.equal(latents, method.draw_latents(50, torch.Generator().manual_seed(3)))
    greedy = method.decode_latents(latents, 16)
    assert greedy == method.decode_latents(latents, 16)
    sampled = method.decode_latents(latents, 16, torch.Generator().manual_seed(0))
    assert sampled == method.decode_latents(latents, 16, torch.Generator().manual_seed(0)) and sampled != greedy
