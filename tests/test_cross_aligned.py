"""The cross-aligned autoencoder (baselines/cross_aligned.py) on tiny 2- and 3-style corpora."""
import io
import itertools
import math

import pytest
import torch

from arae.data.batching import StyleBatcher
from arae.data.vocab import Vocab
from arae.models import MODELS
from baselines.cross_aligned import DEFAULTS, CrossAligned

SUBJECTS = ["the food", "the service", "the staff", "the pizza", "the place", "our waiter", "the soup", "the bar"]
STYLE_WORDS = [["great", "good", "amazing", "lovely"], ["awful", "bad", "terrible", "rude"],
               ["fine", "okay", "average", "plain"]]


def corpus(n_styles: int) -> list[list[list[str]]]:
    """Per style, 32 sentences such as "the food is great ." / "the food was really awful !"."""
    return [[f"{s} {verb} {adv}{w} {end}".split() for s, w, verb, adv, end in
             itertools.islice(zip(itertools.cycle(SUBJECTS), itertools.cycle(words), itertools.cycle(["is", "was"]),
                                  itertools.cycle(["", "really ", "", "so "]), itertools.cycle([".", "!", "."])), 32)]
            for words in STYLE_WORDS[:n_styles]]


def build(n_styles: int, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    styles = corpus(n_styles)
    vocab = Vocab.build([s for sents in styles for s in sents], max_size=100)
    cfg = {"data": {"maxlen": 15}, "train": {"batch_size": 8}, "eval": {"transfer_maxlen": 15, "sample_batch": 8},
           "cross_aligned": {**DEFAULTS, "dim_y": 8, "dim_z": 24, "dim_emb": 16, "lr": 3e-3,
                             "filter_sizes": [1, 2, 3], "n_filters": 8, **overrides}}
    model = MODELS.get("cross_aligned")(vocab, cfg, torch.device("cpu"), n_styles)
    batcher = StyleBatcher("official", [[vocab.encode(s) for s in sents] for sents in styles], 8, seed)
    return model, batcher, styles


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny ops run fastest on one thread, and stay fast when the machine is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train(model, batcher, steps: int) -> list[dict[str, torch.Tensor]]:
    return [model.train_step(step, batcher) for step in range(steps)]


@pytest.fixture(scope="module")
def trained3(one_thread):
    model, batcher, styles = build(3, adv_loss="minimax")  # within 150 steps on this tiny corpus the released
    train(model, batcher, 150)                              # code's nonsaturating loss still maps all inputs alike
    return model, styles


def test_training_lowers_the_reconstruction_loss():
    model, batcher, _ = build(2)
    rec = [float(log["loss_rec"]) for log in train(model, batcher, 150)]
    first, last = sum(rec[:10]) / 10, sum(rec[-10:]) / 10
    assert last < 0.4 * first, (first, last)
    assert model.sentences_per_step == 16


@pytest.mark.slow
def test_transfer_keeps_input_order_for_every_pair_of_three_styles(trained3):
    model, styles = trained3
    for source, target in itertools.product(range(3), repeat=2):
        inputs = styles[source][:6] + [[], ["unseen", "words"]]
        out = model.transfer(inputs, source, target)
        assert len(out) == len(inputs)
        assert all(isinstance(w, str) for s in out for w in s) and all(len(s) <= 15 for s in out)
        assert out == [model.transfer([s], source, target)[0] for s in inputs]  # row i is sentence i's transfer
    assert len({tuple(s) for s in model.transfer(styles[0][:8], 0, 0)}) > 1  # outputs depend on the input


@pytest.mark.parametrize("adv_loss", ["minimax", "nonsaturating"])
def test_both_adversarial_losses_train_with_finite_losses(adv_loss):
    model, batcher, _ = build(3, adv_loss=adv_loss, d_threshold=10.0)  # adversarial term always on
    logs = train(model, batcher, 15)
    assert all(math.isfinite(float(v)) for log in logs for v in log.values())
    assert all(float(log["adv_on"]) == 1.0 for log in logs)
    assert (float(logs[0]["loss_adv"]) < 0) == (adv_loss == "minimax")  # -sum loss_d vs sum BCE(D(fake), 1)
    never, batcher, _ = build(2, adv_loss=adv_loss, d_threshold=0.0)
    assert all(float(log["adv_on"]) == 0.0 for log in train(never, batcher, 3))


def test_same_seed_gives_identical_losses():
    runs = []
    for _ in range(2):
        model, batcher, _ = build(3, seed=3, d_threshold=10.0)
        runs.append(train(model, batcher, 12))
    assert all(torch.equal(a[k], b[k]) for a, b in zip(*runs) for k in a)


@pytest.mark.slow
def test_state_dict_round_trip_transfers_identically(trained3):
    model, styles = trained3
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    fresh, _, _ = build(3, seed=1)
    assert fresh.transfer(styles[1][:8], 1, 0) != model.transfer(styles[1][:8], 1, 0)
    fresh.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    for source, target in [(1, 0), (0, 2), (2, 1)]:
        assert fresh.transfer(styles[source], source, target) == model.transfer(styles[source], source, target)
    assert isinstance(model, CrossAligned) and model.styled


def test_the_encoder_noise_moves_no_word_more_than_k_places_and_keeps_the_rest():
    from baselines.cross_aligned import local_shuffle
    torch.manual_seed(0)
    ids = torch.tensor([[10, 11, 12, 13, 14, 15, 2, 0, 0], [20, 21, 22, 2, 0, 0, 0, 0, 0]])  # words, <eos>, pads
    n_words = torch.tensor([6, 3])
    moved = False
    for _ in range(50):
        out = local_shuffle(ids, n_words, 3)
        for row, n in zip(range(2), n_words.tolist()):
            words = out[row, :n].tolist()
            assert sorted(words) == ids[row, :n].tolist() and out[row, n:].tolist() == ids[row, n:].tolist()
            assert all(abs(words.index(w) - ids[row, :n].tolist().index(w)) <= 3 for w in words)
        moved |= not torch.equal(out, ids)
    assert moved


def test_gumbel_feedback_is_noisy_and_softmax_feedback_is_not():
    torch.manual_seed(0)
    model = CrossAligned(Vocab.build([["a", "b", "c"]], 10), {"cross_aligned": {**DEFAULTS, "dim_y": 4, "dim_z": 4,
                                                                                "dim_emb": 4}}, torch.device("cpu"), 2)
    model.ae.eval()
    h = torch.randn(3, 8)
    assert torch.equal(model.ae.soft_decode(h, 4, 0.1, gumbel=False), model.ae.soft_decode(h, 4, 0.1, gumbel=False))
    assert not torch.equal(model.ae.soft_decode(h, 4, 0.1), model.ae.soft_decode(h, 4, 0.1))


def test_beam_search_of_width_one_is_greedy_and_a_wider_beam_finds_no_worse_sentences(trained3):
    model = trained3[0]
    model.ae.eval()
    torch.manual_seed(1)
    h = torch.randn(5, model.ae.dim_y + model.ae.dim_z)
    with torch.inference_mode():
        greedy, one = model.ae.greedy(h, 6), model.ae.beam(h, 6, 1)
        assert torch.equal(one[:, :greedy.size(1)], greedy)
        def nll(ids):  # summed NLL of full-length hypotheses, as the beam ranks them
            total, state, inp = torch.zeros(5), h, torch.full((5,), 1)
            for t in range(ids.size(1)):
                state = model.ae.step(model.ae.embed(inp), state)
                total -= torch.log_softmax(model.ae.proj(state), 1).gather(1, ids[:, t:t + 1]).squeeze(1)
                inp = ids[:, t]
            return total
        assert torch.all(nll(model.ae.beam(h, 6, 4)) <= nll(one) + 1e-4)


def test_settings_pick_one_consistent_set_and_explicit_keys_override_it():
    from baselines.cross_aligned import SETTINGS, resolve
    from arae.errors import ConfigError
    final, old = resolve(DEFAULTS), resolve({**DEFAULTS, "settings": "shen2017"})
    assert final["adv_loss"] == "nonsaturating" and final["grad_clip"] == 30.0 and final["shuffle_k"] == 3
    assert {k: old[k] for k in SETTINGS["shen2017"]} == SETTINGS["shen2017"] and old["adv_loss"] == "minimax"
    assert resolve({**DEFAULTS, "settings": "shen2017", "lr": 1e-3})["lr"] == 1e-3
    with pytest.raises(ConfigError, match="cross_aligned.settings='shen2018': expected one of final, shen2017"):
        resolve({**DEFAULTS, "settings": "shen2018"})


def test_shen2017_anneals_gamma_per_epoch_and_gives_the_reconstruction_update_its_own_adam():
    model, batcher, _ = build(2, settings="shen2017", lr=None, filter_sizes=None, d_threshold=0.0)
    per_epoch = batcher.batches_per_epoch
    assert [model.gamma(e * per_epoch, batcher) for e in (0, 1, 2)] == [1.0, 0.5, 0.25]
    assert model.gamma(40 * per_epoch, batcher) == 0.001
    train(model, batcher, 3)  # discriminators never good enough: reconstruction updates only
    assert model.optims["ae_rec"].state and not model.optims["ae"].state
    final, batcher, _ = build(2, d_threshold=0.0)
    train(final, batcher, 3)
    assert "ae_rec" not in final.optims and final.optims["ae"].state  # one Adam, as the released code
    assert final.gamma(40 * batcher.batches_per_epoch, batcher) == 0.1
