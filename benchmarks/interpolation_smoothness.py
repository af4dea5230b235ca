"""[ICLR] Figure 3 / section 5 (qualitative in the paper): decodes along lines between two noise vectors (the
ARAE generator) and between the codes of two test sentences (AE and ARAE), 5 points per line, with a number
for how smooth each path is (`path_excess`, defined in arae/metrics/interpolation.py and the README). The
models and their training are snli_generation's presets."""
from arae.tasks.interpolation import Interpolation
from arae.benchmark import BENCHMARKS, BenchmarkSpec, Claim, MetricSpec, Preset, Row
from benchmarks.snli_generation import PAPER_CONFIG as GENERATION, SMALL_CONFIG as GENERATION_SMALL
from benchmarks.snli_generation import SMOKE_CONFIG as GENERATION_SMOKE, without_sampling


def _config(generation: dict, n_paths: int) -> dict:
    return without_sampling(generation, {"eval": {"interpolate": "codes", "interpolation_steps": 5,
                                                  "n_paths": n_paths}})


NOISE = {"eval": {"interpolate": "noise"}}
SMALL_ARAE = {"train": {"grad_lambda": 0.01}}

SPEC = BenchmarkSpec(
    name="interpolation_smoothness",
    version=1,
    task=Interpolation,
    title="Interpolations: decodes along lines between two codes, and how smoothly they change",
    paper_ref="[ICLR] section 5 and Figure 3 (qualitative)",
    rows=(
        Row("arae_noise", "ARAE, between two noise vectors", "arae", overrides=NOISE,
            note="two z ~ N(0, I) per path, each point decoded through the generator"),
        Row("arae_codes", "ARAE, between two sentences", "arae", seed_row="arae_noise",
            note="the arae_noise row's own model (same training, reused), between the codes of two test sentences"),
        Row("ae_codes", "AE, between two sentences", "ae", note="the same test sentence pairs, a plain AE"),
    ),
    metrics=(MetricSpec("path_excess", "Path excess", "lower",
                        "sum of word edit distances between consecutive decodes over the edit distance between the "
                        "path's ends (1 = straight); paths whose ends decode alike are counted apart"),),
    paper={},
    claims=(Claim("ARAE's code space interpolates more smoothly than the AE's (shown qualitatively in the paper)",
                  "path_excess", "arae_codes", "ae_codes"),),
    presets={
        "smoke": Preset(_config(GENERATION_SMOKE, 100), seeds=1,
                        note="smoke preset: snli_generation's smoke models, 100 paths; a plumbing check"),
        "small": Preset(_config(GENERATION_SMALL, 1000), seeds=3,
                        row_overrides={"arae_noise": SMALL_ARAE, "arae_codes": SMALL_ARAE},
                        note="small preset: snli_generation's small models (ARAE with grad_lambda 0.01), 1,000 "
                             "paths, 3 seeds"),
        "paper": Preset(_config(GENERATION, 1000), seeds=3, comparable_to_paper=True,
                        note="paper preset: the official run_snli.py settings, 1,000 paths"),
    },
)
BENCHMARKS.add(SPEC.name, SPEC)
