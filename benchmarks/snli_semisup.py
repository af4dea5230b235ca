"""[ICLR] Table 5 (left): semi-supervised SNLI, test accuracy of a classifier learnt from 22.2% / 10.8% /
5.25% of the labelled pairs, on an encoder trained from the labels alone, pretrained as an AE, or as an
ARAE (docs/paper.md). The official code never released this experiment: every choice
the paper leaves open is ours, written here and in the README with its reason.

- Pool and labels: the fraction of the pool's pairs is picked per label (stratified) with a seed that
  depends on the seed index only, so every row of a seed learns from the same pairs; fractions are nested.
- Pretraining text: all the pool's sentences (premises without consecutive repeats, and hypotheses),
  labelled or not, as the paper's 715k / 655k sentences are the whole training set's. The ARAE row keeps
  sentences of at most 15 tokens (the paper's 655k "of length < 15", the official SNLI maxlen); the AE
  row keeps all (the paper's 715k), which `data.maxlen` 100 does (the longest SNLI sentence is 82 tokens).
  Each row's vocabulary is the most frequent words of its own pretraining sentences, as in the official
  code, so the AE row also knows the words that occur only in longer sentences (the result records
  each vocabulary's size).
- Classifier: [u, v, |u - v|, u * v] of the two unit-norm codes into an MLP with one hidden layer
  (InferSent's choice), Adam, the encoder fine-tuned (`classifier.finetune`): the supervised row trains
  its encoder on the labels, and Dai & Le (2015), whose AE the paper names as its baseline, fine-tune
  the pretrained encoder; freezing only the pretrained ones would compare unlike things.
- Model selection: the epoch with the best accuracy on SNLI dev where the pool is SNLI train; on the
  offline substitute (pool = SNLI dev) there is no labelled pair to spare, so the last epoch is kept.
"""
from arae.tasks.semisup import SemiSupervised
from arae.benchmark import BENCHMARKS, BenchmarkSpec, Claim, MetricSpec, Preset, Row
from arae.config import deep_merge
from benchmarks.snli_generation import PAPER_CONFIG as SNLI_GENERATION, VAE_SETTINGS, without_sampling

FRACTIONS = (0.222, 0.108, 0.0525)  # of the labelled pairs: the paper's 120k / 59k / 28k of 543k
ALL_SENTENCES = 100  # a data.maxlen that keeps every SNLI sentence

PAPER_CONFIG = without_sampling(SNLI_GENERATION, {
    "data": {"corpus": "snli_pairs"},
    "classifier": {"hidden": 300, "finetune": True, "epochs": 10, "batch_size": 64, "lr": 1e-3, "clip": 5.0,
                   "eval_batch": 1000},
})

SMALL_CONFIG = deep_merge(PAPER_CONFIG, {
    "model": {"emsize": 128, "nhidden": 128, "z_size": 32, "arch_g": "128-128", "arch_d": "128-128"},
    "train": {"steps": 2000, "epochs": 0, "log_every": 200, "checkpoint_every": 500, "grad_lambda": 0.01},
    "classifier": {"hidden": 128, "epochs": 15},
})

SMOKE_CONFIG = deep_merge(PAPER_CONFIG, {
    "data": {"vocab_size": 3000},
    "model": {"emsize": 32, "nhidden": 32, "z_size": 8, "arch_g": "32-32", "arch_d": "32-32"},
    "train": {"steps": 150, "epochs": 0, "batch_size": 32, "critic_iters": 2, "log_every": 50,
              "checkpoint_every": 50, "diag_samples": 50, "grad_lambda": 0.01},
    "classifier": {"hidden": 32, "epochs": 2},
})


def _accuracy(fraction: float) -> MetricSpec:
    return MetricSpec("nli_acc", f"{fraction * 100:g}% labels", "higher",
                      "test accuracy on SNLI test; the number of labelled pairs is beside each value",
                      params={"fraction": fraction})


def _paper(*accuracies: float) -> dict:
    return {f"nli_acc@{f}": a for f, a in zip(FRACTIONS, accuracies)}


def _claims(text: str, better: str, worse: str) -> tuple:
    return tuple(Claim(f"{f * 100:g}% labels: {text}", f"nli_acc@{f}", better, worse) for f in FRACTIONS)


SPEC = BenchmarkSpec(
    name="snli_semisup",
    version=1,
    task=SemiSupervised,
    user_corpus="snli_pairs",
    title_on_user_data="Semi-supervised classification of sentence pairs on {corpus}",
    title="Semi-supervised SNLI: test accuracy from a fraction of the labelled pairs",
    paper_ref="[ICLR] Table 5 (left)",
    rows=(
        Row("majority", "Majority class", "majority_class",
            note="the most frequent label of the labelled pairs, predicted for every test pair: chance level"),
        Row("supervised", "Supervised encoder", "untrained_encoder", shows=("classifier.finetune",),
            note="the encoder at its initial weights, trained with the classifier on the labelled pairs only"),
        Row("ae", "Semi-supervised AE", "ae", overrides={"data": {"maxlen": ALL_SENTENCES}},
            shows=("data.maxlen", "classifier.finetune"),
            note="encoder pretrained as a plain AE on all the pool's sentences (maxlen 100 keeps every one)"),
        Row("vae", "Semi-supervised VAE", "vae", overrides={"data": {"maxlen": ALL_SENTENCES}, "vae": VAE_SETTINGS},
            shows=("data.maxlen", "classifier.finetune"),
            note="not in the paper's table: encoder pretrained as snli_generation's VAE (Bowman et al. 2016) on all the "
                 "pool's sentences like the AE row; sentences are encoded by their posterior means"),
        Row("arae", "Semi-supervised ARAE", "arae", shows=("data.maxlen", "train.grad_lambda", "classifier.finetune"),
            note="encoder pretrained as an ARAE on the pool's sentences of at most 15 tokens"),
    ),
    metrics=tuple(_accuracy(f) for f in FRACTIONS),
    paper={"supervised": _paper(0.659, 0.625, 0.579), "ae": _paper(0.685, 0.646, 0.599),
           "arae": _paper(0.709, 0.668, 0.625)},
    claims=_claims("ARAE > AE", "arae", "ae") + _claims("AE > supervised", "ae", "supervised"),
    notes=(
        "The paper's fractions are of SNLI train (550k pairs: 120k / 59k / 28k labelled, the rest unlabelled); "
        "offline, the pool is SNLI dev (9,842 pairs), so the same fractions are 2,185 / 1,063 / 517 pairs. "
        "Each value states its number of labelled pairs.",
        "The classifier, its features and fine-tuning are not in the paper's main text: see "
        "benchmarks/snli_semisup.py for each choice and its reason.",
    ),
    presets={
        "smoke": Preset(SMOKE_CONFIG, seeds=1, note="smoke preset: 32-dim encoders, 150 pretraining iterations, "
                                                    "2 classifier epochs; a plumbing check, not comparable to the paper"),
        "small": Preset(SMALL_CONFIG, seeds=3,
                        note="small preset: 128-dim encoders pretrained 2,000 iterations on the offline pool "
                             "(SNLI dev), grad_lambda 0.01 as in snli_generation's small preset (0.1 collapses at this "
                             "size), classifiers of 15 epochs. 3 seeds. Not comparable to the paper"),
        "paper": Preset(PAPER_CONFIG, seeds=3, comparable_to_paper=True,
                        note="paper preset: the official run_snli.py encoder settings (15 epochs of pretraining); "
                             "classifier settings are ours (the paper does not give them)"),
    },
)
BENCHMARKS.add(SPEC.name, SPEC)
