"""Style transfer: the judge, BLEU, the scorer for anyone's outputs, K = 3 styles end to end, and the
Yelp corpus (substitute data, references with a bad UTF-8 line)."""
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.cli import main as run_all
from arae.data import build_corpus
from arae.errors import DataError, SuiteError
from conftest import REPO
from arae.metrics.transfer import corpus_bleu
from arae.score import main as score_main, score

REFS = "yelp-references"


def _score_args(data_dir, tmp_path, outputs, **kw):
    return SimpleNamespace(corpus="yelp", outputs=[str(o) for o in outputs], sources=kw.get("sources"),
                           refs=kw.get("refs"), data_dir=str(data_dir), artefacts=tmp_path / "artefacts",
                           column=kw.get("column"))


def _lines(path) -> list[str]:
    return path.read_text().splitlines()


def test_yelp_corpus_trains_on_the_substitute_without_the_test_sentences(fixture_data):
    corpus = build_corpus("yelp", fixture_data, maxlen=25)
    assert corpus.styles == ("negative", "positive")
    li_test = [_lines(fixture_data / REFS / f"sentiment.test.{k}") for k in range(2)]
    held_out = set(li_test[0]) | set(li_test[1])
    shen_test = [_lines(fixture_data / "yelp" / f"sentiment.test.{k}") for k in range(2)]
    dropped = [sum(line in held_out for line in lines) for lines in shen_test]
    assert all(dropped)  # the fixture's Shen test split repeats some test sentences: the filter has work to do
    assert [len(s) for s in corpus.by_style["train"]] == [len(shen_test[k]) - dropped[k] for k in range(2)]
    assert f"training sentences equal to a test sentence dropped ({dropped[0]} negative, {dropped[1]} positive)" \
        in corpus.description["filters"]
    assert not {" ".join(s) for s in corpus.train} & held_out
    assert [[" ".join(s) for s in style] for style in corpus.by_style["test"]] == li_test
    assert not {" ".join(s) for s in corpus.valid} & held_out
    assert "Shen's test split" in corpus.description["substitute"]
    assert corpus.references[1][5] == [_lines(fixture_data / REFS / f"reference{r}.1")[5] for r in range(4)]
    assert all(len(refs) == 4 for style in corpus.references for refs in style)
    assert corpus.description["references_with_invalid_utf8"]["lines"] == []


def test_yelp_corpus_uses_the_documented_substitute_and_handles_the_bad_reference_line(shared):
    corpus = build_corpus("yelp", shared, maxlen=25)
    assert corpus.styles == ("negative", "positive")
    # Shen's test split, less the 14 lines equal to a test sentence of Li et al. (it must never be trained on)
    assert [len(s) for s in corpus.by_style["train"]] == [50278 - 3, 76392 - 11]
    assert not {" ".join(s) for s in corpus.train} & {" ".join(s) for s in corpus.test}
    assert [len(s) for s in corpus.by_style["test"]] == [500, 500]        # Li et al.'s test sentences
    assert not {" ".join(s) for s in corpus.valid} & {" ".join(s) for s in corpus.test}
    assert "Shen's test split" in corpus.description["substitute"]
    assert all(len(refs) == 4 for style in corpus.references for refs in style)
    bad = corpus.description["references_with_invalid_utf8"]
    assert bad["lines"] == [f"{shared / REFS / 'reference2.0'}:29"] and "U+FFFD" in bad["handling"]
    assert "\ufffd" in corpus.references[0][28][2]


@pytest.mark.slow
def test_judge_is_accurate_on_held_out_real_sentences(shared, tmp_path):
    """Stated: trained on the 126,656 substitute training sentences, the judge classifies 62,473 held-out
    validation sentences with about 97% accuracy, and the 1,000 test sources with about 96%; so outputs
    that copy the sources are judged transferred less than 6% of the time."""
    outputs = [shared / REFS / f"sentiment.test.{k}" for k in range(2)]
    result = score(_score_args(shared, tmp_path, outputs))
    assert result["judge"]["n_train"] == 126656 and result["judge"]["n_held_out"] == 62473
    assert result["judge"]["held_out_accuracy"] > 0.95
    assert result["overall"]["judge_acc"] > 0.94 and result["overall"]["transfer_acc"] < 0.06
    assert result["overall"]["n"] == 1000 and all(d["n"] == 500 for d in result["directions"].values())


def test_copying_the_sources_transfers_almost_nothing_and_keeps_everything(fixture_data, tmp_path):
    outputs = [fixture_data / REFS / f"sentiment.test.{k}" for k in range(2)]
    result = score(_score_args(fixture_data, tmp_path, outputs))
    # fastText's defaults underfit these few hundred synthetic sentences; the TF-IDF judge learns them
    assert result["overall"]["transfer_acc_tfidf"] < 0.06
    for judge in ("", "_tfidf"):  # copies are judged transferred exactly when the judge errs on the sources
        assert result["overall"][f"transfer_acc{judge}"] == pytest.approx(1 - result["overall"][f"judge_acc{judge}"])
    assert result["overall"]["self_bleu"] == pytest.approx(100)
    assert 0 < result["overall"]["ref_bleu"] < 100
    assert result["overall"]["forward_ppl"] > 1 and result["overall"]["n"] == 80
    assert set(result["directions"]) == {"negative->positive", "positive->negative"}
    assert all(d["n"] == 40 for d in result["directions"].values())
    assert result["bleu_signature"].startswith("nrefs:1|case:lc|eff:no|tok:none")
    assert result["missing"] == {} and result["judge"]["n_train"] > 0


def test_self_bleu_equals_sacrebleus_cli(fixture_data):
    hypotheses = _lines(fixture_data / REFS / "reference0.0")
    sources = _lines(fixture_data / REFS / "sentiment.test.0")
    ours, _ = corpus_bleu([h.lower() for h in hypotheses], [[s.lower()] for s in sources])
    cli = subprocess.run([sys.executable, "-m", "sacrebleu", str(fixture_data / REFS / "sentiment.test.0"), "-i",
                          str(fixture_data / REFS / "reference0.0"), "-tok", "none", "-lc", "-b", "-w", "6"],
                         capture_output=True, text=True, check=True)
    assert 0 < ours < 100 and ours == pytest.approx(float(cli.stdout.strip()), abs=1e-5)
    assert corpus_bleu(sources, [[s] for s in sources])[0] == pytest.approx(100)


def test_scorer_prints_json_and_rejects_bad_files(fixture_data, tmp_path, capsys):
    ok = [str(fixture_data / REFS / f"sentiment.test.{k}") for k in range(2)]
    common = ["yelp", "--data-dir", str(fixture_data), "--artefacts", str(tmp_path / "artefacts")]
    assert score_main([*common, "--outputs", *ok]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["n"] == 80

    short = tmp_path / "short.txt"
    short.write_text("one line .\n")
    assert score_main([*common, "--outputs", str(short), ok[1]]) == 2
    err = capsys.readouterr().err
    assert f"{short}: 1 lines, but the negative test sentences" in err and ") are 40" in err

    bad = tmp_path / "bad.txt"  # one rule for every line-aligned file: repaired, and said with file and line
    bad.write_bytes(b"fine .\n" * 3 + b"caf\xe9 .\n" + b"fine .\n" * 36)
    assert score_main([*common, "--outputs", str(bad), ok[1]]) == 0
    printed = capsys.readouterr()
    assert f"warning: {bad}: bytes that are not UTF-8 replaced on line(s) 4" in printed.err
    assert f"{bad}: bytes that are not UTF-8 replaced on line(s) 4" in json.loads(printed.out)["warnings"]

    assert score_main([*common, "--outputs", ok[0]]) == 2
    assert "--outputs takes 2 files" in capsys.readouterr().err
    assert score_main([*common, "--outputs", str(tmp_path / "absent.txt"), ok[1]]) == 2
    assert "absent.txt: file not found" in capsys.readouterr().err


def test_scorer_takes_other_sources_and_references(fixture_data, tmp_path):
    sources = [tmp_path / "s0.txt", tmp_path / "s1.txt"]
    sources[0].write_text("the food was cold .\nthe staff was rude .\n")
    sources[1].write_text("the food was great .\nthe staff was lovely .\n")
    refs = [tmp_path / "r0.txt", tmp_path / "r1.txt"]
    refs[0].write_text("the food was hot .\nthe staff was kind .\n")
    refs[1].write_text("the food was awful .\nthe staff was mean .\n")
    args = _score_args(fixture_data, tmp_path, [refs[0], refs[1]], sources=[str(s) for s in sources],
                       refs=[str(refs[0]), str(refs[1])])
    result = score(args)
    assert result["overall"]["ref_bleu"] == pytest.approx(100)
    assert result["overall"]["n"] == 4
    with pytest.raises(DataError, match="r1.txt: 2 lines, but .*s0.txt are 3"):
        sources[0].write_text("a .\nb .\nc .\n")
        score(_score_args(fixture_data, tmp_path, [sources[0], sources[1]], sources=[str(s) for s in sources],
                          refs=[str(refs[1]), str(refs[1])]))
    with pytest.raises(SuiteError, match="unknown corpus"):
        score(SimpleNamespace(**{**vars(args), "corpus": "amazon"}))


@pytest.mark.slow
def test_three_styles_train_transfer_and_score_end_to_end(tmp_path):
    """A user's own folder of three styles: every row trains, transfers into every other style, and is
    scored; the report shows no paper numbers."""
    folder = tmp_path / "styles"
    folder.mkdir()
    words = {"sports": ["game", "team", "score", "coach"], "music": ["song", "band", "album", "guitar"],
             "politics": ["vote", "law", "senate", "party"]}
    for style, topic in words.items():
        lines = [f"the {topic[i % 4]} was {adj} today ." for i in range(40) for adj in ("good", "bad", "new")]
        (folder / f"{style}.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "runs"
    settings = ["--set", f"data={folder}", "--set", "train.steps=20", "--set", "train.batch_size=8",
                "--set", "data.max_train_per_style=0"]
    assert run_all(["-b", "yelp_transfer", "--preset", "smoke", "--out", str(out), *settings]) == 0
    results = [json.loads(p.read_text()) for p in out.glob("yelp_transfer/*/seed0-*/result.json")]
    assert len(results) == 6  # cross-aligned, AE, and ARAE at λ 1 and 10, in both readings of λ
    for result in results:
        assert result["data"]["styles"] == ["music", "politics", "sports"]
        assert len(result["previews"]) == 6 and result["counts"]["transfers"] > 0  # every ordered pair of styles
        metrics = result["metrics"]
        assert metrics["transfer_acc.fasttext"]["value"] is not None and metrics["transfer_acc.tfidf"]["value"] is not None
        assert metrics["self_bleu.sacrebleu"]["value"] is not None
        assert metrics["ref_bleu.sacrebleu"]["value"] is None  # a user folder has no human references
        # the reverse LMs learn from transfers of training sentences made for them, not the test transfers
        n_lm = result["counts"]["reverse_lm_transfers"]
        assert n_lm > result["counts"]["transfers"] / 2 and metrics["reverse_ppl.kenlm5"]["details"]["n_samples"] == n_lm
    spec = json.loads((out / "yelp_transfer" / "benchmark.json").read_text())
    assert spec["paper"] == {} and spec["title"].startswith("Style transfer on")
    assert spec["paper_ref"] == "" and spec["claims"] == [] and spec["notes"] == []  # no Yelp or paper wording
    files = sorted(str(p) for p in (out / "yelp_transfer" / "arae_lambda1").glob("seed0-*/samples/*-to-*.txt"))
    assert len(files) == 6
    # every run can be re-scored: the direction is read from each file's name, in any order
    rescored = subprocess.run([sys.executable, "-m", "arae", "score", str(folder), "--outputs", *reversed(files),
                               "--artefacts", str(out / "_artefacts")], cwd=REPO, capture_output=True, text=True)
    assert rescored.returncode == 0, rescored.stderr[-2000:]
    directions = json.loads(rescored.stdout)["directions"]
    assert len(directions) == 6 and "music->politics" in directions
    report = (out / "report" / "summary.md").read_text()
    assert "Per direction, Transfer" in report and "sports->politics" in report
    assert "Left out, no value in any run: BLEU (4 refs) (ref_bleu.sacrebleu): no human references" in report
    html = next((out / "report").glob("yelp_transfer*.html")).read_text()
    assert html.count("source ↓ target →") >= 6  # a direction matrix per row for more than two styles


def test_a_style_without_enough_sentences_is_a_clear_data_error(tmp_path):
    folder = tmp_path / "styles"
    folder.mkdir()
    (folder / "formal.txt").write_text("".join(f"good day to you , sir number {i} .\n" for i in range(30)))
    (folder / "casual.txt").write_text("hey .\n")  # one line: nothing to train on, nothing to test
    with pytest.raises(DataError, match=r"casual.txt: style 'casual' has 1 train sentence\(s\).*at least 2"):
        build_corpus("style_dir", folder, maxlen=25)


def test_self_bleu_compares_with_the_sources_as_the_model_saw_them(tmp_path):
    """A model can only write in-vocabulary words: copying a sentence with an unknown word gives <unk> there,
    which the official BLEU counted as a match (<unk> on both sides)."""
    from arae.metrics import EvalContext, METRICS
    from arae.metrics.transfer import Direction
    corpus = SimpleNamespace(styles=("negative", "positive"))
    sources = ["the zyzzyva was cold .", "the staff was rude ."]
    copied = ["the <unk> was cold .", "the staff was rude ."]
    d = Direction(0, 1, sources, copied, None, seen_sources=copied)
    ctx = EvalContext(outputs={"transfers": [d]}, train_text=[], eval_text=[], vocab_words=[], workdir=tmp_path,
                      corpus=corpus)
    assert METRICS.get("self_bleu.sacrebleu")(ctx).value == pytest.approx(100)
    assert METRICS.get("copied_source")(ctx).value == 1.0
    d.seen_sources = None
    assert METRICS.get("self_bleu.sacrebleu")(ctx).value < 100


def test_lmplz_is_required_only_by_benchmarks_whose_metrics_use_it():
    from dataclasses import replace

    from arae.benchmark import BENCHMARKS, MetricSpec
    spec = BENCHMARKS.get("yelp_transfer")
    assert spec.needs_lmplz and BENCHMARKS.get("perf").needs_lmplz
    no_kenlm = replace(spec, metrics=tuple(m for m in spec.metrics if "kenlm" not in m.metric))
    assert not no_kenlm.needs_lmplz
    assert replace(spec, metrics=(MetricSpec("forward_ppl.kenlm", "PPL", "lower"),)).needs_lmplz


def test_transfers_are_made_once_and_a_truncated_direction_is_made_again(tmp_path):
    """Resuming reads back every complete direction file; one cut short (an interrupted write of
    another tool, a manual edit) is transferred again; the recorded time sums the directions'."""
    from arae.data.vocab import Vocab
    from arae.tasks.transfer import _transfers

    class Echo:
        calls = []

        def transfer(self, sentences, source, target):
            self.calls.append((source, target))
            return [s + [f"to{target}"] for s in sentences]

    sentences = [[["a", "b"], ["c"]], [["d"], ["e", "f"]], [["g"], ["h"]]]
    corpus = SimpleNamespace(styles=("x", "y", "z"), by_style={"test": sentences}, references=None)
    plan = SimpleNamespace(dir=tmp_path, name="t")
    vocab = Vocab.build([w for style in sentences for w in style], 100)
    method = Echo()
    directions, _ = _transfers(plan, method, corpus, vocab)
    assert len(directions) == 6 and len(method.calls) == 6
    assert directions[0].outputs == ["a b to1", "c to1"] and directions[0].sources == ["a b", "c"]
    (tmp_path / "samples" / "y-to-z.txt").write_text("d to2\n")  # one line short
    again, seconds = _transfers(plan, method, corpus, vocab)
    assert method.calls[6:] == [(1, 2)] and [d.outputs for d in again] == [d.outputs for d in directions]
    assert seconds >= 0 and len((tmp_path / "samples" / "y-to-z.txt").read_text().splitlines()) == 2


def test_the_judge_learns_from_the_whole_training_split_whatever_the_preset_trains_on(fixture_data, tmp_path):
    from arae.metrics import EvalContext
    from arae.metrics.transfer import judge_for
    capped = build_corpus("yelp", fixture_data, maxlen=25, max_train_per_style=20)
    whole = build_corpus("yelp", fixture_data, maxlen=25)
    assert sum(map(len, capped.by_style["train"])) <= 40 < sum(map(len, whole.by_style["train"]))
    assert capped.full_train == whole.full_train == whole.by_style["train"]

    def ctx(corpus):
        return EvalContext(outputs={}, train_text=[], eval_text=[], vocab_words=[], workdir=tmp_path, corpus=corpus,
                           artefacts=tmp_path / "artefacts")
    judges = [judge_for(ctx(c), "tfidf") for c in (capped, whole)]
    assert judges[0].info["artefact"] == judges[1].info["artefact"]  # one judge, built once
    assert judges[0].info["built"]["n_train"] == sum(map(len, whole.by_style["train"]))


def test_scorer_warns_of_sources_the_judge_and_lm_learnt_from_and_flags_collapse(fixture_data, tmp_path, capsys):
    """Sources taken from the training split get counts of what the judges and the LM saw; one output for
    every source is flagged as collapsed, on the console and in the JSON."""
    from arae.data import build_corpus
    corpus = build_corpus("yelp", fixture_data, maxlen=10**6)
    sources = [tmp_path / "s0.txt", tmp_path / "s1.txt"]
    for path, style in zip(sources, corpus.by_style["train"]):
        path.write_text("".join(" ".join(s) + "\n" for s in style[:30]))
    collapsed = [tmp_path / "o0.txt", tmp_path / "o1.txt"]
    for path in collapsed:
        path.write_text("what is the <unk> ?\n" * 30)
    assert score_main(["yelp", "--data-dir", str(fixture_data), "--artefacts", str(tmp_path / "a"), "--outputs",
                       *map(str, collapsed), "--sources", *map(str, sources)]) == 0
    printed = capsys.readouterr()
    result = json.loads(printed.out)
    assert "60 of 60 source sentences are in the judges' training text" in result["warnings"]
    assert "60 of 60 source sentences are in the forward LM's training text" in result["warnings"]
    assert any("collapsed: negative->positive 3.3% distinct" in w for w in result["warnings"])
    assert "warning: 60 of 60 source sentences are in the judges'" in printed.err
    assert "building the shared judge-fasttext once" in printed.err  # progress while shared models are built


def test_the_iteration_visits_the_styles_from_train_first_style_as_the_official_loop_does():
    """The official Yelp loop starts every phase with its class 1 (train1.txt, positive: our style 1)."""
    from arae.models.transfer import TransferAutoencoder
    order = lambda first, k: TransferAutoencoder.order.fget(  # noqa: E731
        SimpleNamespace(cfg={"train": {"first_style": first}}, n_styles=k))
    assert order(1, 2) == [1, 0] and order(0, 3) == [0, 1, 2] and order(2, 3) == [2, 0, 1]
    with pytest.raises(SuiteError, match="train.first_style=2: expected a style index below 2"):
        order(2, 2)
    import benchmarks.yelp_transfer as yelp
    assert yelp.PAPER_CONFIG["train"]["first_style"] == 1
