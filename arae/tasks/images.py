"""The `images` task (benchmark bmnist): train a model of binarized digits, draw samples, reconstruct the test
images from their noise-free codes, and keep three picture grids for the report: samples, interpolations
(between two noise vectors through the ARAE generator, `eval.interpolate` = "noise", or between the codes of two
test images, "codes", put back on the unit sphere) and reconstructions (one test image of each digit above its
reconstruction). Grids are arrays (rows, columns, 28, 28) in the run's samples/ folder; the report draws them."""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from arae.data.batching import ImageBatcher
from arae.data.corpora import ImageCorpus
from arae.data.images import PIXELS
from arae.errors import ConfigError
from arae.models import MODELS
from arae.models.method import OutputNotAvailable
from arae.seeding import derive_seed
from arae.models.capabilities import GENERATES_IMAGES
from arae.tasks.base import Produced, RunPlan, Task, short_of

GRID = 8  # samples and interpolations: GRID x GRID images


def _interpolations(plan: RunPlan, method, test: np.ndarray) -> np.ndarray:
    """(GRID paths, GRID steps, PIXELS): decodes of evenly spaced points between two endpoints."""
    e = plan.config["eval"]
    rng = torch.Generator().manual_seed(derive_seed(plan.spec.base_seed, plan.spec.name, "paths", plan.seed_index))
    if e["interpolate"] == "noise":
        z = torch.randn(2 * GRID, plan.config["model"]["z_size"], generator=rng)
        start, end, decode = z[:GRID], z[GRID:], method.decode_noise
    elif e["interpolate"] == "codes":
        picks = torch.randperm(len(test), generator=rng)[: 2 * GRID]
        codes = method.encode_images(torch.from_numpy(test[picks.numpy()]).float())
        start, end = codes[:GRID], codes[GRID:]
        decode = lambda points: method.decode_codes(F.normalize(points, dim=1))  # noqa: E731
    else:
        raise ConfigError(f"eval.interpolate={e['interpolate']!r}: expected 'noise' or 'codes'")
    steps = [decode((1 - t) * start + t * end) for t in np.linspace(0, 1, GRID)]
    return torch.stack(steps, 1).numpy()


def _reconstructions(method, test: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(2, 10, PIXELS): the first test image of each digit, and its reconstruction."""
    originals = test[0][[int(np.flatnonzero(test[1] == d)[0]) for d in range(10)]]
    return np.stack([originals, method.reconstruct(torch.from_numpy(originals).float()).numpy()])


def _saved(path, make) -> np.ndarray:
    """An output array made once; a resumed run reads it back."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        array = np.asarray(make(), dtype=np.uint8)
        np.save(path.with_suffix(".tmp.npy"), array)
        path.with_suffix(".tmp.npy").replace(path)
    return np.load(path)


class Images(Task):
    name = "images"
    needs = frozenset({GENERATES_IMAGES})
    reads = ImageCorpus

    def build(self, plan, corpus, device):
        method = MODELS.get(plan.row.model)(plan.config, device)
        batcher = ImageBatcher(corpus.images["train"][0], plan.config["train"]["batch_size"], plan.seed).to(device)
        method.prepare(corpus, batcher)
        return None, batcher, method

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        e = plan.config["eval"]
        began, folder = time.perf_counter(), plan.dir / "samples"
        generator = torch.Generator(device=device).manual_seed(derive_seed(plan.seed, "samples"))
        samples = _saved(folder / "images.npy", lambda: method.sample(e["n_samples"], generator))
        seconds = {"sample_seconds": round(time.perf_counter() - began, 3)}
        began, outputs, test = time.perf_counter(), {"images": samples}, corpus.images["test"]
        shown = min(len(samples), GRID * GRID) // GRID * GRID  # whole lines of the grid (eval.n_samples may be < 64)
        grids = [("Generated digits", "grid_samples.npy", lambda: samples[:shown].reshape(-1, GRID, PIXELS))]
        try:
            outputs["reconstruction"] = method.recon_errors(torch.from_numpy(test[0]).float())
            grids += [("Reconstructions (top: a test image of each digit, below: its reconstruction)",
                       "grid_reconstructions.npy", lambda: _reconstructions(method, test)),
                      (f"Interpolations between two {e['interpolate'].replace('noise', 'noise vectors')} (a path per line)",
                       "grid_interpolations.npy", lambda: _interpolations(plan, method, test[0]))]
        except OutputNotAvailable:
            pass  # real images: nothing to reconstruct or interpolate; their metrics say so
        for _, name, make in grids:
            _saved(folder / name, make)
        seconds["reconstruction_seconds"] = round(time.perf_counter() - began, 3)  # and the grids
        previews = [{"kind": "image_grid", "section": "Pictures", "title": title, "file": f"samples/{name}"}
                    for title, name, _ in grids]
        return Produced(outputs, previews, {"samples": len(samples)}, short_of(len(samples), e["n_samples"], "samples"),
                        seconds=seconds)

    def texts(self, corpus, vocab) -> dict[str, list[str]]:
        return {"train_text": [], "eval_text": [], "vocab_words": []}
