"""Cross-aligned autoencoder (Shen et al. 2017, "Style Transfer from Non-Parallel Text by
Cross-Alignment"), after the authors' TensorFlow code (shentianxiao/language-style-transfer,
code/style_transfer.py, nn.py and utils.py), for K >= 2 styles.

A GRU encoder started from [y_src ; 0] reads the sentence reversed, its words slightly shuffled while
training (Shen's noise: each word moves at most `shuffle_k` = 3 places); its last state's dim_z part is
the content z. A GRU decoder started from [y ; z] is trained to reconstruct with teacher forcing
(loss: token cross-entropy summed per sentence, averaged over sentences). Professor forcing: for
each style k, a CNN discriminator tells the teacher-forced hidden states of style-k sentences
decoded with y_k (h0 included) from those of every other style's sentences decoded free-running
with y_k, feeding the Gumbel-softmax of the logits at temperature gamma @ embeddings back in
(`feedback: softmax` is the paper's softmax(logits / gamma) without noise). The autoencoder minimises
rec + rho * sum_k BCE(D_k(fake), 1) ("nonsaturating") or rec - rho * sum_k loss_d_k ("minimax", the
paper's), and only while every discriminator loss is below d_threshold (else rec alone). Transfer: encode
with y_src, decode with y_tgt by Shen's beam search (width `beam` 8, `beam_maxlen` 20 words; `beam: 1`
decodes greedily up to eval.transfer_maxlen). Dropout (keep prob) on GRU inputs, on outputs before the
projection and on the discriminators' pooled features.

`settings` picks one consistent set of Shen's hyperparameters (SETTINGS): `final`, the released code
(the default), or `shen2017`, the code of the paper's time. The benchmark also trains this row on Shen's
vocabulary (words seen at least 5 times, data.vocab_min_count) and batches (train.batching=shen: length-
sorted, the smaller style repeated up to the larger).

Departures from the TensorFlow code, one line each:
- K styles: D_k's fakes are the batches of all other styles transferred to k (Shen: the other half).
- Shen's one Adam also counts the discriminators' updates in its bias correction (TensorFlow's beta powers
  are per optimizer); here each Adam counts its own steps, which differs only in the first hundred or so.
- The encoder skips padding (packed); Shen left-pads the reversed input and runs the GRU over pads.
- One forward pass per step serves the discriminator and autoencoder updates (Shen reruns it for each).
- PyTorch's default initialisation, except word embeddings (uniform +-0.5, rows scaled to norm 1, as Shen).
- Style embeddings are bias-free maps of the one-hot style (Shen: W * label + b, the same for 2 styles).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from arae.data.batching import Batch, StyleBatcher
from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.errors import ConfigError
from arae.seeding import derive_seed
from arae.models import MODELS
from arae.models.capabilities import TRANSFERS
from arae.models.method import TextMethod, adam

# Shen's code at two dates, chosen by `settings`; a key of these set in the config (not None) overrides its value.
SETTINGS = {
    # the released code (February 2018): non-saturating loss, clipped AE update, one Adam, noisy encoder input
    "final": {"lr": 5e-4, "beta1": 0.5, "gamma_init": 0.1, "gamma_decay": 1.0, "gamma_min": 0.1,
              "filter_sizes": [1, 2, 3, 4, 5], "adv_loss": "nonsaturating", "grad_clip": 30.0, "shared_adam": True,
              "shuffle_k": 3},
    # the code of the paper's time (November 2017): the paper's minimax loss, gamma annealed per epoch from 1
    # to 0.001, Adam beta1 0.9, separate Adams for the AE's two updates, no clipping, no input noise
    "shen2017": {"lr": 1e-4, "beta1": 0.9, "gamma_init": 1.0, "gamma_decay": 0.5, "gamma_min": 0.001,
                 "filter_sizes": [3, 4, 5], "adv_loss": "minimax", "grad_clip": None, "shared_adam": False,
                 "shuffle_k": 0},
}
DEFAULTS = {"settings": "final", "dim_y": 200, "dim_z": 500, "dim_emb": 100, "dropout_keep": 0.5, "rho": 1.0,
            "n_filters": 128, "d_threshold": 1.2, "feedback": "gumbel",
            "beam": 8, "beam_maxlen": 20,  # Shen tests with --beam 8 and max_seq_length 20
            **{key: None for key in SETTINGS["final"]}}


def resolve(c: dict) -> dict:
    """The cross_aligned config with its `settings` filled in where a key is None."""
    if c["settings"] not in SETTINGS:
        raise ConfigError(f"cross_aligned.settings={c['settings']!r}: expected one of {', '.join(SETTINGS)}")
    return {**c, **{k: v for k, v in SETTINGS[c["settings"]].items() if c.get(k) is None}}


class CrossAlignedAE(nn.Module):
    def __init__(self, vocab_size: int, n_styles: int, c: dict):
        super().__init__()
        self.n_styles, self.dim_y, self.dim_z, self.keep = n_styles, c["dim_y"], c["dim_z"], c["dropout_keep"]
        dim_h = c["dim_y"] + c["dim_z"]
        self.embedding = nn.Embedding(vocab_size, c["dim_emb"])
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.5, 0.5)
            self.embedding.weight.div_(self.embedding.weight.norm(dim=1, keepdim=True))
        self.style_enc = nn.Linear(n_styles, c["dim_y"], bias=False)
        self.style_dec = nn.Linear(n_styles, c["dim_y"], bias=False)
        self.encoder = nn.GRU(c["dim_emb"], dim_h, batch_first=True)
        self.decoder = nn.GRU(c["dim_emb"], dim_h, batch_first=True)
        self.proj = nn.Linear(dim_h, vocab_size)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Embedding lookup by index_select, whose CPU backward is deterministic."""
        return self.embedding.weight.index_select(0, ids.reshape(-1)).view(*ids.shape, -1)

    def drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, 1 - self.keep, self.training)

    def style(self, linear: nn.Linear, labels: torch.Tensor) -> torch.Tensor:
        return linear(F.one_hot(labels, self.n_styles).to(linear.weight.dtype))

    def encode(self, tgt: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, shuffle_k: int = 0,
               noise: torch.Generator | None = None) -> torch.Tensor:
        """z: the dim_z part of the encoder's last state over the reversed words (tgt without <eos>), their order
        first slightly shuffled by `noise` where `shuffle_k` > 0."""
        if shuffle_k:
            tgt = local_shuffle(tgt, lengths.to(tgt.device) - 1, shuffle_k, noise)
        pos = (lengths - 2).to(tgt.device)[:, None] - torch.arange(tgt.size(1), device=tgt.device)
        ids = tgt.gather(1, pos.clamp(min=0)).masked_fill(pos < 0, PAD_ID)  # wn .. w1, padded
        packed = pack_padded_sequence(self.drop(self.embed(ids)), (lengths - 1).clamp(min=1),
                                      batch_first=True, enforce_sorted=False)
        h0 = F.pad(self.style(self.style_enc, labels), (0, self.dim_z))
        return self.encoder(packed, h0[None])[1][0, :, self.dim_y:]

    def initial(self, labels: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.style(self.style_dec, labels), z], 1)

    def reconstruct(self, src: torch.Tensor, tgt: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced decoding over the whole padded batch (as Shen's, pads included): the token
        cross-entropy summed per sentence and averaged over sentences, and the states h0..h_T."""
        outputs = self.decoder(self.drop(self.embed(src)), h0[None])[0]
        logits = self.proj(self.drop(outputs))
        loss = F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=PAD_ID, reduction="sum")
        return loss / len(src), torch.cat([h0[:, None], outputs], 1)

    def step(self, inp: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.drop(inp)[:, None], h[None])[1][0]

    def soft_decode(self, h: torch.Tensor, steps: int, gamma: float, gumbel: bool = True) -> torch.Tensor:
        """Hidden states h0..h_steps (N, steps + 1, H), feeding softmax((logits + g) / gamma) @ embeddings, g
        Gumbel noise (Shen's gumbel_softmax), or none with `gumbel` False."""
        inp, hs = self.embed(torch.full((h.size(0),), BOS_ID, device=h.device)), [h]
        for t in range(steps):
            if t:
                logits = self.proj(self.drop(hs[-1]))
                if gumbel:
                    u = torch.rand_like(logits)
                    logits = logits - torch.log(-torch.log(u + 1e-20) + 1e-20)
                inp = F.softmax(logits / gamma, dim=1) @ self.embedding.weight
            hs.append(self.step(inp, hs[-1]))
        return torch.stack(hs, 1)

    def greedy(self, h: torch.Tensor, steps: int) -> torch.Tensor:
        """Greedy token ids (N, <= steps), feeding back the argmax word; stops once all emitted <eos>."""
        ids, out = torch.full((h.size(0),), BOS_ID, device=h.device), []
        done = torch.zeros_like(ids, dtype=torch.bool)
        for _ in range(steps):
            h = self.step(self.embed(ids), h)
            ids = self.proj(h).argmax(1)
            out.append(ids)
            done |= ids == EOS_ID
            if bool(done.all()):
                break
        return torch.stack(out, 1)

    def beam(self, h: torch.Tensor, steps: int, width: int) -> torch.Tensor:
        """Shen's beam search (beam_search.py): `width` hypotheses per sentence, each extended by its `width`
        most likely words, the `width` of lowest summed NLL kept (ties in Shen's order: by hypothesis, then
        word); every hypothesis runs all `steps` words, <eos> included (it is cut there afterwards). Returns
        the best hypothesis's ids (N, steps)."""
        n = h.size(0)
        ids = torch.full((n, 1), BOS_ID, device=h.device)
        nll = torch.zeros(n, 1, device=h.device)
        words = torch.zeros(n, 1, 0, dtype=torch.long, device=h.device)
        states = h[:, None]                                                   # (N, hypotheses, H)
        for _ in range(steps):
            k = states.size(1)
            new = self.step(self.embed(ids.reshape(-1)), states.reshape(n * k, -1))
            top, word = F.log_softmax(self.proj(new), dim=1).topk(width, dim=1)  # (N*k, width)
            cand = (nll[:, :, None] - top.view(n, k, width)).view(n, k * width)
            keep = cand.sort(dim=1, stable=True).indices[:, :width]           # (N, width): hypothesis * width + word
            parent = keep // width
            nll = cand.gather(1, keep)
            ids = word.view(n, k * width).gather(1, keep)
            states = new.view(n, k, -1).gather(1, parent[:, :, None].expand(-1, -1, new.size(1)))
            words = torch.cat([words.gather(1, parent[:, :, None].expand(-1, -1, words.size(2))), ids[:, :, None]], 2)
        return words[:, 0]


def local_shuffle(ids: torch.Tensor, n_words: torch.Tensor, k: int, noise: torch.Generator | None = None) -> torch.Tensor:
    """Each row's first n_words ids reordered so that no word moves more than k places (Shen's noise, after
    Lample et al. 2018: sort by position + (k + 1) * U(0, 1), U drawn on the CPU from `noise`); what follows
    them stays in place."""
    position = torch.arange(ids.size(1), device=ids.device).expand_as(ids).to(torch.float)
    keys = position + (k + 1) * torch.rand(ids.shape, generator=noise).to(ids.device)
    keys = torch.where(position < n_words[:, None], keys, position + 1e6)
    return ids.gather(1, keys.argsort(1))


class CNNDiscriminator(nn.Module):
    """Shen's cnn(): convolutions of widths `sizes` over time, leaky ReLU, max over time, dropout, one logit."""

    def __init__(self, dim_h: int, sizes: list[int], n_filters: int, keep: float):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(dim_h, n_filters, w) for w in sizes)
        self.out, self.keep = nn.Linear(n_filters * len(sizes), 1), keep

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (N, L, dim_h) -> (N,)
        pooled = torch.cat([F.leaky_relu(conv(h.transpose(1, 2)), 0.01).amax(2) for conv in self.convs], 1)
        return self.out(F.dropout(pooled, 1 - self.keep, self.training)).squeeze(1)


def bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


@MODELS.register("cross_aligned")
class CrossAligned(TextMethod):
    offers = frozenset({TRANSFERS})
    styled = True

    def __init__(self, vocab, cfg, device, n_styles: int):
        super().__init__(vocab, cfg, device, n_styles)
        self.c = c = resolve(cfg["cross_aligned"])
        if n_styles < 2 or c["adv_loss"] not in ("minimax", "nonsaturating") or c["feedback"] not in ("gumbel", "softmax"):
            raise ConfigError(f"cross_aligned needs >= 2 styles (got {n_styles}), adv_loss minimax or "
                              f"nonsaturating (got {c['adv_loss']!r}) and feedback gumbel or softmax "
                              f"(got {c['feedback']!r})")
        self.ae = CrossAlignedAE(len(vocab), n_styles, c).to(device)
        dim_h = c["dim_y"] + c["dim_z"]
        self.discs = nn.ModuleList(CNNDiscriminator(dim_h, c["filter_sizes"], c["n_filters"], c["dropout_keep"])
                                   for _ in range(n_styles)).to(device)
        self.nets = {"ae": self.ae, "discs": self.discs}
        betas = (c["beta1"], 0.999)
        self.optims = {"ae": adam(self.ae.parameters(), c["lr"], betas),
                       "discs": adam(self.discs.parameters(), c["lr"], betas)}
        if not c["shared_adam"]:  # shen2017: the reconstruction-only update has an Adam of its own
            self.optims["ae_rec"] = adam(self.ae.parameters(), c["lr"], betas)

    @property
    def sentences_per_step(self) -> int:
        return self.cfg["train"]["batch_size"] * self.n_styles

    def _batch(self, step: int, batcher: StyleBatcher) -> tuple[Batch, torch.Tensor, list[int]]:
        """Every style's batch `step` in one batch, padded to a common width of at least
        max(filter_sizes) + 1 tokens (Shen's min_len), with each row's style and the styles' sizes."""
        parts = [b.batch(step) for b in batcher.styles]
        width = max([p.src.size(1) for p in parts] + [max(self.c["filter_sizes"]) + 1])

        def pad(ids: torch.Tensor) -> torch.Tensor:
            return F.pad(ids.to(self.device), (0, width - ids.size(1)), value=PAD_ID)
        batch = Batch(torch.cat([pad(p.src) for p in parts]), torch.cat([pad(p.tgt) for p in parts]),
                      torch.cat([p.lengths for p in parts]))
        labels = torch.cat([torch.full((len(p),), k, device=self.device) for k, p in enumerate(parts)])
        return batch, labels, [len(p) for p in parts]

    def _disc_losses(self, reals: list[torch.Tensor], fakes: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([bce(d(r), 1.0) + bce(d(f), 0.0) for d, r, f in zip(self.discs, reals, fakes)])

    def gamma(self, step: int, batcher: StyleBatcher) -> float:
        """The feedback temperature, annealed after every epoch: max(gamma_min, gamma_init * gamma_decay^epoch)."""
        c = self.c
        return max(c["gamma_min"], c["gamma_init"] * c["gamma_decay"] ** (step // batcher.batches_per_epoch))

    def _hidden_states(self, step: int, batcher: StyleBatcher) -> tuple[torch.Tensor, list, list]:
        """The reconstruction loss, and per style k the real (teacher-forced with y_k) and fake (every
        other style's sentences, soft-decoded with y_k) hidden-state sequences, h0 included."""
        ae = self.ae
        batch, labels, counts = self._batch(step, batcher)
        # Shen draws the noise once, when the batches are made: the noise of batch i is the same every epoch
        noise = torch.Generator().manual_seed(derive_seed(batcher.seed, "noise", step % batcher.batches_per_epoch))
        z = ae.encode(batch.tgt, batch.lengths, labels, self.c["shuffle_k"], noise)
        loss_rec, reals = ae.reconstruct(batch.src, batch.tgt, ae.initial(labels, z))
        z_parts, others = z.split(counts), [len(labels) - n for n in counts]
        z_tsf = torch.cat([torch.cat(z_parts[:k] + z_parts[k + 1:]) for k in range(self.n_styles)])
        labels_tsf = torch.cat([torch.full((n,), k, device=self.device) for k, n in enumerate(others)])
        fakes = ae.soft_decode(ae.initial(labels_tsf, z_tsf), batch.src.size(1), self.gamma(step, batcher),
                               gumbel=self.c["feedback"] == "gumbel")
        return loss_rec, reals.split(counts), fakes.split(others)

    def train_step(self, step: int, batcher: StyleBatcher) -> dict[str, torch.Tensor]:
        c = self.c
        self.ae.train()
        self.discs.train()
        loss_rec, reals, fakes = self._hidden_states(step, batcher)

        loss_d = self._disc_losses([r.detach() for r in reals], [f.detach() for f in fakes])
        self.optims["discs"].zero_grad(set_to_none=True)
        loss_d.sum().backward()
        self.optims["discs"].step()

        if c["adv_loss"] == "minimax":
            loss_adv = -self._disc_losses(reals, fakes).sum()
        else:
            loss_adv = torch.stack([bce(d(f), 1.0) for d, f in zip(self.discs, fakes)]).sum()
        adv_on = bool((loss_d.detach() < c["d_threshold"]).all())  # Shen: reconstruction alone while any D is poor
        optim = self.optims["ae" if adv_on or c["shared_adam"] else "ae_rec"]
        optim.zero_grad(set_to_none=True)
        if adv_on:  # Shen's optimize_tot: rec + rho * adv, gradient norm clipped (final code)
            (loss_rec + c["rho"] * loss_adv).backward()
            if c["grad_clip"]:
                nn.utils.clip_grad_norm_(self.ae.parameters(), c["grad_clip"], foreach=True)
        else:  # Shen's optimize_rec: reconstruction alone, not clipped
            loss_rec.backward()
        optim.step()
        return {"loss_rec": loss_rec.detach(), "loss_adv": loss_adv.detach(), "loss_d": loss_d.detach().sum(),
                "adv_on": torch.tensor(float(adv_on))}

    def transfer(self, sentences: list[list[str]], source: int, target: int) -> list[list[str]]:
        def decode(batch: Batch) -> torch.Tensor:
            with torch.inference_mode():
                z = self.ae.encode(batch.tgt, batch.lengths, torch.full((len(batch),), source, device=self.device))
                h0 = self.ae.initial(torch.full((len(batch),), target, device=self.device), z)
                if self.c["beam"] > 1:
                    return self.ae.beam(h0, self.c["beam_maxlen"], self.c["beam"])
                return self.ae.greedy(h0, self.cfg["eval"]["transfer_maxlen"])
        return self._in_batches(sentences, self.cfg["eval"]["sample_batch"], decode)
