"""The `generation` task: train (or reuse a twin's training), draw samples, score them."""
from __future__ import annotations

import time

import torch

from arae.io import atomic_write_json, atomic_write_text, read_json
from arae.seeding import derive_seed
from arae.models.capabilities import SAMPLES_TEXT
from arae.tasks.base import Produced, RunPlan, Task, log, short_of


class Generation(Task):
    name = "generation"
    needs = frozenset({SAMPLES_TEXT})

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        samples, seconds = _samples(plan, method)
        e = plan.config["eval"]
        return Produced({"samples": samples}, [{"kind": "sentences", "section": "Samples", "title": "",
                                                "items": samples[: e["n_preview"]]}],
                        {"samples": len(samples)}, short_of(len(samples), e["n_samples"], "samples"),
                        seconds={"sample_seconds": seconds})


def _samples(plan: RunPlan, method) -> tuple[list[str], float]:
    """Generates the samples once; a resumed run reads them back instead of generating again."""
    path, meta_path = plan.dir / "samples" / "samples.txt", plan.dir / "samples" / "meta.json"
    if path.exists() and meta_path.exists():
        return path.read_text(encoding="utf-8").split("\n")[:-1], read_json(meta_path)["seconds"]
    began = time.perf_counter()
    generator = torch.Generator(device=method.device).manual_seed(derive_seed(plan.seed, "samples"))
    samples = [" ".join(s) for s in method.sample(plan.config["eval"]["n_samples"], generator)]
    seconds = round(time.perf_counter() - began, 3)
    atomic_write_text(path, "".join(s + "\n" for s in samples))
    atomic_write_json(meta_path, {"n": len(samples), "seconds": seconds})
    log(plan, f"{len(samples)} samples in {seconds:.1f}s")
    return samples, seconds
