"""The LSTM autoencoder of the official ARAE code (lang/models.py Seq2Seq, yelp/models.py Seq2Seq2Decoder).

The code is the encoder's last hidden state scaled onto the unit sphere; Gaussian noise of
std `noise_r` is added only when training the reconstruction. Each decoder step sees
[word embedding ; code]. One decoder per style (Yelp), sharing the output projection.
Batches run in packed layout (arae/models/lstm.py): no padding is embedded, projected or scored; or, with
`fixed_shapes` (train.fixed_shapes, on by default on CUDA), over the whole padded batch with the same
mathematics, so that every step has the same shapes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.models.lstm import FixedLayout, PackedLayout, packed_lstm, unroll


def uses_fixed_shapes(train_cfg: dict, device: torch.device) -> bool:
    """train.fixed_shapes: true, false, or "auto" (on CUDA only, where launch latency bounds a step)."""
    setting = train_cfg.get("fixed_shapes", "auto")
    return device.type == "cuda" if setting == "auto" else bool(setting)


class Seq2Seq(nn.Module):
    def __init__(self, vocab_size: int, emsize: int, nhidden: int, nlayers: int = 1,
                 noise_r: float = 0.0, n_decoders: int = 1, fixed_shapes: bool = False):
        super().__init__()
        self.nhidden, self.fixed_shapes = nhidden, fixed_shapes
        self.register_buffer("noise_r", torch.tensor(float(noise_r)))  # annealed; saved with the weights
        self.enc_embedding = nn.Embedding(vocab_size, emsize, padding_idx=PAD_ID)
        self.encoder = nn.LSTM(emsize, nhidden, nlayers, batch_first=True)
        self.dec_embeddings = nn.ModuleList(nn.Embedding(vocab_size, emsize, padding_idx=PAD_ID)
                                            for _ in range(n_decoders))
        self.decoders = nn.ModuleList(nn.LSTM(emsize + nhidden, nhidden, 1, batch_first=True)
                                      for _ in range(n_decoders))
        self.linear = nn.Linear(nhidden, vocab_size)
        for p in self.parameters():  # the official uniform(-0.1, 0.1), output bias 0
            nn.init.uniform_(p, -0.1, 0.1)
        nn.init.zeros_(self.linear.bias)

    def anneal_noise(self, step: int, every: int, factor: float) -> None:
        """noise_r *= factor every `every` iterations, counted from the start of training."""
        if step > 0 and step % every == 0:
            self.noise_r *= factor

    def layout(self, lengths: torch.Tensor, width: int, device: torch.device) -> PackedLayout | FixedLayout:
        return (FixedLayout if self.fixed_shapes else PackedLayout).of(lengths, width, device)

    def encode(self, src: torch.Tensor, lengths: torch.Tensor, noise: bool = False,
               layout: PackedLayout | FixedLayout | None = None) -> torch.Tensor:
        layout = layout or self.layout(lengths, src.size(1), src.device)
        h = packed_lstm(self.encoder, layout, self.enc_embedding, layout.pack(src))
        code = F.normalize(layout.last_tokens(h), dim=1)
        if noise:
            code = code + torch.randn_like(code) * self.noise_r
        return code

    def encoder_parameters(self) -> list[nn.Parameter]:
        """What `encode` reads: the encoder's embedding and LSTM."""
        return [*self.enc_embedding.parameters(), *self.encoder.parameters()]

    def reconstruction_loss(self, src, tgt, lengths, noise: bool = True, decoder: int = 0) -> torch.Tensor:
        """Mean token cross-entropy over non-pad targets, <eos> included (the official loss); in packed layout
        the output projection is computed for real tokens only."""
        layout = self.layout(lengths, src.size(1), src.device)
        code = self.encode(src, lengths, noise, layout)
        h = packed_lstm(self.decoders[decoder], layout, self.dec_embeddings[decoder], layout.pack(src), extra=code)
        return F.cross_entropy(self.linear(h), layout.pack(tgt), ignore_index=PAD_ID)

    def sentence_nll(self, noised: torch.Tensor, original_src: torch.Tensor, original_tgt: torch.Tensor,
                     lengths: torch.Tensor) -> torch.Tensor:
        """(B,) NLL of each original sentence (summed over its tokens, <eos> included) decoded from the
        noise-free code of its noised version, which has the same length (word swaps keep it)."""
        layout = self.layout(lengths, noised.size(1), noised.device)
        code = self.encode(noised, lengths, layout=layout)
        h = packed_lstm(self.decoders[0], layout, self.dec_embeddings[0], layout.pack(original_src), extra=code)
        token_nll = F.cross_entropy(self.linear(h), layout.pack(original_tgt), reduction="none", ignore_index=PAD_ID)
        return torch.zeros(len(lengths), device=h.device).index_add_(0, layout.seq, token_nll)

    def generate(self, code: torch.Tensor, maxlen: int, decoder: int = 0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Token ids (B, <=maxlen), padded after <eos>: greedy, as the paper decodes, or drawn from the softmax
        with `generator` (the official generate(sample=True), temperature 1)."""
        lstm, embed = self.decoders[decoder], self.dec_embeddings[decoder]
        with torch.inference_mode():
            code_gates = torch.addmm(lstm.bias_ih_l0 + lstm.bias_hh_l0, code,
                                     lstm.weight_ih_l0[:, embed.embedding_dim:].t())
        def choose(logits: torch.Tensor) -> torch.Tensor:
            if generator is None:
                return logits.argmax(1)
            return torch.multinomial(F.softmax(logits.float(), 1), 1, generator=generator).squeeze(1)
        return unroll(lstm, embed, self.linear, code_gates, BOS_ID, maxlen, choose, EOS_ID)
