"""Word-swap robustness: the corruption, the per-sentence NLL, and the benchmark end to end."""
import json
import random

import pytest
import torch

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.cli import main as run_all
from arae.data.batching import collate
from arae.models.seq2seq import Seq2Seq
from arae.tasks.word_swap import swap_words, swapped


def test_k_swaps_permute_the_words_and_are_seeded():
    sentence = "a man is playing a guitar on stage .".split()
    assert swap_words(sentence, 0, random.Random(1)) == sentence
    assert swap_words(["hello"], 3, random.Random(1)) == ["hello"]
    for k in range(1, 5):
        out = swap_words(sentence, k, random.Random(k))
        assert sorted(out) == sorted(sentence) and len(out) == len(sentence)
    one = swap_words(sentence, 1, random.Random(7))
    assert sum(a != b for a, b in zip(one, sentence)) in (0, 2)  # one exchange (or two equal words)
    sentences = [sentence, sentence[::-1]]
    assert swapped(sentences, 3, 5) == swapped(sentences, 3, 5) != swapped(sentences, 3, 6)


def test_sentence_nll_sums_the_reconstruction_loss_per_sentence():
    torch.manual_seed(0)
    ae = Seq2Seq(30, 8, 16).eval()
    batch = collate([[5, 6, 7], [8, 9], [10, 11, 12, 13]])
    with torch.no_grad():
        per_sentence = ae.sentence_nll(batch.src, batch.src, batch.tgt, batch.lengths)
        mean_token = ae.reconstruction_loss(batch.src, batch.tgt, batch.lengths, noise=False)
    assert per_sentence.shape == (3,)
    assert float(per_sentence.sum() / batch.lengths.sum()) == pytest.approx(float(mean_token), rel=1e-5)
    noised = collate([[7, 6, 5], [9, 8], [10, 12, 11, 13]])
    with torch.no_grad():
        other = ae.sentence_nll(noised.src, batch.src, batch.tgt, batch.lengths)
    assert not torch.allclose(other, per_sentence)  # the code comes from the corrupted sentence


def test_word_swap_benchmark_end_to_end(fixture_data, tmp_path):
    out = tmp_path / "runs"
    assert run_all(["-b", "word_swap_robustness", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data),
                    "--set", "train.steps=10", "--set", "eval.swap_sentences=200"]) == 0
    results = {p.parent.parent.name: json.loads(p.read_text())
               for p in out.glob("word_swap_robustness/*/seed0-*/result.json")}
    assert set(results) == {"ae", "arae", "vae"}
    for result in results.values():
        assert all(result["metrics"][f"swap_nll@{k}"]["value"] > 0 for k in range(5))
        assert result["counts"]["sentences"] == 200 and [len(p["items"]) for p in result["previews"]] == [5] * 5
    # every row reads the same corrupted sentences
    sources = {row: [e["source"] for e in result["previews"][3]["items"]] for row, result in results.items()}
    assert sources["ae"] == sources["arae"] == sources["vae"] and results["ae"]["previews"][3]["title"] == "k = 3"
    html = (out / "report" / "word_swap_robustness.html").read_text()
    assert "<h2>Reconstructions (seed 0)</h2>" in html and "<h3>k = 3</h3>" in html and "original:" in html
