"""[ICLR] Figure 4 (left): latent vector arithmetic on SNLI. Adding the offset between the mean latent points of
generated sentences with and without a feature (main verb, subject, subject modifier) should make a sentence
take that feature: "Match %" counts sentences for which one of 100 samples has it, "Prec." how much of the
sentence the change keeps. The paper's numbers are in an image that could not be read: this benchmark has the
paper's claim, and no paper numbers. The models and their training are snli_generation's, reused where both
benchmarks run into the same output folder (same seeds, same training key)."""
from arae.benchmark import BENCHMARKS, BenchmarkSpec, Claim, MetricSpec, Preset, Row
from arae.config import deep_merge
from arae.metrics.syntax import FLAVOUR
from arae.tasks.vector_arithmetic import VectorArithmetic
from benchmarks.snli_generation import PAPER_CONFIG as GENERATION, SMALL_CONFIG as GENERATION_SMALL
from benchmarks.snli_generation import SMOKE_CONFIG as GENERATION_SMOKE

# the paper's six transformations, as the official code names features (lowercased, as the corpus is)
TARGETS = {"VERB_walking": "⇒walking", "NOUN_man": "⇒man", "MOD_two": "⇒Two", "NOUN_dog": "⇒dog",
           "VERB_standing": "⇒standing", "MOD_several": "⇒Several"}
PARSED = f"parsed with spaCy's {FLAVOUR} pipeline"


def _config(generation: dict, pool: int, sentences: int) -> dict:
    """snli_generation's config whole (so its training key is the same), with the vector settings added."""
    return deep_merge(generation, {"eval": {"vector": {"pool": pool, "sentences": sentences, "samples": 100,
                                                       "candidates": 4 * sentences}}})


SMALL_ARAE = {"train": {"grad_lambda": 0.01}}

SPEC = BenchmarkSpec(
    name="vector_arithmetic",
    version=1,
    task=VectorArithmetic,
    seeds_from="snli_generation",
    title="Latent vector arithmetic: moving a sentence towards a feature (SNLI)",
    paper_ref="[ICLR] Figure 4 (left)",
    rows=(
        Row("arae", "ARAE", "arae", shows=("train.grad_lambda",),
            note="offsets in the generator's noise space z, as the official vector.py takes them"),
        Row("ae", "AE", "ae", note="offsets among codes drawn from the Gaussian fitted to its training codes "
                                   "(its snli_generation sampler), decoded after projection onto the unit sphere"),
    ),
    metrics=tuple(MetricSpec(f"vector_match.{FLAVOUR}", f"Match % {label}", "higher",
                             f"% of sentences for which one of 100 samples from the moved point has the feature "
                             f"({PARSED})", params={"target": target}) for target, label in TARGETS.items())
    + tuple(MetricSpec(f"vector_precision.{FLAVOUR}", f"Prec. {label}", "higher",
                       "unigram precision of the first matching sample against the original sentence, over "
                       "sentences with a match (our reading: the paper's definition is in an appendix we could "
                       "not read)", params={"target": target}) for target, label in TARGETS.items())
    + tuple(MetricSpec(f"vector_carriers.{FLAVOUR}", f"Carriers {label}", "none",
                       f"generated sentences with the feature, whose mean point the offset points to ({PARSED})",
                       params={"target": target}) for target, label in TARGETS.items()),
    paper={},
    claims=tuple(Claim(f"{label}: ARAE's offsets change the target feature more often than the AE's",
                       f"vector_match.{FLAVOUR}@{target}", "arae", "ae") for target, label in TARGETS.items()),
    notes=("The paper reports Match % and Prec. for these six transformations in a figure whose numbers could not "
           "be read, so no paper number is shown; the claims are the paper's reading of it.",
           f"Features are read off a dependency parse ({PARSED}) as the official code reads them: the main verb "
           "(VERB_), the nominal subject (NOUN_) and the subject's modifiers (MOD_)."),
    presets={
        "smoke": Preset(_config(GENERATION_SMOKE, 2000, 10), seeds=1,
                        note="smoke preset: snli_generation's smoke models, 2,000 generated sentences, 10 sentences "
                             "per transformation; a plumbing check"),
        "small": Preset(_config(GENERATION_SMALL, 20000, 50), seeds=3,
                        row_overrides={"arae": SMALL_ARAE},
                        note="small preset: snli_generation's small models (ARAE with grad_lambda 0.01), 20,000 "
                             "generated sentences, 50 sentences per transformation, 3 seeds"),
        "paper": Preset(_config(GENERATION, 1000000, 100), seeds=3, comparable_to_paper=True,
                        note="paper preset: the official run_snli.py settings, 1M generated sentences (the paper's "
                             "count), 100 sentences per transformation (the official --nsent), 3 seeds"),
    },
)
BENCHMARKS.add(SPEC.name, SPEC)
