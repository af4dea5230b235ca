"""Vocabulary and the step-addressed, length-bucketed batches that make resume exact."""
import torch

from arae.data.batching import BucketBatcher, collate
from arae.data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Vocab


def test_vocab_top_k_with_deterministic_ties_and_specials_first():
    vocab = Vocab.build([["b", "a", "c"], ["b", "a"], ["d"]], max_size=3)
    assert vocab.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"]
    assert vocab.encode(["a", "zzz"]) == [4, UNK_ID]
    assert vocab.decode([BOS_ID, 4, 5, EOS_ID, 6]) == ["a", "b"]
    assert vocab.words == ["a", "b", "c"]


def test_collate_shifts_source_and_target():
    batch = collate([[5, 6, 7], [8]])
    assert batch.src.tolist() == [[BOS_ID, 5, 6, 7], [BOS_ID, 8, PAD_ID, PAD_ID]]
    assert batch.tgt.tolist() == [[5, 6, 7, EOS_ID], [8, EOS_ID, PAD_ID, PAD_ID]]
    assert batch.lengths.tolist() == [4, 2]


def _sentences(n=100):
    g = torch.Generator().manual_seed(0)
    return [torch.randint(4, 50, (int(torch.randint(1, 15, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


def test_batch_is_a_pure_function_of_the_step():
    data = _sentences()
    a, b = BucketBatcher(data, 8, seed=3), BucketBatcher(data, 8, seed=3)
    for step in [0, 5, 30, 12, 0, 99]:  # any order, across epochs: same batch as a fresh batcher
        assert torch.equal(a.batch(step).src, b.batch(step).src)
        assert torch.equal(a.random_batch(step, 2).src, b.random_batch(step, 2).src)
    assert not torch.equal(a.batch(0).src, BucketBatcher(data, 8, seed=4).batch(0).src)


def test_a_corpus_smaller_than_a_batch_is_one_batch():
    batcher = BucketBatcher([[5], [6, 7]], 64, seed=0)
    assert batcher.batches_per_epoch == 1 and len(batcher.batch(3)) == 2 and len(batcher.random_batch(0, 1)) == 2


def test_epoch_covers_distinct_sentences_in_length_buckets_and_reshuffles():
    data = _sentences()
    batcher = BucketBatcher(data, 8, seed=1)
    n = batcher.batches_per_epoch
    assert n == 12
    epoch0 = [batcher.batch(i) for i in range(n)]
    spreads = [int(b.lengths.max() - b.lengths.min()) for b in epoch0]
    assert max(spreads) <= 3  # similar lengths in a batch
    rows = {tuple(r) for b in epoch0 for r in b.tgt.tolist()}
    assert len(rows) >= n * 8 - 5  # (almost) no sentence twice in an epoch, up to duplicates in the data
    assert [b.src.tolist() for b in epoch0] != [batcher.batch(n + i).src.tolist() for i in range(n)]
