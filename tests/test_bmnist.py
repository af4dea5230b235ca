"""Binarized MNIST: the idx reader, the corpus, the image ARAE's step, the digit metrics, and the benchmark end to end."""
from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
import torch

from arae.cli import main
from arae.data import ImageCorpus, build_corpus
from arae.data.batching import ImageBatcher
from arae.data.images import binarize, read_idx
from arae.errors import DataError, MetricNotComputable
from arae.io import read_json
from arae.metrics import METRICS, EvalContext
from arae.models.image_arae import ImageARAE, noise_std
from benchmarks.bmnist import SMOKE_CONFIG


def _idx(path, kind, array):
    magic, dims = (2051, [len(array), 28, 28]) if kind == "images" else (2049, [len(array)])
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_are_read_and_bad_ones_name_the_file(tmp_path):
    images = np.arange(3 * 784).reshape(3, 784) % 256
    _idx(tmp_path / "x.gz", "images", images)
    assert np.array_equal(read_idx(tmp_path / "x.gz", "images"), images)
    _idx(tmp_path / "y.gz", "labels", np.array([3, 1, 4]))
    with pytest.raises(DataError, match=r"y\.gz: not an idx images file"):
        read_idx(tmp_path / "y.gz", "images")
    with gzip.open(tmp_path / "short.gz", "wb") as f:
        f.write((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"\1\2")
    with pytest.raises(DataError, match=r"short\.gz: truncated"):
        read_idx(tmp_path / "short.gz", "labels")
    assert binarize(np.array([0, 127, 128, 255])).tolist() == [0, 0, 1, 1]


def test_the_mnist_corpus_reads_the_offline_layout(fixture_data, tmp_path):
    corpus = build_corpus("mnist", fixture_data)
    (train_x, train_y), (test_x, test_y) = corpus.images["train"], corpus.images["test"]
    assert train_x.shape == (300, 784) and test_x.shape == (120, 784) and set(np.unique(train_x)) == {0, 1}
    assert np.bincount(train_y).tolist() == [30] * 10 and np.bincount(test_y).tolist() == [12] * 10
    assert "first 300 training images (train-first10k.npz" in corpus.description["substitute"]
    assert corpus.description["sizes"] == {"train": 300, "test": 120} and corpus.description["unit"] == "images"
    with pytest.raises(DataError, match="no MNIST training images"):
        build_corpus("mnist", tmp_path)


def test_the_offline_mnist_corpus(shared):
    """The real offline copy: the first 10,000 training images (the substitute) and the whole test set."""
    corpus = build_corpus("mnist", shared)
    (train_x, train_y), (test_x, test_y) = corpus.images["train"], corpus.images["test"]
    assert train_x.shape == (10000, 784) and test_x.shape == (10000, 784) and set(np.unique(train_x)) == {0, 1}
    assert np.bincount(test_y).tolist()[:3] == [980, 1135, 1032]
    assert "first 10,000 training images" in corpus.description["substitute"] and corpus.description["unit"] == "images"


def test_batches_are_drawn_with_replacement_and_seeded():
    batcher = ImageBatcher(np.eye(784, dtype=np.uint8)[:50], 20, seed=3)
    assert batcher.batch(7).shape == (20, 784)
    assert torch.equal(batcher.random_batch(7, 2), ImageBatcher(np.eye(784, dtype=np.uint8)[:50], 20, 3).random_batch(7, 2))
    assert not torch.equal(batcher.random_batch(7, 2), batcher.random_batch(7, 3))


def test_noise_is_annealed_every_hundred_iterations():
    m = {"noise_std": 0.4, "noise_anneal": 0.99}
    assert noise_std(m, 99) == 0.4 and math.isclose(noise_std(m, 100), 0.396) and math.isclose(noise_std(m, 250), 0.4 * 0.99 ** 2)


def _model(seed: int = 0) -> ImageARAE:
    torch.manual_seed(seed)
    return ImageARAE(SMOKE_CONFIG, torch.device("cpu"))


def test_an_iteration_trains_every_part_deterministically(fixture_data):
    pixels = build_corpus("mnist", fixture_data).images["train"][0]
    model, batcher = _model(), ImageBatcher(pixels, 32, seed=1)
    before = {name: [p.clone() for p in net.parameters()] for name, net in model.nets.items()}
    losses = model.train_step(0, batcher)
    assert all(math.isfinite(float(v)) for v in losses.values()) and math.isclose(float(losses["noise_std"]), 0.4, rel_tol=1e-6)
    for name, net in model.nets.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters())), f"{name} did not move"
    assert all(p.abs().max() <= SMOKE_CONFIG["train"]["clip_d"] + 1e-3 for p in model.critic.parameters())
    again = _model()
    assert {k: float(v) for k, v in again.train_step(0, batcher).items()} == {k: float(v) for k, v in losses.items()}
    codes = model.encode_images(torch.from_numpy(pixels[:5]).float())
    assert torch.allclose(codes.norm(dim=1), torch.ones(5), atol=1e-5)
    assert model.sample(7, torch.Generator().manual_seed(0)).shape == (7, 784)


def _ctx(corpus, outputs, tmp_path):
    return EvalContext(outputs=outputs, train_text=[], eval_text=[], vocab_words=[], workdir=tmp_path, corpus=corpus,
                       artefacts=tmp_path / "artefacts")


def test_digit_metrics_against_the_classifier(fixture_data, tmp_path):
    full = build_corpus("mnist", fixture_data)
    (x, y), (tx, ty) = full.images["train"], full.images["test"]
    corpus = ImageCorpus("mnist", {"train": (x, y), "test": (tx[:60], ty[:60])})
    real = _ctx(corpus, {"images": tx[60:]}, tmp_path)  # 6 of each digit, not seen by the classifier
    coverage, confidence = METRICS.get("digit_coverage.mlp")(real), METRICS.get("digit_confidence.mlp")(real)
    assert coverage.value > 8 and coverage.details["classes_with_1pct"] == 10 and sum(coverage.details["predicted_counts"]) == 60
    # 300 synthetic training digits: far better than chance (0.1), not as good as on real MNIST
    assert 0.5 < confidence.value <= 1 and confidence.details["classifier_test_accuracy"] > 0.5
    one_digit = METRICS.get("digit_coverage.mlp")(_ctx(corpus, {"images": np.repeat(tx[:1], 50, 0)}, tmp_path))
    assert one_digit.value == 1.0 and one_digit.details["classes_with_1pct"] == 1
    assert len(list((tmp_path / "artefacts").glob("digits-mlp-*/classifier.npz"))) == 1  # built once
    recon = _ctx(corpus, {"images": tx[:1], "reconstruction": {"nll": [10.0, 20.0], "wrong_pixels": [0.0, 78.4]}}, tmp_path)
    assert METRICS.get("recon_nll")(recon).value == 15.0 and math.isclose(METRICS.get("pixel_error")(recon).value, 0.05)
    with pytest.raises(MetricNotComputable, match="output 'reconstruction'"):
        METRICS.get("pixel_error")(_ctx(corpus, {"images": tx[:1]}, tmp_path))


def test_bmnist_end_to_end_with_pictures_and_resume(fixture_data, tmp_path):
    out = tmp_path / "runs"
    args = ["-b", "bmnist", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data), "--set", "train.steps=4",
            "--set", "train.log_every=2", "--set", "train.checkpoint_every=2", "--set", "eval.n_samples=100",
            "--set", "eval.ae_fit_codes=200"]
    assert main(args) == 0
    results = {p.parent.parent.name: read_json(p) for p in out.glob("bmnist/*/seed0-*/result.json")}
    assert sorted(results) == ["ae", "arae", "real"]
    assert sorted(results["real"]["metrics"]) == ["digit_confidence.mlp", "digit_coverage.mlp"]  # nothing to reconstruct
    for row in ("ae", "arae"):
        assert all(m["value"] is not None for m in results[row]["metrics"].values()), results[row]["metrics"]
        run_dir = next(out.glob(f"bmnist/{row}/seed0-*"))
        shapes = [np.load(run_dir / g["file"]).shape for g in results[row]["previews"]]
        assert shapes == [(8, 8, 784), (2, 10, 784), (8, 8, 784)]
    assert results["real"]["previews"][0]["title"] == "Generated digits" and results["real"]["previews"][0]["kind"] == "image_grid"
    html = (out / "report" / "bmnist.html").read_text()
    # each picture under its title (a row note also says "between two noise vectors": the titles are checked whole)
    titles = {row: [g["title"] for g in results[row]["previews"]] for row in ("ae", "arae")}
    assert titles["ae"][2] == "Interpolations between two codes (a path per line)"
    assert titles["arae"][2] == "Interpolations between two noise vectors (a path per line)"
    assert "Pictures (seed 0)" in html
    for title in titles["ae"] + titles["arae"]:
        assert f'<p class="note">{title}</p>\n<img src="data:image/png;base64,' in html, title
    # the real row has no reconstruction: its two reconstruction cells, and only those, are "n/a"
    real_row = html[html.index("<th class=\"l\">Real test images"):].split("</tr>")[0]
    assert real_row.count(">n/a</td>") == 2 and html.count(">n/a</td>") == 2
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("bmnist/*/seed*/result.json")}
    assert main(args) == 0  # a second command does no work
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("bmnist/*/seed*/result.json")}


def test_a_row_with_its_own_metrics_computes_only_those(fixture_data, tmp_path):
    """The real-images row has nothing to reconstruct: recon_nll and pixel_error are not computed for it (a
    missing value there would read like an error), only the classifier's metrics."""
    import benchmarks  # noqa: F401
    from arae.benchmark import BENCHMARKS
    from arae.runner import plan_runs
    from benchmarks.bmnist import CLASSIFIER_METRICS
    plans = {p.row.name: p for p in plan_runs([BENCHMARKS.get("bmnist")], "smoke", 1, tmp_path, [],
                                               data_dir=fixture_data)}
    assert [m.key for m in plans["real"].metrics] == list(CLASSIFIER_METRICS)
    assert {"recon_nll", "pixel_error"} <= {m.key for m in plans["arae"].metrics}


def test_missing_mnist_says_how_to_download_it_as_every_dataset_does(tmp_path):
    from arae.errors import DataError
    (tmp_path / "mnist").mkdir()
    with pytest.raises(DataError, match=f"fetch it with: python run_all.py --download mnist --data-dir {tmp_path}$"):
        build_corpus("mnist", tmp_path)
