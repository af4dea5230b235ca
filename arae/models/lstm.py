"""LSTMs over packed token layouts, with one recurrence kernel per device.

Every token of a batch is kept once, in time-major order with the longest sequence first (the
layout of torch's PackedSequence), so embeddings, the output projection and the loss touch no
padding. The recurrence runs either as `nn.LSTM` on a PackedSequence (cuDNN on CUDA) or, on the
CPU, as `SortedLSTM`, which does the same mathematics in fewer, larger matmuls, as cuDNN does:
- the first layer's input projection once per distinct word of the batch (a batch of 64 SNLI
  sentences has about 600 tokens but 230 distinct words), gathered per token;
- per time step only `h @ W_hh` over the rows still live;
- a hand-written backward whose weight gradients are one matmul each, after the loop.
Both kernels compute nn.LSTM's function (gates i, f, g, o; both biases); tests compare their
outputs and gradients.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from arae.data.vocab import PAD_ID


@dataclass
class PackedLayout:
    """Where each token of a padded (B, T) batch sits in time-major packed order. Gathers use
    index_select: its backward is deterministic on the CPU, that of tensor[index] is not."""

    batch_sizes: list[int]      # live sequences at each time step (non-increasing)
    flat_index: torch.Tensor    # (N,) position of each packed token in the flattened (B, T) batch
    seq: torch.Tensor           # (N,) batch row of each packed token
    last: torch.Tensor          # (B,) packed position of each row's last token
    order: torch.Tensor         # (B,) batch rows, longest first (ties keep batch order)

    @classmethod
    def of(cls, lengths: torch.Tensor, width: int, device: torch.device) -> "PackedLayout":
        lengths = lengths.cpu()
        order = torch.sort(lengths, descending=True, stable=True).indices
        sorted_lengths = lengths[order]
        live = sorted_lengths.unsqueeze(0) > torch.arange(int(sorted_lengths[0])).unsqueeze(1)  # (T, B)
        step, rank = live.nonzero(as_tuple=True)  # row-major: time-major packed order
        batch_sizes = live.sum(1)
        starts = torch.cumsum(batch_sizes, 0) - batch_sizes
        last = torch.empty_like(order)
        last[order] = starts[sorted_lengths - 1] + torch.arange(len(order))
        seq = order[rank]
        return cls(batch_sizes.tolist(), (seq * width + step).to(device), seq.to(device), last.to(device),
                   order)

    def pack(self, padded: torch.Tensor) -> torch.Tensor:
        """(B, T, ...) -> (N, ...): the real tokens only, in packed order."""
        return padded.flatten(0, 1).index_select(0, self.flat_index)

    def per_token(self, per_sequence: torch.Tensor) -> torch.Tensor:
        """(B, ...) -> (N, ...): each token gets its sequence's row."""
        return per_sequence.index_select(0, self.seq)

    def last_tokens(self, packed: torch.Tensor) -> torch.Tensor:
        """(N, ...) -> (B, ...): each sequence's last token, in batch order."""
        return packed.index_select(0, self.last)

    def packed_sequence(self, data: torch.Tensor) -> PackedSequence:
        order = self.order.to(data.device)
        return PackedSequence(data, torch.tensor(self.batch_sizes), order, torch.argsort(order))


@dataclass
class FixedLayout:
    """Every position of a padded (B, T) batch, padding included, in batch-major order: the shapes depend on
    (B, T) alone, never on the lengths, so a step can be captured once as a CUDA graph and replayed. The
    mathematics are the packed layout's: a sequence's outputs at its real tokens do not depend on what
    follows them, its code is read at its last real token, and losses leave the padding out."""

    batch: int
    width: int
    seq: torch.Tensor           # (B*T,) batch row of each position
    last: torch.Tensor          # (B,) flat position of each row's last real token

    @classmethod
    def of(cls, lengths: torch.Tensor, width: int, device: torch.device) -> "FixedLayout":
        lengths = lengths.to(device, non_blocking=True)  # no host sync: the lengths stay data
        rows = torch.arange(len(lengths), device=device)
        return cls(len(lengths), width, rows.repeat_interleave(width), rows * width + lengths - 1)

    def pack(self, padded: torch.Tensor) -> torch.Tensor:
        return padded.flatten(0, 1)

    def per_token(self, per_sequence: torch.Tensor) -> torch.Tensor:
        return per_sequence.index_select(0, self.seq)

    def last_tokens(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.index_select(0, self.last)


def cell_update_(gates: torch.Tensor, c_prev: torch.Tensor, h_out: torch.Tensor | None = None,
                 c_out: torch.Tensor | None = None, tanh_c_out: torch.Tensor | None = None):
    """The LSTM cell after its matmuls: activates the pre-activation `gates` (n, 4H) in place (they are
    kept for the backward) and returns the new (h, c, tanh(c))."""
    hidden = gates.size(1) // 4
    gates[:, :2 * hidden].sigmoid_()
    gates[:, 2 * hidden:3 * hidden].tanh_()
    gates[:, 3 * hidden:].sigmoid_()
    i, f, cand, o = gates.chunk(4, 1)
    c = torch.addcmul(f * c_prev, i, cand, out=c_out)
    tanh_c = torch.tanh(c, out=tanh_c_out)
    return torch.mul(o, tanh_c, out=h_out), c, tanh_c


class SortedLSTM(torch.autograd.Function):
    """One LSTM layer over packed tokens: returns h (N, H) per token. Row j of a time step is the same
    sequence at every step (rows sorted longest first), so the live rows are a prefix.

    x: (U, in) inputs, token k's being x[rows[k]] (rows None: U = N, one row per token); bias: (4H,)
    (b_ih + b_hh), or (N, 4H) when part of the input is constant per sequence."""

    @staticmethod
    def forward(ctx, x, w_ih, bias, w_hh, batch_sizes: list[int], rows: torch.Tensor | None):
        hidden, per_token_bias = w_hh.size(1), bias.dim() == 2
        proj = x @ w_ih.t() if per_token_bias else torch.addmm(bias, x, w_ih.t())
        gates = proj if rows is None else proj[rows]  # activated in place below: its own buffer
        if per_token_bias:
            gates += bias
        c, h, tanh_c = (x.new_empty(gates.size(0), hidden) for _ in range(3))
        h_prev = c_prev = x.new_zeros(batch_sizes[0], hidden)
        start = 0
        for n in batch_sizes:
            g = gates[start:start + n].addmm_(h_prev[:n], w_hh.t())
            h_prev, c_prev, _ = cell_update_(g, c_prev[:n], h[start:start + n], c[start:start + n],
                                             tanh_c[start:start + n])
            start += n
        ctx.batch_sizes, ctx.per_token_bias = batch_sizes, per_token_bias
        ctx.save_for_backward(x, w_ih, w_hh, rows, gates, c, h, tanh_c)
        return h

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor):
        x, w_ih, w_hh, rows, gates, c, h, tanh_c = ctx.saved_tensors
        batch_sizes, hidden, first = ctx.batch_sizes, w_hh.size(1), ctx.batch_sizes[0]
        starts = torch.tensor([0, *batch_sizes]).cumsum(0).tolist()
        # packed position of each token's previous step (same sequence), for tokens after the first step
        prev = torch.cat([torch.arange(starts[t - 1], starts[t - 1] + batch_sizes[t])
                          for t in range(1, len(batch_sizes))] or [torch.zeros(0, dtype=torch.long)]).to(h.device)
        # everything that does not depend on the recurrence, for all tokens at once: per step, the loop
        # below is then dgates = factors * (dc, dc, dc, dh) and one matmul
        i, f, cand, o = gates.chunk(4, 1)
        c_prev = torch.cat([c.new_zeros(first, hidden), c[prev]])
        factors = torch.stack([cand * i * (1 - i), c_prev * f * (1 - f), i * (1 - cand * cand),
                               tanh_c * o * (1 - o)], 1)  # (N, 4, H)
        dh_to_dc = o * (1 - tanh_c * tanh_c)
        grad_gates = torch.empty_like(gates)
        # rows beyond the current step's live prefix are never written, so they stay zero: a sequence
        # gets no gradient from steps after its last token
        dh_next, dc_next = grad_h.new_zeros(first, hidden), grad_h.new_zeros(first, hidden)
        for t in reversed(range(len(batch_sizes))):
            n, s = batch_sizes[t], starts[t]
            dh = grad_h[s:s + n] + dh_next[:n]
            dc = torch.addcmul(dc_next[:n], dh, dh_to_dc[s:s + n])
            dgates = grad_gates[s:s + n].view(n, 4, hidden)
            torch.mul(factors[s:s + n, :3], dc.unsqueeze(1), out=dgates[:, :3])
            torch.mul(factors[s:s + n, 3], dh, out=dgates[:, 3])
            if t:  # the first step has no previous state to pass gradients to
                torch.mul(dc, f[s:s + n], out=dc_next[:n])
                torch.mm(grad_gates[s:s + n], w_hh, out=dh_next[:n])
        # the weight gradients in one matmul each, over every distinct input and every token after the first step
        grad_proj = grad_gates if rows is None else grad_gates.new_zeros(x.size(0), 4 * hidden).index_add_(
            0, rows, grad_gates)
        grad_bias = grad_gates if ctx.per_token_bias else grad_proj.sum(0)
        grad_x = grad_proj @ w_ih if ctx.needs_input_grad[0] else None
        return grad_x, grad_proj.t() @ x, grad_bias, grad_gates[first:].t() @ h[prev], None, None


def packed_lstm(lstm: nn.LSTM, layout: PackedLayout | FixedLayout, embedding: nn.Embedding, ids: torch.Tensor,
                extra: torch.Tensor | None = None, kernel: str | None = None) -> torch.Tensor:
    """Outputs (N, H) of the last layer at every packed token, the first layer reading embedding(ids)
    for the packed word ids `ids` (N,).

    `extra` (B, E), if given, is appended to every token's input of the first layer (the decoder
    sees [word ; code]); its input projection is computed once per sequence, not once per token.
    `kernel`: "sorted" (SortedLSTM, the CPU default) or "cudnn" (nn.LSTM, the CUDA default).
    """
    if isinstance(layout, FixedLayout):  # nn.LSTM over the whole padded batch (cuDNN on CUDA)
        x = embedding(ids)
        if extra is not None:
            x = torch.cat([x, layout.per_token(extra)], 1)
        return lstm(x.view(layout.batch, layout.width, -1))[0].flatten(0, 1)
    kernel = kernel or ("sorted" if ids.device.type == "cpu" else "cudnn")
    if kernel == "cudnn":
        x = embedding(ids)
        if extra is not None:
            x = torch.cat([x, layout.per_token(extra)], 1)
        return lstm(layout.packed_sequence(x))[0].data
    words, rows = torch.unique(ids, return_inverse=True)
    x = embedding(words)
    for layer in range(lstm.num_layers):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        width = x.size(1)
        if layer == 0 and extra is not None:
            bias = layout.per_token(torch.addmm(bias, extra, w_ih[:, width:].t()))
        x = SortedLSTM.apply(x, w_ih[:, :width], bias, w_hh, layout.batch_sizes, rows if layer == 0 else None)
    return x


@torch.inference_mode()
def unroll(lstm: nn.LSTM, embed: nn.Embedding, project: nn.Linear, start_gates: torch.Tensor, first: int,
           maxlen: int, choose, stop: int) -> torch.Tensor:
    """Feeds each chosen token back in, from token `first`, for the (B, 4H) per-sequence constant part
    of the gates (biases, and the code's projection for a decoder). Only sequences still live are
    computed: a row leaves the batch once it emits `stop`, and decoding ends with the longest one.
    `choose(logits)` picks the next tokens of the live rows. Returns (B, <=maxlen) ids, padded after
    each row's `stop`."""
    if lstm.num_layers != 1:
        raise ValueError("unroll decodes single-layer LSTMs")
    rows = torch.arange(start_gates.size(0), device=start_gates.device)
    w_emb, w_hh = lstm.weight_ih_l0[:, :embed.embedding_dim], lstm.weight_hh_l0
    h = c = start_gates.new_zeros(start_gates.size(0), w_hh.size(1))
    token = torch.full_like(rows, first)
    out = torch.full((start_gates.size(0), maxlen), PAD_ID, dtype=torch.long, device=rows.device)
    for t in range(maxlen):
        gates = torch.addmm(start_gates, embed(token), w_emb.t()).addmm_(h, w_hh.t())
        h, c, _ = cell_update_(gates, c)
        token = choose(project(h))
        out[rows, t] = token
        live = token != stop
        if not bool(live.all()):  # a host sync, once per step: rows that ended leave the batch
            if not bool(live.any()):
                return out[:, :t + 1]
            rows, token, h, c, start_gates = rows[live], token[live], h[live], c[live], start_gates[live]
    return out
