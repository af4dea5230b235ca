"""The `interpolation` task: decode evenly spaced points on lines between two codes, either two noise vectors
through the ARAE generator (`eval.interpolate` = "noise") or the codes of two test sentences (= "codes", any
model with an encoder; interpolated codes are put back on the unit sphere, where the decoder has only ever seen
codes). Paths are seeded by the seed index, so rows of a seed interpolate between the same sentences (or noise
vectors). Words that changed from the previous point are marked [like this] in the examples."""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from arae.errors import ConfigError
from arae.models.capabilities import DECODES_NOISE, ENCODES_SENTENCES
from arae.seeding import derive_seed
from arae.tasks.base import Produced, RunPlan, Task

N_SHOWN = 3  # example paths per row in the report


def mark_changes(previous: list[str] | None, words: list[str]) -> str:
    """The sentence with every word that is not at the same position in `previous` in brackets."""
    if previous is None:
        return " ".join(words)
    return " ".join(w if i < len(previous) and previous[i] == w else f"[{w}]" for i, w in enumerate(words))


def _endpoints(plan: RunPlan, method, corpus) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, size) start and end points: noise vectors, or the noise-free codes of pairs of test sentences."""
    e = plan.config["eval"]
    rng = torch.Generator().manual_seed(derive_seed(plan.spec.base_seed, plan.spec.name, "paths", plan.seed_index))
    if e["interpolate"] == "noise":
        z_size = plan.config["model"]["z_size"]
        return torch.randn(e["n_paths"], z_size, generator=rng), torch.randn(e["n_paths"], z_size, generator=rng)
    if e["interpolate"] == "codes":
        picks = torch.randperm(len(corpus.test), generator=rng)[: 2 * e["n_paths"]].tolist()
        codes = method.encode_sentences([corpus.test[i] for i in picks], e["sample_batch"]).cpu()
        return codes[0::2], codes[1::2]
    raise ConfigError(f"eval.interpolate={e['interpolate']!r}: expected 'noise' or 'codes'")


class Interpolation(Task):
    name = "interpolation"

    @classmethod
    def needs_for(cls, config: dict) -> frozenset[str]:
        return frozenset({DECODES_NOISE if config["eval"]["interpolate"] == "noise" else ENCODES_SENTENCES})

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        e = plan.config["eval"]
        began = time.perf_counter()
        start, end = _endpoints(plan, method, corpus)
        steps, by_step = e["interpolation_steps"], []
        for s in range(steps):
            point = ((1 - s / (steps - 1)) * start + s / (steps - 1) * end).to(device)
            by_step.append(method.decode_latents(point, e["sample_batch"]) if e["interpolate"] == "noise" else
                           method.decode_codes(F.normalize(point, dim=1), e["sample_batch"]))
        paths = [list(path) for path in zip(*by_step)]  # paths[p][s]: the words decoded at step s of path p
        seconds = round(time.perf_counter() - began, 3)
        previews = [{"kind": "side_by_side", "section": "Interpolations", "title": f"path {p + 1}",
                     "items": [{"key": s, "source": f"t = {s / (steps - 1):.2f}",
                                "output": mark_changes(paths[p][s - 1] if s else None, paths[p][s])} for s in range(steps)]}
                    for p in range(min(N_SHOWN, len(paths)))]
        return Produced({"paths": paths}, previews, {"paths": len(paths)}, details={"interpolated": e["interpolate"]},
                        seconds={"sample_seconds": seconds})
