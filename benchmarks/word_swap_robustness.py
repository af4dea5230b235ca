"""[ICLR] Table 1 (left): robustness to word-swap noise on SNLI: the NLL of reconstructing the original
sentence from its version with k = 0..4 random word swaps, AE against ARAE (docs/paper.md).

The models and their training are snli_generation's (same presets); the evaluation is the whole SNLI test
split (a capped, evenly taken share at `smoke`). The paper's NLL is "averaged over sentences": ours is the
NLL summed over each sentence's tokens (<eos> included), averaged over sentences; the per-token NLL is in
the details. How the paper drew its swaps is not documented: see arae/robustness.py for ours.
"""
from arae.tasks.word_swap import WordSwap
from arae.benchmark import BENCHMARKS, BenchmarkSpec, Claim, MetricSpec, Preset, Row
from benchmarks.snli_generation import PAPER_CONFIG as GENERATION, SMALL_CONFIG as GENERATION_SMALL
from benchmarks.snli_generation import SMOKE_CONFIG as GENERATION_SMOKE, VAE_SETTINGS, without_sampling

SWAPS = (0, 1, 2, 3, 4)
PAPER = {"ae": (1.06, 4.51, 6.61, 9.14, 9.97), "arae": (2.19, 4.07, 5.39, 6.86, 7.47)}


def _config(generation: dict, swap_sentences: int) -> dict:
    return without_sampling(generation, {"eval": {"swap_sentences": swap_sentences}})


SPEC = BenchmarkSpec(
    name="word_swap_robustness",
    version=1,
    task=WordSwap,
    title="Robustness to word-swap noise: NLL of the original sentence from a corrupted one (SNLI)",
    paper_ref="[ICLR] Table 1 (left)",
    rows=(
        Row("ae", "AE", "ae", note="the autoencoder trained on reconstruction alone"),
        Row("arae", "ARAE", "arae", shows=("train.grad_lambda",), note="the same autoencoder with the adversarial regulariser"),
        Row("vae", "VAE", "vae", overrides={"vae": VAE_SETTINGS},
            note="not in the paper's table: snli_generation's VAE row (Bowman et al. 2016); a corrupted sentence's "
                 "code is its posterior mean"),
    ),
    metrics=tuple(MetricSpec("swap_nll", f"k = {k}", "lower",
                             "NLL of the original sentence (summed over its tokens, averaged over sentences) decoded "
                             f"from the code of the sentence with {k} random word swaps", params={"swaps": k})
                  for k in SWAPS),
    paper={row: {f"swap_nll@{k}": v for k, v in zip(SWAPS, values)} for row, values in PAPER.items()},
    claims=(Claim("k = 0: the AE reconstructs clean sentences better", "swap_nll@0", "ae", "arae"),)
    + tuple(Claim(f"k = {k}: ARAE is more robust than the AE", f"swap_nll@{k}", "arae", "ae") for k in SWAPS[1:]),
    notes=("Each swap exchanges two distinct positions chosen uniformly at random; a seed's corruptions are the "
           "same for both rows. The paper's own swap procedure and test sentences are not documented.",),
    presets={
        "smoke": Preset(_config(GENERATION_SMOKE, 2000), seeds=1,
                        note="smoke preset: snli_generation's smoke models, 2,000 test sentences; a plumbing check"),
        "small": Preset(_config(GENERATION_SMALL, 0), seeds=3,
                        row_overrides={"arae": {"train": {"grad_lambda": 0.01}}},
                        note="small preset: snli_generation's small models (128-dim, 2,000 iterations, ARAE with "
                             "grad_lambda 0.01) on the offline substitute, the whole test split, 3 seeds. Not "
                             "comparable to the paper"),
        "paper": Preset(_config(GENERATION, 0), seeds=3, comparable_to_paper=True,
                        note="paper preset: the official run_snli.py settings, 15 epochs"),
    },
)
BENCHMARKS.add(SPEC.name, SPEC)
