"""Every registered benchmark x preset x row builds its model the way its task does, trains a step, and gives
what its task will ask of it, probed per capability (arae/models/capabilities.py) on the synthetic data (the
benchopt-style generic test): a preset that names a missing key or model fails here, not on a GPU. No task is
named here: a new task is covered by the capabilities it needs."""
import dataclasses
import math

import numpy as np
import pytest
import torch

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.benchmark import BENCHMARKS
from arae.config import deep_merge
from arae.data.readers import NLI_LABELS
from arae.metrics import METRICS
from arae.models import capabilities as can
from arae.runner import load_corpus, plan_runs


def _words(outputs) -> list:
    assert len(outputs) == 3 and all(isinstance(w, str) for s in outputs for w in s), outputs
    return outputs


def _pairs(method, corpus, cfg):
    pool = corpus.pairs["pool"][:30]
    predict = method.fit_pair_classifier(pool, pool[:3], cfg["classifier"] | {"epochs": 1}, 0, lambda _: None)
    labels = predict(pool[:3])
    assert len(labels) == 3 and set(labels) <= set(NLI_LABELS), labels
    return labels


def _images(method, corpus, cfg):
    samples = method.sample(3, torch.Generator().manual_seed(0))
    assert samples.shape == (3, 784) and set(np.unique(np.asarray(samples)).tolist()) <= {0, 1}, samples.shape
    return samples


def _codes(method, corpus, cfg):
    assert len(method.reconstruction_nll(corpus.test[:3], corpus.test[:3], 8)) == 3
    return _words(method.decode_codes(method.encode_sentences(corpus.test[:3], 8), 8))


def _latents(method, corpus, cfg):
    latents = method.draw_latents(3, torch.Generator().manual_seed(0))
    assert torch.equal(latents, method.draw_latents(3, torch.Generator().manual_seed(0)))
    return _words(method.decode_latents(latents, 2, torch.Generator().manual_seed(0)))


PROBES = {  # capability -> what a task that needs it asks of the method, on a few examples
    can.SAMPLES_TEXT: lambda method, corpus, cfg: _words(method.sample(3, torch.Generator().manual_seed(0))),
    can.TRANSFERS: lambda method, corpus, cfg: _words(method.transfer(corpus.by_style["test"][0][:3], 0, 1)),
    can.ENCODES_SENTENCES: _codes,
    can.DECODES_NOISE: lambda method, corpus, cfg: _words(method.decode_latents(torch.randn(3, cfg["model"]["z_size"]), 8)),
    can.SAMPLES_LATENTS: _latents,
    can.CLASSIFIES_PAIRS: _pairs,
    can.GENERATES_IMAGES: _images,
}

CASES = [(b, preset) for b in BENCHMARKS.names() for preset in BENCHMARKS.get(b).presets]


def test_every_capability_has_a_probe():
    assert set(PROBES) == {v for k, v in vars(can).items() if k.isupper()}


@pytest.mark.parametrize("benchmark, preset", CASES)
def test_each_row_trains_a_step_and_gives_what_its_task_needs(benchmark, preset, tmp_path, fixture_data):
    spec = BENCHMARKS.get(benchmark)
    assert set(spec.paper) <= {r.name for r in spec.rows_for(preset)}
    if not spec.task.measures_itself:
        assert all(m.metric in METRICS.names() for m in spec.metrics)
    task = spec.task()
    for plan in plan_runs([spec], preset, 1, tmp_path, [], data_dir=fixture_data):
        torch.manual_seed(0)
        plan = dataclasses.replace(plan, config=deep_merge(plan.config, {"train": {"batch_size": 8}}))
        corpus, _ = load_corpus(plan.config, fixture_data)
        _, batcher, method = task.build(plan, corpus, torch.device("cpu"))
        if method.trains:
            losses = method.train_step(0, batcher)
            assert all(math.isfinite(float(v)) for v in losses.values()), (plan.name, losses)
        for capability in sorted(task.needs_for(plan.config)):
            PROBES[capability](method, corpus, plan.config)
