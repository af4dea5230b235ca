"""What the training loop needs from every model (`Method`), and what text tasks may ask of a model of
sentences (`TextMethod`); models of images are in arae/models/image_arae.py."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from arae.data.batching import Batcher, collate
from arae.data.vocab import Vocab
from arae.errors import SuiteError
from arae.models.pair_classifier import fit_pair_classifier


class OutputNotAvailable(SuiteError):
    """A benchmark asked a method for an output it cannot produce (e.g. transfers from an LM)."""


def sgd(params, lr: float) -> torch.optim.Optimizer:
    """Plain SGD, updating all parameters in one multi-tensor (foreach) call."""
    return torch.optim.SGD(params, lr=lr, foreach=True)


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam with its fused kernel (one call per step, on CPU and CUDA)."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


class Method:
    """Base of every model (ARAE and the baselines, of text or of images): subclasses set up `self.nets` and
    `self.optims` in __init__ and train one step at a time; the training loop needs nothing else."""

    trains = True
    trains_as: str | None = None  # a model whose training this one shares exactly (same training key)
    offers: frozenset[str] = frozenset()  # what tasks may ask of it (arae/models/capabilities.py)

    @classmethod
    def input_fingerprint(cls, cfg: dict[str, Any], data_dir: Path) -> str | None:
        """A digest of what the model reads besides the corpus (given outputs), for the run's key."""
        return None

    def __init__(self, cfg: dict[str, Any], device: torch.device):
        self.cfg, self.device = cfg, device
        self.nets: dict[str, nn.Module] = {}
        self.optims: dict[str, torch.optim.Optimizer] = {}

    @property
    def sentences_per_step(self) -> int:
        """Examples (sentences or images) modelled per training step, for the throughput figure."""
        return self.cfg["train"]["batch_size"]

    def train_step(self, step: int, batcher: Batcher) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def diagnostics(self, step: int, batcher: Batcher) -> dict[str, float]:
        """Extra numbers logged at log steps (collapse and code diagnostics); they must not touch the
        training RNG or the models' training state."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {"nets": {k: m.state_dict() for k, m in self.nets.items()},
                "optims": {k: o.state_dict() for k, o in self.optims.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, m in self.nets.items():
            m.load_state_dict(state["nets"][k])
        for k, o in self.optims.items():
            o.load_state_dict(state["optims"][k])

    def eval(self) -> None:
        for m in self.nets.values():
            m.eval()


class TextMethod(Method):
    """A model of sentences over a vocabulary, and every output a text task may ask of it: `samples`
    (generation), `transfers` (style transfer), a classifier of sentence pairs learnt from a few labels
    (semi-supervised classification), codes and their decodes (robustness, interpolation)."""

    styled = False  # trains on sentences per style (a StyleBatcher), e.g. for transfer

    def __init__(self, vocab: Vocab, cfg: dict[str, Any], device: torch.device, n_styles: int = 1):
        super().__init__(cfg, device)
        self.vocab, self.n_styles = vocab, n_styles

    def prepare(self, train_sentences: list[list[str]], batcher: Batcher) -> None:
        """Called before training and before sampling (also when a resumed run only samples)."""

    def sample(self, n: int, generator: torch.Generator) -> list[list[str]]:
        """Greedy decodes of n latent draws. `generator` lives on the model's device, so sampling needs no host
        round trips."""
        return self._decode_batches(n, self.cfg["eval"]["sample_batch"],
                                    lambda b: self.latent_ids(self.draw_latents(b, generator)))

    def draw_latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, D) points its sampler decodes (ARAE: the generator's noise z; an AE: codes of a fitted Gaussian),
        where offsets between groups of sentences are taken (the vector arithmetic benchmark)."""
        raise OutputNotAvailable(f"{type(self).__name__} cannot sample sentences")

    def latent_ids(self, latents: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, T) token ids decoded from latent points: greedy, or sampled with `generator`."""
        raise OutputNotAvailable(f"{type(self).__name__} has no latent space to decode")

    def decode_latents(self, latents: torch.Tensor, batch_size: int,
                       generator: torch.Generator | None = None) -> list[list[str]]:
        rows = iter(latents.split(batch_size))
        return self._decode_batches(len(latents), batch_size, lambda b: self.latent_ids(next(rows), generator))

    def transfer(self, sentences: list[list[str]], source: int, target: int) -> list[list[str]]:
        """`sentences` of style `source` rewritten in style `target` (greedy, deterministic)."""
        raise OutputNotAvailable(f"{type(self).__name__} cannot transfer between styles")

    def sentence_encoder(self) -> nn.Module:
        """The model whose `encode(src, lengths)` gives a sentence's code (arae.models.seq2seq.Seq2Seq)."""
        raise OutputNotAvailable(f"{type(self).__name__} has no sentence encoder")

    def fit_pair_classifier(self, train: list, valid: list, classifier_cfg: dict, seed: int,
                            report: Callable[[str], None]) -> Callable[[list], list[str]]:
        """A classifier of sentence pairs (arae.data.readers.NLIPair) learnt from the labelled pairs `train`
        on a copy of this method's encoder, so that every call starts from the same trained weights.
        Returns predict(pairs) -> labels."""
        encoder = copy.deepcopy(self.sentence_encoder())
        return fit_pair_classifier(encoder, self.vocab, train, valid, classifier_cfg, seed, self.device, report)

    @torch.inference_mode()
    def reconstruction_nll(self, sources: list[list[str]], targets: list[list[str]], batch_size: int) -> list[float]:
        """NLL of each target sentence decoded from the noise-free code of its source (same lengths)."""
        encoder, out = self.sentence_encoder(), []
        encoder.eval()
        for start in range(0, len(sources), batch_size):
            src = collate([self.vocab.encode(s) for s in sources[start:start + batch_size]]).to(self.device)
            tgt = collate([self.vocab.encode(s) for s in targets[start:start + batch_size]]).to(self.device)
            out += encoder.sentence_nll(src.src, tgt.src, tgt.tgt, tgt.lengths).tolist()
        return out

    @torch.inference_mode()
    def encode_sentences(self, sentences: list[list[str]], batch_size: int) -> torch.Tensor:
        """(N, H) noise-free codes, in input order."""
        encoder, out = self.sentence_encoder(), []
        encoder.eval()
        for start in range(0, len(sentences), batch_size):
            batch = collate([self.vocab.encode(s) for s in sentences[start:start + batch_size]]).to(self.device)
            out.append(encoder.encode(batch.src, batch.lengths))
        return torch.cat(out)

    def decode_codes(self, codes: torch.Tensor, batch_size: int) -> list[list[str]]:
        """Greedy decoding of the given codes with the encoder's decoder."""
        encoder, maxlen, rows = self.sentence_encoder(), self.cfg["data"]["maxlen"], iter(codes.split(batch_size))
        return self._decode_batches(len(codes), batch_size, lambda b: encoder.generate(next(rows), maxlen))

    def reconstruct(self, sentences: list[list[str]], batch_size: int) -> list[list[str]]:
        """Greedy decoding of each sentence's noise-free code."""
        return self.decode_codes(self.encode_sentences(sentences, batch_size), batch_size)

    def _in_batches(self, sentences: list[list[str]], batch_size: int, decode) -> list[list[str]]:
        """Run `decode(batch) -> (B, T) ids` over sentences in input order, and turn ids into words."""
        self.eval()
        out: list[list[str]] = []
        for start in range(0, len(sentences), batch_size):
            chunk = [self.vocab.encode(s) for s in sentences[start:start + batch_size]]
            order = sorted(range(len(chunk)), key=lambda i: -len(chunk[i]))  # longest first, as batches are
            ids = decode(collate([chunk[i] for i in order]).to(self.device)).cpu().tolist()
            words = [None] * len(chunk)
            for row, i in zip(ids, order):
                words[i] = self.vocab.decode(row)
            out.extend(words)
        return out

    def _decode_batches(self, n: int, batch_size: int, make_ids) -> list[list[str]]:
        """Run `make_ids(batch_n)` -> (B, T) token ids over batches, and turn ids into words."""
        self.eval()
        out: list[list[str]] = []
        while len(out) < n:
            ids = make_ids(min(batch_size, n - len(out))).cpu().tolist()
            out.extend(self.vocab.decode(row) for row in ids)
        return out
