"""The `word_swap` task ([ICLR] Table 1): train an autoencoder, corrupt every test sentence with k random word
swaps, and score the NLL of the original sentence decoded from the corrupted sentence's code, for each k a
benchmark metric asks for. A swap exchanges two distinct positions chosen uniformly at random (the paper's
example "a woman sunglasses wearing ." is one such swap); the corruption depends on the seed index and k only,
so every row of a seed reads the same corrupted sentences."""
from __future__ import annotations

import random
import time

from arae.seeding import derive_seed
from arae.models.capabilities import ENCODES_SENTENCES
from arae.tasks.base import Produced, RunPlan, Task

N_EXAMPLES = 5  # qualitative examples per k, the same sentences for every row


def swap_words(sentence: list[str], k: int, rng: random.Random) -> list[str]:
    """k swaps of two distinct positions (none in a one-word sentence)."""
    words = list(sentence)
    for _ in range(k if len(words) > 1 else 0):
        i, j = rng.sample(range(len(words)), 2)
        words[i], words[j] = words[j], words[i]
    return words


def swapped(sentences: list[list[str]], k: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [swap_words(s, k, rng) for s in sentences]


def swap_counts(plan: RunPlan) -> list[int]:
    return sorted({m.params["swaps"] for m in plan.spec.metrics if "swaps" in m.params})


class WordSwap(Task):
    name = "word_swap"
    needs = frozenset({ENCODES_SENTENCES})

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        e = plan.config["eval"]
        began = time.perf_counter()
        originals = corpus.test[: e["swap_sentences"]] if e["swap_sentences"] else corpus.test
        shown = [i * len(originals) // N_EXAMPLES for i in range(N_EXAMPLES)]
        nll, previews = {}, []
        for k in swap_counts(plan):
            noised = swapped(originals, k, derive_seed(plan.spec.base_seed, plan.spec.name, "swaps", plan.seed_index, k))
            nll[k] = method.reconstruction_nll(noised, originals, e["sample_batch"])
            outputs = method.reconstruct([noised[i] for i in shown], e["sample_batch"])
            previews.append({"kind": "side_by_side", "section": "Reconstructions", "title": f"k = {k}", "items": [
                {"key": i, "source": " ".join(noised[i]) + f"   (original: {' '.join(originals[i])})", "output": " ".join(o)}
                for i, o in zip(shown, outputs)]})
        tokens = [len(s) + 1 for s in originals]  # + <eos>
        return Produced({"swap_nll": nll, "tokens": tokens}, previews, {"sentences": len(originals)},
                        seconds={"sample_seconds": round(time.perf_counter() - began, 3)})
