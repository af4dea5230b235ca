"""The VAE baseline: Bowman's KL annealing, a training step's losses, determinism, and the active-unit
count that says whether the code is used."""
import math

import pytest
import torch

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.benchmark import BENCHMARKS
from arae.tasks.base import build_method
from baselines.vae import kl_weight
from conftest import TINY_SENTENCES


def test_kl_weight_rises_along_a_logistic_over_its_share_of_training():
    assert kl_weight(0, 1000, 0.0) == 1.0  # no annealing
    assert kl_weight(0, 1000, 0.5) == pytest.approx(1 / (1 + math.exp(5)))
    assert kl_weight(250, 1000, 0.5) == pytest.approx(0.5)
    assert kl_weight(500, 1000, 0.5) > 0.99 and kl_weight(900, 1000, 0.5) > 0.999
    weights = [kl_weight(s, 1000, 0.5) for s in range(0, 1000, 50)]
    assert weights == sorted(weights)


def _vae(seed: int = 0):
    cfg = BENCHMARKS.get("snli_generation").presets["smoke"].config
    cfg = cfg | {"train": cfg["train"] | {"batch_size": 8, "diag_samples": 12}}
    torch.manual_seed(seed)
    sentences = [s.split() for s in TINY_SENTENCES * 4]
    _, batcher, method = build_method(cfg, "vae", sentences, seed, torch.device("cpu"))
    return batcher, method


def test_a_step_logs_nll_kl_and_its_weight_and_is_deterministic():
    runs = []
    for _ in range(2):
        batcher, method = _vae()
        torch.manual_seed(1)
        runs.append([method.train_step(step, batcher) for step in range(3)])
    for first, again in zip(*runs):
        assert set(first) == {"nll_per_token", "kl", "kl_weight"}
        assert all(torch.equal(first[k], again[k]) for k in first)
        assert float(first["kl"]) >= 0 and math.isfinite(float(first["nll_per_token"]))


def test_active_units_count_the_code_dimensions_the_posterior_uses():
    batcher, method = _vae()
    with torch.no_grad():
        method.vae.to_mean.weight.zero_()
        method.vae.to_mean.bias.zero_()
    assert method.diagnostics(0, batcher) == {"active_units": 0}  # a posterior that ignores its input
    with torch.no_grad():
        method.vae.to_mean.weight.copy_(torch.eye(method.vae.to_mean.weight.size(0)) * 50)
    active = method.diagnostics(0, batcher)["active_units"]
    assert 0 < active <= method.cfg["model"]["nhidden"]


def test_samples_come_from_the_prior_and_are_words():
    _, method = _vae()
    samples = method.sample(5, torch.Generator().manual_seed(0))
    assert len(samples) == 5 and all(isinstance(w, str) for s in samples for w in s)


def test_its_sentence_code_is_the_posterior_mean_and_classifiers_tune_the_layer_that_makes_it():
    from arae.models.pair_classifier import PairClassifier
    batcher, method = _vae()
    encoder, batch = method.sentence_encoder(), batcher.batch(0)
    encoder.eval()
    with torch.no_grad():
        assert torch.equal(encoder.encode(batch.src, batch.lengths), encoder.posterior(batch.src, batch.lengths)[0])
    with pytest.raises(ValueError, match="posterior"):
        encoder.encode(batch.src, batch.lengths, noise=True)
    tuned = {id(p) for p in PairClassifier(encoder, 16, finetune=True).trainable()}
    assert id(encoder.to_mean.weight) in tuned and id(encoder.to_logvar.weight) not in tuned
    assert len(method.reconstruction_nll([s.split() for s in TINY_SENTENCES[:3]], [s.split() for s in TINY_SENTENCES[:3]], 8)) == 3
