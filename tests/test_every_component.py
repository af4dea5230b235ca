"""Every registered benchmark x preset x row builds its model, trains a step and produces the output its
task reads (samples, transfers, or a pair classifier's labels), on tiny data (the benchopt-style generic test): a preset that names
a missing key or model fails here, not on a GPU."""
import math

import numpy as np
import pytest
import torch

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.benchmark import BENCHMARKS
from arae.config import deep_merge
from arae.data.batching import ImageBatcher
from arae.models import MODELS
from arae.data.readers import NLI_LABELS, NLIPair
from arae.metrics import METRICS
from arae.runner import plan_runs
from arae.tasks.base import build_method
from conftest import TINY_SENTENCES

def _check_image_row(model: str, cfg: dict) -> None:
    pixels = (np.random.default_rng(0).random((40, 784)) > 0.5).astype(np.uint8)
    labels = np.arange(40) % 10
    method, batcher = MODELS.get(model)(None, cfg, torch.device("cpu")), ImageBatcher(pixels, 8, 0)
    method.prepare({"train": (pixels, labels), "test": (pixels, labels)}, batcher)
    if method.trains:
        losses = method.train_step(0, batcher)
        assert all(math.isfinite(float(v)) for v in losses.values()), (model, losses)
    samples = method.sample(3, torch.Generator().manual_seed(0))
    assert samples.shape == (3, 784) and set(samples.unique().tolist()) <= {0, 1}, model


CASES = [(b, preset) for b in BENCHMARKS.names() for preset in BENCHMARKS.get(b).presets]


@pytest.mark.parametrize("benchmark, preset", CASES)
def test_each_row_trains_a_step_and_samples(benchmark, preset, tmp_path, fixture_data):
    spec = BENCHMARKS.get(benchmark)
    assert set(spec.paper) <= {r.name for r in spec.rows_for(preset)}
    if spec.task.name != "perf":  # the perf task measures its own metrics
        assert all(METRICS.get(m.metric) for m in spec.metrics)
    sentences = [s.split() for s in TINY_SENTENCES * 4]
    styles = [sentences[::2], sentences[1::2]]
    for plan in plan_runs([spec], preset, 1, tmp_path, [], data_dir=fixture_data):
        torch.manual_seed(0)
        cfg = deep_merge(plan.config, {"train": {"batch_size": 8}})
        if spec.task.name == "images":
            _check_image_row(plan.row.model, cfg)
            continue
        _, batcher, method = build_method(cfg, plan.row.model, sentences, 0, torch.device("cpu"), styles=styles)
        if method.trains:
            losses = method.train_step(0, batcher)
            assert all(math.isfinite(float(v)) for v in losses.values()), (plan.name, losses)
        if spec.task.name == "transfer":
            outputs = method.transfer(styles[0][:3], 0, 1)
        elif spec.task.name == "word_swap":
            outputs = method.reconstruct(sentences[:3], 8)
            assert len(method.reconstruction_nll(sentences[:3], sentences[:3], 8)) == 3
        elif spec.task.name == "interpolation":
            if cfg["eval"]["interpolate"] == "noise":
                outputs = method.decode_noise(torch.randn(3, cfg["model"]["z_size"]), 8)
            else:
                outputs = method.decode_codes(method.encode_sentences(sentences[:3], 8), 8)
        elif spec.task.name == "semisup":
            pairs = [NLIPair(sentences[i], sentences[i + 1], NLI_LABELS[i % 3]) for i in range(12)]
            predict = method.fit_pair_classifier(pairs, pairs[:3], cfg["classifier"] | {"epochs": 1}, 0, print)
            outputs = predict(pairs[:3])
            assert set(outputs) <= set(NLI_LABELS), plan.name
        else:
            outputs = method.sample(3, torch.Generator().manual_seed(0))
        assert len(outputs) == 3 and all(isinstance(w, str) for s in outputs for w in s), plan.name
