"""The fixed-shape path (train.fixed_shapes: every batch padded to one width, the LSTMs run over the padding,
codes read at each sentence's last real token, losses masked) computes what the packed path computes: the
same losses and gradients, the same codes, the same per-sentence NLLs and, over a few ARAE iterations, the
same training."""
import copy

import pytest
import torch

from arae.config import deep_merge
from arae.data.batching import OfficialBatcher, collate
from arae.data.vocab import Vocab
from arae.models.arae import ARAE
from arae.models.seq2seq import Seq2Seq, uses_fixed_shapes
from benchmarks.snli_generation import SMOKE_CONFIG

SENTENCES = [s.split() for s in ["a man sleeps .", "two dogs are running in the park .", "a child eats",
                                 "people sit on a bench near the water .", "the girl is singing", "a boy ."]]


def _models(n_decoders: int = 1) -> tuple[Seq2Seq, Seq2Seq]:
    torch.manual_seed(0)
    packed = Seq2Seq(40, 16, 24, noise_r=0.0, n_decoders=n_decoders)
    fixed = copy.deepcopy(packed)
    fixed.fixed_shapes = True
    return packed, fixed


def _batch(width_extra: int = 0):
    vocab = Vocab.build(SENTENCES, 40)
    batch = collate([vocab.encode(s) for s in SENTENCES])
    pad = torch.nn.functional.pad
    return batch.src, batch.tgt, batch.lengths, pad(batch.src, (0, width_extra)), pad(batch.tgt, (0, width_extra))


@pytest.mark.parametrize("extra", [0, 5])  # the longest row fills the width, or every row is padded
def test_losses_gradients_codes_and_nlls_equal_the_packed_paths(extra):
    packed, fixed = _models(n_decoders=2)
    src, tgt, lengths, wide_src, wide_tgt = _batch(extra)
    for decoder in (0, 1):
        a = packed.reconstruction_loss(src, tgt, lengths, noise=False, decoder=decoder)
        b = fixed.reconstruction_loss(wide_src, wide_tgt, lengths, noise=False, decoder=decoder)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        packed.zero_grad(), fixed.zero_grad()
        a.backward(), b.backward()
        for (name, p), q in zip(packed.named_parameters(), fixed.parameters()):
            if p.grad is None:
                assert q.grad is None or not q.grad.any(), name
            else:
                torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)
    torch.testing.assert_close(packed.encode(src, lengths), fixed.encode(wide_src, lengths), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(packed.sentence_nll(src, src, tgt, lengths),
                               fixed.sentence_nll(wide_src, wide_src, wide_tgt, lengths), rtol=1e-5, atol=1e-5)


def test_arae_trains_alike_on_both_paths():
    vocab = Vocab.build(SENTENCES * 4, 40)
    encoded = [vocab.encode(s) for s in SENTENCES * 4]
    cfg = deep_merge(SMOKE_CONFIG, {"train": {"batch_size": 6, "critic_iters": 2}})
    runs = {}
    for setting in (False, True):
        torch.manual_seed(0)
        cfg_path = deep_merge(cfg, {"train": {"fixed_shapes": setting}})
        model, batcher = ARAE(vocab, cfg_path, torch.device("cpu")), OfficialBatcher(encoded, 6, 1)
        if setting:
            batcher.fix_width(batcher.src.size(1) + 3)
            assert batcher.batch(0).src.size(1) == batcher.src.size(1) and batcher.shapes.startswith("fixed")
        runs[setting] = [{k: float(v) for k, v in model.train_step(step, batcher).items()} for step in range(4)]
    for packed, fixed in zip(runs[False], runs[True]):
        assert packed.keys() == fixed.keys()
        for key in packed:
            assert fixed[key] == pytest.approx(packed[key], rel=1e-4, abs=1e-5), key


def test_the_setting_is_on_by_default_on_cuda_only():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not uses_fixed_shapes({"fixed_shapes": "auto"}, cpu) and uses_fixed_shapes({"fixed_shapes": "auto"}, cuda)
    assert uses_fixed_shapes({"fixed_shapes": True}, cpu) and not uses_fixed_shapes({"fixed_shapes": False}, cuda)
    assert not uses_fixed_shapes({}, cpu)
