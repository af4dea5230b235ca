"""The `vector_arithmetic` task ([ICLR] Figure 4, left; the official lang/experiments/vector.py): moving a
sentence's latent point by the offset between the mean points of two groups of generated sentences.

1. Draw `pool` latent points (ARAE: generator noise z; AE: codes of its fitted Gaussian), decode each by
   sampling, as the official dump_samples does, and parse the sentences (arae/metrics/syntax.py).
2. Draw fresh points and decode them greedily: the original sentences. For each target feature (VERB_walking),
   take the first `sentences` originals that lack it; move each by mean(pool points with the target) - mean
   (over the original's own features of that kind: the mean of the pool points with each). An original with
   no feature of that kind moves from the mean of the whole pool.
3. Decode `samples` sentences from each moved point by sampling; it matches when one of them has the target.

Where this departs from the official alter(), and why, is on docs/benchmarks/vector_arithmetic.md."""
from __future__ import annotations

import difflib
import time
from collections import Counter, defaultdict

import torch

from arae.io import atomic_write_json, read_json
from arae.metrics.syntax import Parser, ParserUnavailable, has, load_parser
from arae.models.capabilities import SAMPLES_LATENTS
from arae.seeding import derive_seed
from arae.tasks.base import Produced, RunPlan, Task, log

N_SHOWN = 3  # examples per target in the report


def targets(plan: RunPlan) -> list[str]:
    return list(dict.fromkeys(m.params["target"] for m in plan.spec.metrics if "target" in m.params))


def mark_edits(before: list[str], after: list[str]) -> str:
    """`after` with the words that are not in `before`'s alignment (inserted or replaced) in brackets."""
    keep = set()
    for block in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_matching_blocks():
        keep.update(range(block.b, block.b + block.size))
    return " ".join(w if i in keep else f"[{w}]" for i, w in enumerate(after))


def unigram_precision(output: list[str], original: list[str]) -> float:
    """Share of the output's words found in the original (clipped counts, as BLEU's 1-gram precision)."""
    if not output:
        return 0.0
    overlap = Counter(output) & Counter(original)
    return sum(overlap.values()) / len(output)


class VectorArithmetic(Task):
    name = "vector_arithmetic"
    needs = frozenset({SAMPLES_LATENTS})

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        saved = plan.dir / "vector" / "outputs.json"
        began = time.perf_counter()
        try:
            parser = load_parser()
        except ParserUnavailable as err:
            log(plan, f"vector arithmetic not measured: {err}")
            return Produced({"vector": None, "vector_missing": str(err)}, notes=[str(err)])
        if saved.exists():  # a resumed run reads back what it produced
            produced = read_json(saved)
        else:
            produced = _move_and_decode(plan, method, parser)
            atomic_write_json(saved, produced)
        counts = {"pool": produced["pool"]} | {f"carry {t}": o["carriers"] for t, o in produced["targets"].items()}
        return Produced({"vector": produced}, _previews(produced), counts, details={"parser": produced["parser"]},
                        seconds={"sample_seconds": round(time.perf_counter() - began, 3)})


def _draw(method, n: int, batch: int, generator: torch.Generator) -> torch.Tensor:
    return torch.cat([method.draw_latents(min(batch, n - k), generator) for k in range(0, n, batch)]).cpu()


def _decode(method, latents: torch.Tensor, batch: int, generator: torch.Generator | None, report) -> list[str]:
    """Decoded sentences, in chunks of 10 batches, saying how far it is every 20 s (1M at the paper preset)."""
    out, last = [], time.perf_counter()
    for start in range(0, len(latents), 10 * batch):
        out += [" ".join(words) for words in method.decode_latents(latents[start:start + 10 * batch], batch, generator)]
        if time.perf_counter() - last > 20:
            last = time.perf_counter()
            report(f"decoding: {len(out):,} of {len(latents):,} sentences")
    return out


def _move_and_decode(plan: RunPlan, method, parser: Parser) -> dict:
    e, batch = plan.config["eval"]["vector"], plan.config["eval"]["sample_batch"]
    report = lambda message: log(plan, message)  # noqa: E731
    rng = lambda *names: torch.Generator(device=method.device).manual_seed(  # noqa: E731
        derive_seed(plan.seed, "vector", *names))

    pool_rng = rng("pool")
    pool = _draw(method, e["pool"], batch, pool_rng)
    report(f"decoding and parsing {e['pool']:,} generated sentences")
    pool_features = parser.features(_decode(method, pool, batch, pool_rng, report), report)
    carriers: dict[str, list[int]] = defaultdict(list)
    for i, features in enumerate(pool_features):
        for kind, words in features.items():
            for word in words:
                carriers[f"{kind}_{word}"].append(i)
    mean_of = lambda feature: pool[carriers[feature]].mean(0)  # noqa: E731

    candidates = _draw(method, e["candidates"], batch, rng("originals"))
    originals = _decode(method, candidates, batch, None, report)
    original_features = parser.features(originals, report)
    outcomes = {}
    for target in targets(plan):
        kind = target.partition("_")[0]
        if not carriers[target]:
            outcomes[target] = {"carriers": 0, "reason": f"none of the {e['pool']:,} generated sentences has "
                                                          f"{target}, so there is no offset towards it"}
            continue
        chosen = [i for i, f in enumerate(original_features) if not has(f, target)][: e["sentences"]]
        moved = []
        for i in chosen:
            own = [mean_of(f"{kind}_{w}") for w in original_features[i][kind] if carriers[f"{kind}_{w}"]]
            start = torch.stack(own).mean(0) if own else pool.mean(0)
            moved.append(candidates[i] + mean_of(target) - start)
        report(f"{target}: {len(chosen)} sentences x {e['samples']} samples")
        samples = _decode(method, torch.stack(moved).repeat_interleave(e["samples"], 0), batch,
                          rng("samples", target), report) if chosen else []
        sample_features = parser.features(samples, report)
        sentences = []
        for n, i in enumerate(chosen):
            span = range(n * e["samples"], (n + 1) * e["samples"])
            hits = [k for k in span if has(sample_features[k], target)]
            output, original = samples[hits[0] if hits else span[0]].split(), originals[i].split()
            sentences.append({"original": originals[i], "output": " ".join(output),
                              "marked": mark_edits(original, output), "matched": bool(hits),
                              "precision": unigram_precision(output, original) if hits else None})
        outcomes[target] = {"carriers": len(carriers[target]), "sentences": sentences}
    return {"pool": e["pool"], "samples": e["samples"], "parser": f"parsed by {parser.description}",
            "targets": outcomes}


def _previews(produced: dict) -> list[dict]:
    """A few originals and their moved decodes per target, those with a match first, changed words marked."""
    previews = []
    for target, outcome in produced["targets"].items():
        shown = sorted(outcome.get("sentences", []), key=lambda s: not s["matched"])[:N_SHOWN]
        if shown:
            previews.append({"kind": "side_by_side", "section": "Moved sentences", "title": f"⇒ {target}",
                             "items": [{"key": k, "source": s["original"],
                                        "output": s["marked"] + ("" if s["matched"] else "   (no sample has it)")}
                                       for k, s in enumerate(shown)]})
    return previews
