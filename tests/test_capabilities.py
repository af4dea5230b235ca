"""Planning refuses a row whose model lacks what its task needs, in one line, before anything trains; every
registered benchmark's rows have what their tasks need."""
import dataclasses

import pytest

import baselines  # noqa: F401  (registers the models)
import benchmarks  # noqa: F401  (registers the specs)
from arae.benchmark import BENCHMARKS, Row
from arae.errors import ConfigError
from arae.models import MODELS
from arae.models.capabilities import DECODES_NOISE, ENCODES_SENTENCES, SAMPLES_TEXT
from arae.runner import plan_runs


@pytest.mark.parametrize("name", BENCHMARKS.names())
def test_every_row_of_every_preset_offers_what_its_task_needs(name, fixture_data, tmp_path):
    spec = BENCHMARKS.get(name)
    for preset in spec.presets:
        plans = plan_runs([spec], preset, 1, tmp_path, [], fixture_data)
        for plan in plans:
            assert spec.task.needs_for(plan.config) <= MODELS.get(plan.row.model).offers, plan.name


def test_a_row_whose_model_cannot_sample_is_refused_before_anything_runs(fixture_data, tmp_path):
    spec = BENCHMARKS.get("snli_generation")
    bad = dataclasses.replace(spec, rows=spec.rows + (Row("transfer_model", "a transfer model", "cross_aligned"),))
    with pytest.raises(ConfigError) as err:
        plan_runs([bad], "smoke", 1, tmp_path, [], fixture_data)
    message = str(err.value)
    assert "\n" not in message and "'transfer_model'" in message and "'cross_aligned'" in message
    assert SAMPLES_TEXT in message and "generation" in message
    assert not any(tmp_path.iterdir())  # nothing was created, let alone trained


def test_what_interpolation_needs_follows_its_setting():
    task = BENCHMARKS.get("interpolation_smoothness").task
    assert task.needs_for({"eval": {"interpolate": "noise"}}) == {DECODES_NOISE}
    assert task.needs_for({"eval": {"interpolate": "codes"}}) == {ENCODES_SENTENCES}
    assert DECODES_NOISE not in MODELS.get("ae").offers  # so an AE row interpolating noise is refused


def test_a_task_given_the_wrong_kind_of_corpus_is_refused_before_anything_runs(fixture_data, tmp_path):
    spec = BENCHMARKS.get("snli_semisup")  # reads labelled sentence pairs; the LM corpus has none
    with pytest.raises(ConfigError, match="the semisup task reads sentence pairs; corpus 'snli_lm' is text"):
        plan_runs([spec], "smoke", 1, tmp_path, ["data.corpus=snli_lm"], fixture_data)
    with pytest.raises(ConfigError, match=r"corpus 'snli_lm' has no setting data.max_train_per_style \(it takes: "):
        plan_runs([BENCHMARKS.get("yelp_transfer")], "smoke", 1, tmp_path, ["data.corpus=snli_lm"], fixture_data)
    assert not any(tmp_path.iterdir())
