"""The fast paths compute what the simple (official) paths compute: same losses, gradients, batches
and decodes, within float tolerance. The references here are written the plain way on purpose."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from arae.data.batching import collate, make_batcher
from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID
from arae.models.arae import ARAE
from arae.models.lstm import PackedLayout, packed_lstm
from arae.models.seq2seq import Seq2Seq
from arae.training.steps import critic_step, encoder_adversarial_step, generator_step
from arae.models.lm import LSTMLanguageModel

V, E, H = 40, 12, 16


def _sentences(n, seed=1, lo=1, hi=9):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(4, V, (int(torch.randint(lo, hi, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


def _grads(module):
    return {k: p.grad.clone() for k, p in module.named_parameters() if p.grad is not None}


def _assert_close_dicts(a, b, **tol):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], **tol, msg=lambda m, k=k: f"{k}: {m}")


@pytest.mark.parametrize("layers, with_extra", [(1, False), (2, False), (1, True)])
def test_sorted_lstm_kernel_matches_nn_lstm_outputs_and_gradients(layers, with_extra):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(E + (H if with_extra else 0), H, layers, batch_first=True).double()
    embedding = torch.nn.Embedding(V, E).double()
    lengths = torch.tensor([3, 7, 7, 1, 5, 2, 7])  # unsorted, with ties
    layout = PackedLayout.of(lengths, 8, torch.device("cpu"))
    ids = layout.pack(torch.randint(4, 12, (len(lengths), 8)))  # few words, so most repeat
    extra = torch.randn(len(lengths), H, dtype=torch.double, requires_grad=True) if with_extra else None
    weights = torch.randn(len(ids), H, dtype=torch.double)  # a loss that weighs every output
    results = []
    for kernel in ("sorted", "cudnn"):  # "cudnn" is nn.LSTM on a PackedSequence (native kernel on CPU)
        lstm.zero_grad()
        embedding.zero_grad()
        if extra is not None:
            extra.grad = None
        h = packed_lstm(lstm, layout, embedding, ids, extra, kernel=kernel)
        ((h * weights).sum() + h[layout.last].pow(2).sum()).backward()
        results.append((h.detach(), {**_grads(lstm), **_grads(embedding)},
                        None if extra is None else extra.grad.clone()))
    (h1, g1, e1), (h2, g2, e2) = results
    torch.testing.assert_close(h1, h2)
    _assert_close_dicts(g1, g2)
    if with_extra:
        torch.testing.assert_close(e1, e2)


def test_packed_layout_matches_pack_padded_sequence():
    lengths = torch.tensor([2, 5, 5, 1])
    padded = torch.arange(4 * 5).view(4, 5)
    layout = PackedLayout.of(lengths, 5, torch.device("cpu"))
    reference = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    assert layout.batch_sizes == reference.batch_sizes.tolist()
    assert torch.equal(layout.pack(padded), reference.data)
    assert torch.equal(layout.pack(padded)[layout.last], padded[torch.arange(4), lengths - 1])


def _official_reconstruction_loss(ae: Seq2Seq, b, code):
    """The official decode: nn.LSTM over [embedding ; code] at every padded position, the output
    projection over all of them, the loss over non-pad targets."""
    steps = code.unsqueeze(1).expand(-1, b.src.size(1), -1)
    packed = pack_padded_sequence(torch.cat([ae.dec_embeddings[0](b.src), steps], 2), b.lengths,
                                  batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(ae.decoders[0](packed)[0], batch_first=True, total_length=b.src.size(1))
    logits = ae.linear(out)
    mask = b.tgt != PAD_ID
    return F.cross_entropy(logits[mask], b.tgt[mask])


def _official_encode(ae: Seq2Seq, b):
    packed = pack_padded_sequence(ae.enc_embedding(b.src), b.lengths, batch_first=True, enforce_sorted=False)
    return F.normalize(ae.encoder(packed)[1][0][-1], dim=1)


def test_reconstruction_loss_and_gradients_equal_the_official_computation():
    torch.manual_seed(0)
    ae, b = Seq2Seq(V, E, H).double(), collate(_sentences(9))
    loss = ae.reconstruction_loss(b.src, b.tgt, b.lengths, noise=False)
    loss.backward()
    fast = _grads(ae)
    ae.zero_grad()
    reference = _official_reconstruction_loss(ae, b, _official_encode(ae, b))
    reference.backward()
    torch.testing.assert_close(loss, reference)
    _assert_close_dicts(fast, _grads(ae))


def test_language_model_loss_equals_the_padded_computation():
    torch.manual_seed(0)
    lm, b = LSTMLanguageModel(V, E, H).double(), collate(_sentences(7))
    packed = pack_padded_sequence(lm.embedding(b.src), b.lengths, batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(lm.lstm(packed)[0], batch_first=True, total_length=b.src.size(1))
    mask = b.tgt != PAD_ID
    torch.testing.assert_close(lm.loss(b.src, b.tgt, b.lengths), F.cross_entropy(lm.linear(out)[mask], b.tgt[mask]))


def _official_greedy(ae: Seq2Seq, code, maxlen):
    """The official generate: every step for every row, [embedding ; code] into nn.LSTM, argmax."""
    token, state, out = torch.full((code.size(0), 1), BOS_ID), None, []
    for _ in range(maxlen):
        h, state = ae.decoders[0](torch.cat([ae.dec_embeddings[0](token), code.unsqueeze(1)], 2), state)
        token = ae.linear(h[:, -1]).argmax(-1, keepdim=True)
        out.append(token)
    ids = torch.cat(out, 1)
    ended = (ids == EOS_ID).int().cumsum(1) - (ids == EOS_ID).int() > 0  # positions after the first <eos>
    return ids.masked_fill(ended, PAD_ID)


def test_greedy_generation_equals_the_official_decode_cut_at_eos():
    torch.manual_seed(3)
    ae = Seq2Seq(V, E, H).double()
    with torch.no_grad():
        for p in ae.parameters():
            p.mul_(20)  # far from the small init: sentences of mixed lengths
    code = F.normalize(torch.randn(50, H, dtype=torch.double), dim=1)
    fast, reference = ae.generate(code, 12), _official_greedy(ae, code, 12)
    assert len({int((row != PAD_ID).sum()) for row in fast}) > 2  # rows really do end at different steps
    assert torch.equal(fast, reference[:, :fast.size(1)])
    assert (reference[:, fast.size(1):] == PAD_ID).all()


def test_batches_are_slices_of_the_prepared_tables_and_equal_a_fresh_collation():
    sentences = _sentences(50, hi=12)
    batcher = make_batcher("official", sentences, 8, seed=4)
    lookup = {tuple(s): i for i, s in enumerate(sentences)}
    for b in (batcher.batch(3), batcher.random_batch(3, 1)):
        assert b.lengths.tolist() == sorted(b.lengths.tolist(), reverse=True)  # longest first
        rows = [sentences[lookup[tuple(row[1:n].tolist())]] for row, n in zip(b.src, b.lengths.tolist())]
        again = collate(rows)
        assert torch.equal(b.src, again.src) and torch.equal(b.tgt, again.tgt)
    stacked = batcher.random_batches(3, 3)
    for k in range(3):
        one = batcher.random_batch(3, k)
        assert torch.equal(stacked.src[8 * k:8 * (k + 1), :one.src.size(1)], one.src)
        assert (stacked.src[8 * k:8 * (k + 1), one.src.size(1):] == PAD_ID).all()


def _arae(cfg_train=None):
    from benchmarks.snli_generation import SMOKE_CONFIG
    from arae.config import deep_merge
    from arae.data.vocab import Vocab
    cfg = deep_merge(SMOKE_CONFIG, {"model": {"emsize": E, "nhidden": H, "z_size": 8, "arch_g": "16-16",
                                              "arch_d": "16-16"},
                                    "train": {"batch_size": 8, "critic_iters": 3, **(cfg_train or {})}})
    vocab = Vocab([f"w{i}" for i in range(V - 4)])
    return ARAE(vocab, cfg, torch.device("cpu")), cfg


@pytest.fixture
def float64():
    """Double precision: in float32, Adam turns rounding noise in gradients that are zero in exact
    arithmetic (a bias before BatchNorm) into full-size updates, which hides real differences."""
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def test_arae_iteration_equals_the_official_sequence_of_steps(float64):
    """One encoder call for all critic batches, fused Adam and foreach SGD give the weights that the
    official sequence of separate steps with for-loop optimizers gives."""
    sentences = _sentences(80)
    batcher = make_batcher("official", sentences, 8, seed=2)
    torch.manual_seed(0)
    fast, cfg = _arae()
    reference = copy.deepcopy(fast)
    t, m = cfg["train"], cfg["model"]
    betas = (t["beta1"], 0.999)
    reference.optims = {
        "ae": torch.optim.SGD(reference.ae.parameters(), lr=t["lr_ae"], foreach=False),
        "gen": torch.optim.Adam(reference.gen.parameters(), lr=t["lr_gan_g"], betas=betas, foreach=False),
        "critic": torch.optim.Adam(reference.critic.parameters(), lr=t["lr_gan_d"], betas=betas, foreach=False)}
    for step in range(3):
        torch.manual_seed(10 + step)
        fast_losses = fast.train_step(step, batcher)
        torch.manual_seed(10 + step)
        reference.ae.train()
        reference.ae.anneal_noise(step, t["anneal_every"], m["noise_anneal"])
        opt_ae = reference.optims["ae"]
        opt_ae.zero_grad()
        b = batcher.batch(step)
        loss = _official_reconstruction_loss(reference.ae, b, reference.ae.encode(b.src, b.lengths, noise=True))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(reference.ae.parameters(), t["clip"], foreach=False)
        opt_ae.step()
        for k in range(t["critic_iters"]):
            rb = batcher.random_batch(step, k)
            with torch.no_grad():
                real = _official_encode(reference.ae, rb)
            critic_step(reference.gen, reference.critic, reference.optims["critic"], real, m["z_size"], t["gp_lambda"])
        encoder_adversarial_step(reference.ae, reference.critic, opt_ae, batcher.random_batch(step, t["critic_iters"]),
                                 t["grad_lambda"], t["clip"])
        generator_step(reference.gen, reference.critic, reference.optims["gen"], t["batch_size"], m["z_size"],
                       torch.device("cpu"))
        torch.testing.assert_close(fast_losses["loss_ae"], loss.detach())
    for name in ("ae", "gen", "critic"):
        _assert_close_dicts(dict(fast.nets[name].state_dict()), dict(reference.nets[name].state_dict()))


def test_gradients_are_bitwise_identical_when_recomputed_with_two_threads():
    """Determinism on CPU: every gather with a gradient uses index_select, whose backward is
    deterministic (tensor[index] accumulates in parallel and differs from call to call)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(0)
        ae, b = Seq2Seq(V, 64, 300), collate(_sentences(64, hi=15))
        digests = set()
        for _ in range(8):
            ae.zero_grad()
            ae.reconstruction_loss(b.src, b.tgt, b.lengths, noise=False).backward()
            digests.add(b"".join(p.grad.numpy().tobytes() for p in ae.parameters()))
    finally:
        torch.set_num_threads(threads)
    assert len(digests) == 1
