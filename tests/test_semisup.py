"""Semi-supervised SNLI: the seeded stratified label split, the pair features, the classifier, the accuracy
metric, and one pretrained encoder serving every label fraction (end to end on SNLI-format files)."""
import json
from collections import Counter
from types import SimpleNamespace

import pytest
import torch

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.cli import main as run_all
from arae.data import build_corpus
from arae.data.readers import NLIPair
from arae.data.vocab import Vocab
from arae.errors import MetricNotComputable
from arae.metrics import METRICS, EvalContext
from arae.models.pair_classifier import fit_pair_classifier, pair_features
from arae.models.seq2seq import Seq2Seq
from arae.tasks.semisup import labelled_subsets
from benchmarks.snli_semisup import FRACTIONS
from reports.render import paper_number


@pytest.fixture(scope="module")
def snli(fixture_data):
    """Read only: the synthetic SNLI files (300 dev pairs as the pool, 240 test pairs)."""
    return build_corpus("snli_pairs", fixture_data, maxlen=15)


def _labels(path) -> Counter:
    return Counter(path.read_text().split())


def test_the_offline_pool_is_snli_dev_and_the_evaluation_snli_test(shared):
    snli = build_corpus("snli_pairs", shared, maxlen=15)
    assert (len(snli.pairs["pool"]), len(snli.pairs["test"]), len(snli.pairs["valid"])) == (9842, 9824, 0)
    assert "pool is SNLI dev" in snli.description["substitute"]
    assert len(snli.train) == 11519  # the pool's sentences of at most 15 tokens, for pretraining
    pool, test = snli.pairs["pool"], snli.pairs["test"]
    subsets = labelled_subsets(pool, list(FRACTIONS), 7)
    assert [len(subsets[f]) for f in FRACTIONS] == [2185, 1063, 517]  # the label counts the paper's fractions give
    test_pairs = {(tuple(p.premise), tuple(p.hypothesis)) for p in test}  # SNLI dev and test share no pair
    assert not any((tuple(pool[i].premise), tuple(pool[i].hypothesis)) in test_pairs for i in subsets[0.222])


def test_the_pool_is_dev_and_the_evaluation_test_on_any_snli_folder(snli, fixture_data):
    assert (len(snli.pairs["pool"]), len(snli.pairs["test"]), len(snli.pairs["valid"])) == (300, 240, 0)
    assert f"not found in {fixture_data}; the labelled pool is SNLI dev (300 pairs" in snli.description["substitute"]
    assert Counter(p.label for p in snli.pairs["pool"]) == _labels(fixture_data / "snli" / "labels.dev")


def test_labelled_pairs_are_seeded_stratified_and_nested(snli):
    pool = snli.pairs["pool"]
    first, again, other = (labelled_subsets(pool, list(FRACTIONS), seed) for seed in (7, 7, 8))
    assert first == again and first != other
    counts = Counter(p.label for p in pool)
    for fraction in FRACTIONS:
        chosen = [pool[i] for i in first[fraction]]
        assert Counter(p.label for p in chosen) == {label: round(fraction * n) for label, n in counts.items()}
        assert len(set(first[fraction])) == len(first[fraction])
    assert set(first[0.0525]) <= set(first[0.108]) <= set(first[0.222])  # nested
    assert [len(first[f]) for f in FRACTIONS] == [sum(round(f * n) for n in counts.values()) for f in FRACTIONS]


def test_pair_features_are_u_v_absolute_difference_and_product():
    u, v = torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 0.5]])
    assert pair_features(u, v).tolist() == [[1.0, -2.0, 3.0, 0.5, 2.0, 2.5, 3.0, -1.0]]
    swapped = pair_features(v, u)
    assert torch.equal(swapped[:, 4:], pair_features(u, v)[:, 4:])  # the symmetric half ignores the order


def _pairs(n: int) -> list[NLIPair]:
    """A separable toy task: the hypothesis repeats the premise (entailment), negates it, or changes it."""
    out = []
    for i in range(n):
        premise = ["a", ["dog", "cat", "man"][i % 3], "is", ["running", "sleeping"][i % 2]]
        kind = i % 3
        hypothesis = premise if kind == 0 else premise[:2] + ["is", "not"] + premise[3:] if kind == 1 else ["nobody"]
        out.append(NLIPair(premise, hypothesis, ["entailment", "contradiction", "neutral"][kind]))
    return out


@pytest.fixture
def one_thread():
    """Tiny ops on two threads slow down tenfold when the cores are busy (spinning threads wait for each other)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_pair_classifier_learns_is_deterministic_and_leaves_its_encoder_copy_alone(one_thread):
    pairs = _pairs(90)
    vocab = Vocab.build([w for p in pairs for w in (p.premise, p.hypothesis)], 100)
    cfg = {"hidden": 16, "finetune": True, "epochs": 30, "batch_size": 16, "lr": 1e-2, "clip": 5.0, "eval_batch": 32}
    torch.manual_seed(0)
    encoder = Seq2Seq(len(vocab), 8, 16)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    predict = fit_pair_classifier(encoder, vocab, pairs, [], cfg, seed=3, device=torch.device("cpu"), report=print)
    accuracy = sum(a == p.label for a, p in zip(predict(pairs), pairs)) / len(pairs)
    assert accuracy > 0.9
    assert not torch.equal(encoder.state_dict()["encoder.weight_hh_l0"], before["encoder.weight_hh_l0"])  # fine-tuned
    encoder.load_state_dict(before)
    again = fit_pair_classifier(encoder, vocab, pairs, [], cfg, seed=3, device=torch.device("cpu"), report=print)
    assert again(pairs) == predict(pairs)
    encoder.load_state_dict(before)
    frozen = fit_pair_classifier(encoder, vocab, pairs, [], cfg | {"finetune": False, "epochs": 1}, seed=3,
                                 device=torch.device("cpu"), report=print)
    assert frozen(pairs[:3]) and all(torch.equal(v, before[k]) for k, v in encoder.state_dict().items())


def test_accuracy_metric_counts_correct_labels_and_names_its_labelled_pairs():
    test = [NLIPair(["a"], ["b"], label) for label in ("entailment", "neutral", "contradiction", "entailment")]
    ctx = EvalContext(outputs={"predictions": {0.5: (["entailment", "neutral", "neutral", "neutral"], 42)}},
                      train_text=[], eval_text=[], vocab_words=[], workdir=None, params={"fraction": 0.5},
                      corpus=SimpleNamespace(pairs={"test": test}))
    value = METRICS.get("nli_acc")(ctx)
    assert value.value == 0.5 and value.details["n_labelled"] == 42
    assert value.details["accuracy_per_gold_label"] == {"contradiction": 0.0, "entailment": 0.5, "neutral": 1.0}
    ctx.params = {"fraction": 0.25}
    with pytest.raises(MetricNotComputable, match="no predictions for label fraction 0.25"):
        METRICS.get("nli_acc")(ctx)


def test_paper_numbers_match_only_at_the_same_fraction():
    row = {"nli_acc@0.222": 0.659, "nli_acc@0.108": 0.625, "nli_acc@0.0525": 0.579}
    assert paper_number(row, "nli_acc@0.0525") == (0.579, "")
    assert paper_number(row, "nli_acc@0.108") == (0.625, "")
    assert paper_number({"reverse_ppl.rnnlm": 82.2}, "reverse_ppl.kenlm5") == (82.2, "rnnlm")


def test_one_pretrained_encoder_serves_every_fraction_end_to_end(fixture_data, tmp_path, monkeypatch):
    """The AE is trained once per run; each fraction's classifier starts from exactly its trained weights
    (not from a previous fraction's fine-tuned copy); a lost predictions file is redone without retraining."""
    import arae.models.method
    starts, real_fit = [], arae.models.method.fit_pair_classifier

    def recording_fit(encoder, vocab, train, *rest):
        starts.append((len(train), {k: v.clone() for k, v in encoder.state_dict().items()}))
        return real_fit(encoder, vocab, train, *rest)
    monkeypatch.setattr(arae.models.method, "fit_pair_classifier", recording_fit)
    dev, test = _labels(fixture_data / "snli" / "labels.dev"), _labels(fixture_data / "snli" / "labels.test")
    n_labelled = [sum(round(f * n) for n in dev.values()) for f in FRACTIONS]  # stratified: per label, round(f x n)
    (majority, most), (_, next_most) = dev.most_common(2)
    assert round(0.222 * most) > round(0.222 * next_most)  # also the majority of the labelled pairs: no tie
    out = tmp_path / "runs"
    args = ["-b", "snli_semisup", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data),
            "-r", "majority", "-r", "ae", "--set", "train.steps=20", "--set", "classifier.epochs=1"]
    assert run_all(args) == 0
    assert [n for n, _ in starts] == n_labelled  # the ae row; the majority row fits no network
    run = next(out.glob("snli_semisup/ae/seed0-*"))
    trained = torch.load(run / "checkpoint.pt", weights_only=False)["method"]["nets"]["ae"]
    for _, state in starts:
        assert all(torch.equal(state[k], trained[k]) for k in trained)
    result = json.loads((run / "result.json").read_text())
    assert result["details"]["labelled"]["0.222"]["pairs"] == n_labelled[0] and result["data"]["model_selection"] == "last epoch"
    assert result["metrics"]["nli_acc@0.0525"]["details"]["n_labelled"] == n_labelled[2]
    majority_run = json.loads(next(out.glob("snli_semisup/majority/seed0-*/result.json")).read_text())
    assert majority_run["metrics"]["nli_acc@0.222"]["value"] == pytest.approx(test[majority] / sum(test.values()))
    assert len((run / "scalars.jsonl").read_text().splitlines()) == 1  # trained once: one log line at step 20

    (run / "predictions" / "0.108.txt").unlink()
    for name in ("result.json", "status.json"):
        (run / name).unlink()
    for path in (run / "metrics").glob("*"):
        path.unlink()
    starts.clear()
    assert run_all(args) == 0
    assert [n for n, _ in starts] == [n_labelled[1]]
    assert len((run / "scalars.jsonl").read_text().splitlines()) == 1
    summary = (out / "report" / "summary.md").read_text()
    assert f"{n_labelled[0]:,} labelled pairs" in summary and "Semi-supervised AE" in summary


def _snli_folder(folder, n_per_label: int):
    """A user's own pairs in SNLI's SentEval layout: dev is the pool, test the evaluation."""
    folder.mkdir()
    for split, n in (("dev", n_per_label), ("test", 3)):
        pairs = _pairs(3 * n)
        (folder / f"s1.{split}").write_text("".join(" ".join(p.premise) + "\n" for p in pairs))
        (folder / f"s2.{split}").write_text("".join(" ".join(p.hypothesis) + "\n" for p in pairs))
        (folder / f"labels.{split}").write_text("".join(p.label + "\n" for p in pairs))
    return folder


def test_a_users_own_pairs_run_without_paper_numbers_and_a_too_small_pool_is_named(tmp_path):
    out = tmp_path / "runs"
    args = ["-b", "snli_semisup", "--preset", "smoke", "--out", str(out), "-r", "majority", "-r", "supervised",
            "--set", "classifier.epochs=1"]
    assert run_all([*args, "--set", f"data={_snli_folder(tmp_path / 'mine', 40)}"]) == 0
    spec = json.loads((out / "snli_semisup" / "benchmark.json").read_text())
    assert spec["paper"] == {} and spec["title"].startswith("Semi-supervised classification of sentence pairs on")
    result = json.loads(next(out.glob("snli_semisup/supervised/seed0-*/result.json")).read_text())
    assert result["details"]["labelled"]["0.0525"]["pairs"] == 6  # round(0.0525 x 40) per label

    assert run_all([*args, "--set", f"data={_snli_folder(tmp_path / 'tiny', 2)}"]) == 1
    failed = [json.loads(p.read_text()) for p in out.glob("snli_semisup/*/seed0-*/status.json")]
    errors = [s["error"] for s in failed if s["state"] == "failed"]
    assert errors and all("tiny/s1.dev" in e and "keeps no" in e for e in errors)
