"""[ICLR] Figure 3 (right): ARAE on binarized MNIST against a plain autoencoder (docs/paper.md)."""
from arae.tasks.images import Images
from arae.benchmark import BENCHMARKS, BenchmarkSpec, MetricSpec, Preset, Row
from arae.config import deep_merge

# bmnist/main.lua's settings (docs/paper.md): 100 "epochs" of 100 iterations, batch 100.
PAPER_CONFIG = {
    "data": {"corpus": "mnist", "path": None},
    "model": {"arch_enc": "800-400", "arch_dec": "400-800-1000", "code_size": 100, "noise_std": 0.4,
              "noise_anneal": 0.99, "z_size": 32, "arch_g": "64-100-150", "arch_d": "100-60-20"},
    "train": {"steps": 10000, "epochs": 0, "batch_size": 100, "lr_ae": 5e-4, "lr_gan_g": 5e-4, "lr_gan_d": 5e-5,
              "critic_iters": 10, "clip_d": 0.05, "grad_lambda": 0.2, "log_every": 100, "checkpoint_every": 1000,
              "amp": "none"},
    "eval": {"n_samples": 10000, "sample_batch": 1000, "ae_fit_codes": 10000, "interpolate": "noise"},
}

SMALL_CONFIG = deep_merge(PAPER_CONFIG, {"train": {"steps": 1500, "log_every": 50, "checkpoint_every": 250}})

SMOKE_CONFIG = deep_merge(PAPER_CONFIG, {
    "model": {"arch_enc": "128", "arch_dec": "128", "code_size": 32, "z_size": 16, "arch_g": "32-32",
              "arch_d": "32-32"},
    "train": {"steps": 150, "critic_iters": 3, "log_every": 25, "checkpoint_every": 75},
    "eval": {"n_samples": 1000, "ae_fit_codes": 2000},
})

CLASSIFIER_METRICS = ("digit_coverage.mlp", "digit_confidence.mlp")

SPEC = BenchmarkSpec(
    name="bmnist",
    version=1,
    task=Images,
    title="Binarized MNIST: ARAE against a plain autoencoder",
    paper_ref="[ICLR] Figure 3 (right)",
    rows=(
        Row("real", "Real test images", "real_mnist", metrics=CLASSIFIER_METRICS,
            note="MNIST test images as the samples: the level a perfect generator reaches under the classifier"),
        Row("ae", "AE", "ae_mnist", overrides={"eval": {"interpolate": "codes"}},
            note="ARAE's autoencoder (noise schedule included) trained on reconstruction alone; samples decode codes "
                 "from a Gaussian fitted to training codes, projected onto the unit sphere; interpolations between "
                 "the codes of two test images"),
        Row("arae", "ARAE", "arae_mnist",
            note="samples decode the generator's codes of z ~ N(0, I); interpolations between two noise vectors"),
    ),
    metrics=(
        MetricSpec("recon_nll", "Reconstruction NLL", "lower",
                   "test images from their noise-free codes, nats per image (784 pixels)"),
        MetricSpec("pixel_error", "Pixel error", "lower", "share of test pixels reconstructed wrong"),
        MetricSpec("digit_coverage.mlp", "Digit coverage", "higher",
                   "effective number of digit classes among the samples, exp(entropy of the predicted classes), "
                   "under an MLP classifier trained on the real binarized training images (1 to 10)"),
        MetricSpec("digit_confidence.mlp", "Digit confidence", "higher",
                   "the classifier's mean top-class probability on the samples; its own test accuracy and its "
                   "confidence on real test images are in each value's details"),
    ),
    paper={},
    notes=("The paper shows binarized MNIST as pictures only (interpolations, Figure 3 right): it has no numbers "
           "to compare with. The numbers here are ours, defined in arae/metrics/digits.py.",),
    presets={
        "smoke": Preset(SMOKE_CONFIG, seeds=1, note="smoke preset: 128-unit autoencoder, 150 iterations with 3 "
                                                    "critic steps each; a plumbing check, not a result"),
        "small": Preset(SMALL_CONFIG, seeds=3, note="small preset: the official architecture and settings, 1,500 "
                                                    "of the official 10,000 iterations"),
        "paper": Preset(PAPER_CONFIG, seeds=1, comparable_to_paper=True,
                        note="paper preset: bmnist/main.lua's settings, 10,000 iterations"),
    },
)
BENCHMARKS.add(SPEC.name, SPEC)
