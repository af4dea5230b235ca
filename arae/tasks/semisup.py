"""The `semisup` task: pretrain (or not) an encoder on the pool's sentences, then, for each label fraction,
learn a sentence-pair classifier from that fraction of the pool's labelled pairs and label every test pair.

The labelled pairs of a fraction depend on the seed index alone, not on the row, so every row of a seed
learns from the same pairs; the fractions are nested (a smaller fraction's pairs are part of a larger's).
Predictions are written per fraction (`predictions/<fraction>.txt`, one label per test pair), so a run
resumes fraction by fraction, and the encoder is trained once per run and copied for each fraction."""
from __future__ import annotations

import random
import time

from arae.data.corpora import PairCorpus
from arae.data.readers import NLIPair
from arae.errors import DataError
from arae.io import atomic_write_json, atomic_write_text, read_json
from arae.seeding import derive_seed
from arae.models.capabilities import CLASSIFIES_PAIRS
from arae.tasks.base import Produced, RunPlan, Task, log


def labelled_subsets(pairs: list[NLIPair], fractions: list[float], seed: int) -> dict[float, list[int]]:
    """Indices of the labelled pairs of each fraction: per label, one seeded shuffle of that label's pairs,
    of which each fraction takes the first round(fraction x count) (stratified, and nested)."""
    by_label: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs):
        by_label.setdefault(pair.label, []).append(i)
    rng = random.Random(seed)
    for label in sorted(by_label):
        rng.shuffle(by_label[label])
    return {f: sorted(i for label in sorted(by_label) for i in by_label[label][:round(f * len(by_label[label]))])
            for f in fractions}


def fractions_of(plan: RunPlan) -> list[float]:
    """The label fractions the benchmark's metrics are measured at."""
    return sorted({m.params["fraction"] for m in plan.spec.metrics if "fraction" in m.params}, reverse=True)


class SemiSupervised(Task):
    name = "semisup"
    needs = frozenset({CLASSIFIES_PAIRS})
    reads = PairCorpus

    def check(self, plan, corpus) -> None:
        if not corpus.pairs.get("pool"):
            raise DataError(_pool_file(corpus),
                            f"semi-supervised classification needs labelled sentence pairs; corpus {corpus.name} has none")
        _check_every_label_is_labelled(corpus, _chosen(plan, corpus)[0])

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        chosen, split_seed = _chosen(plan, corpus)
        predictions, seconds = _predictions(plan, method, corpus, chosen)
        labelled = {str(f): {"pairs": len(idx), "of_pool": len(corpus.pairs["pool"]), "labelled_split_seed": split_seed}
                    for f, idx in chosen.items()}
        return Produced({"predictions": predictions}, counts={"test_pairs": len(corpus.pairs["test"])},
                        details={"labelled": labelled},
                        data={"model_selection": "best validation epoch" if corpus.pairs.get("valid") else "last epoch"},
                        seconds={"classifier_seconds": seconds})


def _chosen(plan: RunPlan, corpus) -> tuple[dict[float, list[int]], int]:
    """The labelled pairs of each fraction, and the seed that chose them (the seed index's, not the row's)."""
    split_seed = derive_seed(plan.spec.base_seed, plan.spec.name, "labelled", plan.seed_index)
    return labelled_subsets(corpus.pairs["pool"], fractions_of(plan), split_seed), split_seed


def _pool_file(corpus) -> str:
    return (corpus.description["files"].get("train") or ["?"])[0]


def _check_every_label_is_labelled(corpus, chosen: dict[float, list[int]]) -> None:
    """A fraction too small to keep a pair of every label the pool has cannot train a classifier of them."""
    pool = corpus.pairs["pool"]
    labels = sorted({p.label for p in pool})
    for fraction, indices in chosen.items():
        have = {pool[i].label for i in indices}
        if missing := [label for label in labels if label not in have]:
            raise DataError(_pool_file(corpus), f"{fraction:.2%} of the {len(pool):,} labelled pairs keeps no "
                                                f"{', '.join(missing)} pair; a larger pool is needed")


def _predictions(plan: RunPlan, method, corpus, chosen: dict[float, list[int]]) -> tuple[dict, float]:
    """fraction -> (predicted labels of the test pairs, number of labelled pairs); a resumed run reads back
    each fraction whose file is complete."""
    folder, test = plan.dir / "predictions", corpus.pairs["test"]
    meta_path = folder / "meta.json"
    seconds = read_json(meta_path)["seconds"] if meta_path.exists() else {}
    out = {}
    for fraction, indices in chosen.items():
        path, name = folder / f"{fraction}.txt", str(fraction)
        labels = path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []
        if len(labels) != len(test) or name not in seconds:
            began = time.perf_counter()
            tag = f"{fraction:.2%} labels ({len(indices):,} pairs)"
            predict = method.fit_pair_classifier([corpus.pairs["pool"][i] for i in indices], corpus.pairs["valid"],
                                                 plan.config["classifier"], derive_seed(plan.seed, "classifier", name),
                                                 lambda message: log(plan, f"{tag}: {message}"))
            labels = predict(test)
            atomic_write_text(path, "".join(label + "\n" for label in labels))
            for stale in (plan.dir / "metrics").glob(f"*@{fraction}.json"):  # scored on the old predictions
                stale.unlink()
            seconds[name] = round(time.perf_counter() - began, 3)
            atomic_write_json(meta_path, {"n": len(labels), "seconds": seconds})
        out[fraction] = (labels, len(indices))
    return out, round(sum(seconds.values()), 3)
