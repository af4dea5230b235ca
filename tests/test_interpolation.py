"""Interpolations: the changed-word marks, the word edit distance, the path-excess number, and the
benchmark end to end (noise paths through the generator, code paths for AE and ARAE)."""
import json

import pytest

import baselines  # noqa: F401
import benchmarks  # noqa: F401
from arae.cli import main as run_all
from arae.tasks.interpolation import mark_changes
from arae.metrics import METRICS, EvalContext
from arae.metrics.interpolation import word_edit_distance


def test_changed_words_are_marked_against_the_previous_point():
    assert mark_changes(None, ["a", "man", "sleeps"]) == "a man sleeps"
    assert mark_changes(["a", "man", "sleeps"], ["a", "dog", "sleeps", "outside"]) == "a [dog] sleeps [outside]"


def test_word_edit_distance():
    assert word_edit_distance([], []) == 0
    assert word_edit_distance("a man runs".split(), "a man runs".split()) == 0
    assert word_edit_distance("a man runs".split(), "a dog runs".split()) == 1
    assert word_edit_distance("a man runs".split(), "man runs fast".split()) == 2
    assert word_edit_distance([], "two words".split()) == 2


def _excess(paths):
    ctx = EvalContext(outputs={"paths": paths}, train_text=[], eval_text=[], vocab_words=[], workdir=None)
    return METRICS.get("path_excess")(ctx)


def test_path_excess_is_one_for_a_straight_path_and_larger_for_a_detour():
    a, b, c = "a man runs".split(), "a dog runs".split(), "the dog walks".split()
    straight = [a, a, b, c, c]                      # 1 + 2 edits, ends 3 apart
    detour = [a, "two birds fly".split(), c, c, c]  # 3 + 3 edits, ends 3 apart
    assert _excess([straight]).value == pytest.approx(1.0)
    assert _excess([detour]).value == pytest.approx(2.0)
    both = _excess([straight, detour, [a, b, a, b, a]])
    assert both.value == pytest.approx(1.5) and both.details["ends_alike"] == 1
    assert _excess([[a, b, a]]).missing_reason == "every path decodes its two ends to the same sentence"


def test_interpolation_benchmark_end_to_end(fixture_data, tmp_path):
    out = tmp_path / "runs"
    assert run_all(["-b", "interpolation_smoothness", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data),
                    "--set", "train.steps=10", "--set", "eval.n_paths=20"]) == 0
    results = {p.parent.parent.name: json.loads(p.read_text())
               for p in out.glob("interpolation_smoothness/*/seed0-*/result.json")}
    assert {r: results[r]["details"]["interpolated"] for r in results} == {"arae_noise": "noise", "arae_codes": "codes",
                                                                 "ae_codes": "codes"}
    assert results["arae_codes"]["timing"]["training_reused_from"].startswith("interpolation_smoothness/arae_noise")
    for result in results.values():
        first = next(p for p in result["previews"] if p["title"] == "path 1")
        assert result["counts"]["paths"] == 20 and first["kind"] == "side_by_side" and len(first["items"]) == 5
        excess, path = result["metrics"]["path_excess"], [p["output"] for p in first["items"]]
        if excess["value"] is None:  # 10 steps of training often decode both ends of every path alike
            assert excess["missing_reason"] == "every path decodes its two ends to the same sentence"
            assert path[0] == path[-1]
        else:
            assert excess["value"] >= 1  # a path is never shorter than its ends are apart
    assert "<h2>Interpolations (seed 0)</h2>" in (out / "report" / "interpolation_smoothness.html").read_text()
