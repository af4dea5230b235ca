"""The `transfer` task: train on sentences per style, rewrite every test sentence into every other style,
score the transfers. Transfers are written as one file per direction (`samples/<src>-to-<tgt>.txt`, line i
= the transfer of test sentence i), the format `python -m arae score` reads, so any run can be re-scored."""
from __future__ import annotations

import time

from arae.data.corpora import StyledCorpus
from arae.errors import DataError
from arae.io import atomic_write_json, atomic_write_text, read_json
from arae.metrics.transfer import Direction
from arae.data.vocab import Vocab
from arae.models.capabilities import TRANSFERS
from arae.models.given import GivenTransfers, given_folder
from arae.tasks.base import Produced, RunPlan, Task, build_method, log

N_PREVIEW = 10  # fixed test sentences per direction shown in the report, the same for every row


def preview_indices(n: int, k: int = N_PREVIEW) -> list[int]:
    """k test sentences spread evenly over a style's test set: the same for every row and seed."""
    return sorted({i * n // k for i in range(min(k, n))})


class Transfer(Task):
    name = "transfer"
    needs = frozenset({TRANSFERS})
    reads = StyledCorpus

    def check(self, plan, corpus) -> None:
        if len(corpus.styles) < 2:
            raise DataError(corpus.description["files"].get("train", ["?"])[0],
                            f"style transfer needs at least two styles; corpus {corpus.name} has {len(corpus.styles)}")

    def build(self, plan, corpus, device):
        vocab, batcher, method = build_method(plan.config, plan.row.model, corpus.train, plan.seed, device,
                                              styles=corpus.by_style["train"])
        if isinstance(method, GivenTransfers):
            folder = given_folder(plan.config, plan.data_dir)
            method.read(folder, corpus.styles, corpus.by_style["test"], corpus.description["lowercase"])
            log(plan, f"scoring the given transfers in {folder} (nothing to train)")
        return vocab, batcher, method

    def produce(self, plan, method, corpus, vocab, device) -> Produced:
        given = isinstance(method, GivenTransfers)
        directions, seconds = _transfers(plan, method, corpus, None if given else vocab,
                                         plan.config.get("given", {}).get("own_reference"))
        reverse_lm_text, lm_seconds = _reverse_lm_transfers(plan, method, corpus)
        previews = [{"kind": "side_by_side", "section": "Transfers", "title": d.name(corpus.styles),
                     "items": [{"key": i, "source": d.sources[i], "output": d.outputs[i]}
                               for i in preview_indices(len(d.sources))]} for d in directions]
        outputs = {"transfers": directions} | ({"reverse_lm_text": reverse_lm_text} if reverse_lm_text else {})
        return Produced(outputs, previews, {"transfers": sum(len(d.outputs) for d in directions),
                                            "reverse_lm_transfers": len(reverse_lm_text)},
                        notes=method.notes if given else [],
                        details={"given_files": {f"{corpus.styles[s]}->{corpus.styles[t]}": str(path)
                                                 for (s, t), path in method.files.items()}} if given else {},
                        data={"reverse_ppl_scored_on": "valid" if corpus.valid else "test"},
                        seconds={"transfer_seconds": round(seconds + lm_seconds, 3)})

    def eval_text(self, corpus):
        """Reverse PPL scores real text that is neither trained on nor transferred (the validation split)."""
        return corpus.valid or corpus.test


def _reverse_lm_transfers(plan: RunPlan, method, corpus) -> tuple[list[str], float]:
    """What the reverse PPLs train their LMs on: transfers of eval.reverse_lm_sources training sentences per
    style (evenly spaced), each into the next style, made for those metrics alone (the test transfers are
    too few for an LM); none when the setting is 0 (the reverse LMs then learn from the test transfers).
    Made once; a resumed run reads them back."""
    n = plan.config["eval"].get("reverse_lm_sources", 0)
    path = plan.dir / "samples" / "reverse_lm_transfers.txt"
    if not n:
        return [], 0.0
    if path.exists():
        return path.read_text(encoding="utf-8").split("\n")[:-1], 0.0
    began, lines = time.perf_counter(), []
    for s, sentences in enumerate(corpus.by_style["train"]):
        picked = [sentences[i * len(sentences) // n] for i in range(min(n, len(sentences)))]
        lines += [" ".join(w) for w in method.transfer(picked, s, (s + 1) % len(corpus.styles))]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    seconds = round(time.perf_counter() - began, 3)
    log(plan, f"{len(lines)} transfers of training sentences for the reverse LMs in {seconds:.1f}s")
    return lines, seconds


def _transfers(plan: RunPlan, method, corpus, vocab: Vocab | None,
               own_reference: int | None = None) -> tuple[list[Direction], float]:
    """Every test sentence into every other style, once; a resumed run reads back each direction's file
    that is complete (one line per source) and makes the others."""
    folder, styles = plan.dir / "samples", corpus.styles
    meta_path = folder / "meta.json"
    seconds = read_json(meta_path)["seconds"] if meta_path.exists() else {}
    directions = []
    for s, sentences in enumerate(corpus.by_style["test"]):
        for t in range(len(styles)):
            if t == s:
                continue
            path, name = folder / f"{styles[s]}-to-{styles[t]}.txt", f"{styles[s]}->{styles[t]}"
            outputs = path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []
            if len(outputs) != len(sentences) or name not in seconds:
                began = time.perf_counter()
                outputs = [" ".join(w) for w in method.transfer(sentences, s, t)]
                atomic_write_text(path, "".join(o + "\n" for o in outputs))
                seconds[name] = round(time.perf_counter() - began, 3)
                atomic_write_json(meta_path, {"n": len(outputs), "seconds": seconds})
                log(plan, f"{name}: {len(outputs)} transfers in {seconds[name]:.1f}s")
            refs = corpus.references[s] if corpus.references and len(styles) == 2 else None
            if refs and own_reference is not None:  # a human writer's row: its own rewrites are not its references
                refs = [r[:own_reference] + r[own_reference + 1:] for r in refs]
            # the sources as the model sees them (out-of-vocabulary words as <unk>), as the official BLEU used them;
            # a given system's vocabulary is unknown: its outputs are compared with the sources themselves
            seen = [" ".join(vocab.decode(vocab.encode(w))) for w in sentences] if vocab else None
            directions.append(Direction(s, t, [" ".join(w) for w in sentences], outputs, refs, seen))
    return directions, round(sum(seconds.values()), 3)
