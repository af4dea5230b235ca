"""Vocabulary and the step-addressed, length-bucketed batches that make resume exact."""
import pytest
import torch

from arae.data.batching import StyleBatcher, collate, make_batcher
from arae.errors import ConfigError
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


@pytest.mark.parametrize("kind", ["official", "bucket"])
def test_batch_is_a_pure_function_of_the_step(kind):
    data = _sentences()
    a, b = make_batcher(kind, data, 8, seed=3), make_batcher(kind, data, 8, seed=3)
    for step in [0, 5, 30, 12, 0, 99]:  # any order, across epochs: same batch as a fresh batcher
        assert torch.equal(a.batch(step).src, b.batch(step).src)
        assert torch.equal(a.random_batch(step, 2).src, b.random_batch(step, 2).src)
    assert not torch.equal(a.batch(0).src, make_batcher(kind, data, 8, seed=4).batch(0).src)


@pytest.mark.parametrize("kind", ["official", "bucket"])
def test_a_corpus_smaller_than_a_batch_is_one_batch(kind):
    batcher = make_batcher(kind, [[5], [6, 7]], 64, seed=0)
    assert batcher.batches_per_epoch == 1 and len(batcher.batch(3)) == 2 and len(batcher.random_batch(0, 1)) == 2


def _epoch(batcher, epoch=0):
    n = batcher.batches_per_epoch
    return [batcher.batch(epoch * n + i) for i in range(n)]


def _sentence_ids(batch):
    return [tuple(row[: int(n)]) for row, n in zip(batch.tgt.tolist(), batch.lengths)]


def test_default_batches_mix_lengths_and_cover_the_epoch_without_repeats():
    data = [[4 + i] * (1 + i % 15) for i in range(100)]  # 100 distinct sentences of lengths 1..15
    batcher = make_batcher("official", data, 8, seed=1)
    epoch0 = _epoch(batcher)
    assert len(epoch0) == 12
    spreads = [int(b.lengths.max() - b.lengths.min()) for b in epoch0]
    assert sum(s >= 5 for s in spreads) >= 10  # lengths mixed inside almost every batch
    ids = [s for b in epoch0 for s in _sentence_ids(b)]
    assert len(ids) == len(set(ids)) == 96  # every sentence at most once; the remainder (4) left out
    assert all(b.lengths.tolist() == sorted(b.lengths.tolist(), reverse=True) for b in epoch0)  # sorted inside
    assert [b.src.tolist() for b in epoch0] == [b.src.tolist() for b in _epoch(batcher, 1)]  # batchified once
    draws = {tuple(batcher.random_batch(7, k).lengths.tolist()) for k in range(20)}
    assert len(draws) > 5 and draws <= {tuple(b.lengths.tolist()) for b in epoch0}  # whole batches, at random


def test_bucket_batches_group_lengths_and_reshuffle_each_epoch():
    data = _sentences()
    batcher = make_batcher("bucket", data, 8, seed=1)
    epoch0 = _epoch(batcher)
    assert max(int(b.lengths.max() - b.lengths.min()) for b in epoch0) <= 3  # similar lengths in a batch
    ids = {tuple(r) for b in epoch0 for r in b.tgt.tolist()}
    assert len(ids) >= 12 * 8 - 5  # (almost) no sentence twice in an epoch, up to duplicates in the data
    assert [b.src.tolist() for b in epoch0] != [b.src.tolist() for b in _epoch(batcher, 1)]


def test_unknown_batching_is_a_config_error():
    with pytest.raises(ConfigError, match="train.batching='sorted'.*official, reshuffled, bucket"):
        make_batcher("sorted", _sentences(), 8, seed=0)


def test_reshuffled_batches_cover_each_epoch_once_and_change_between_epochs():
    data = _sentences()
    batcher = make_batcher("reshuffled", data, 8, seed=1)
    for epoch in (0, 1):
        rows = sorted(tuple(r) for b in _epoch(batcher, epoch) for r in b.tgt.tolist())
        assert len(rows) == batcher.batches_per_epoch * 8
    assert [b.src.tolist() for b in _epoch(batcher)] != [b.src.tolist() for b in _epoch(batcher, 1)]


def test_style_batcher_ends_the_epoch_with_the_smallest_style():
    """The official Yelp loop: batch i of every style per iteration; the epoch ends when the smaller style
    runs out, and the larger one is then reshuffled whole, so its remaining batches are not carried over."""
    small, large = _sentences()[:32], _sentences()
    styles = StyleBatcher("reshuffled", [small, large], 8, seed=3)
    assert styles.batches_per_epoch == 4 == styles.styles[1].batches_per_epoch
    assert styles.styles[1].n_batches == len(large) // 8
    seen = {tuple(r) for step in range(4) for r in styles.styles[0].batch(step).tgt.tolist()}
    assert len(seen) == len({tuple(s) for s in small})  # each small-style sentence once per epoch
    drawn = {tuple(styles.styles[1]._random_chunk(step, k)) for step in range(4) for k in range(20)}
    assert len(drawn) > styles.batches_per_epoch  # GAN batches come from all of the large style's batches


def test_vocab_keeps_only_words_seen_min_count_times():
    sentences = [["a", "b", "c"], ["a", "b"], ["a"]]
    assert Vocab.build(sentences, max_size=10, min_count=2).words == ["a", "b"]
    assert Vocab.build(sentences, max_size=1, min_count=2).words == ["a"]


def test_shen_batches_sort_by_length_repeat_the_smaller_style_and_repeat_each_epoch():
    """Shen's get_batches: the smaller style repeated in order up to the larger one, both sorted by length
    (stable), batch i of each style together, the batch order drawn once (every epoch alike)."""
    large = [[10 + i] * (1 + i % 5) for i in range(20)]  # lengths 1..5, repeated
    small = [[50 + i] * (5 - i % 5) for i in range(7)]
    styles = StyleBatcher("shen", [small, large], 8, seed=3)
    assert styles.batches_per_epoch == 3  # ceil(20 / 8): the larger style's epoch, the last batch smaller
    epoch = [[b.batch(step) for b in styles.styles] for step in range(3)]
    assert sorted(len(p[0]) for p in epoch) == sorted(len(p[1]) for p in epoch) == [4, 8, 8]
    small_rows = sorted(tuple(r[r != PAD_ID][:-1].tolist()) for parts in epoch for r in parts[0].tgt)
    assert small_rows == sorted(tuple(s) for s in (small * 3)[:20])  # small repeated cyclically, 20 rows
    large_rows = sorted(tuple(r[r != PAD_ID][:-1].tolist()) for parts in epoch for r in parts[1].tgt)
    assert large_rows == sorted(tuple(s) for s in large)
    by_length = sorted(epoch, key=lambda parts: int(parts[1].lengths.min()))
    spans = [(int(p[1].lengths.min()), int(p[1].lengths.max())) for p in by_length]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # batches are length slices
    again = [[b.batch(step) for b in styles.styles] for step in range(3, 6)]
    assert all(torch.equal(x.src, y.src) for p, q in zip(epoch, again) for x, y in zip(p, q))
    with pytest.raises(ConfigError, match="'shen' is for models trained per style"):
        make_batcher("shen", large, 8, seed=0)
