"""A run's wall time is the sum of every phase it timed, so a task that adds a phase never under-reports."""
from arae.results import own_wall_seconds


def test_every_timed_phase_counts_and_a_reused_training_does_not():
    timing = {"train_seconds": 10.0, "sample_seconds": 1.0, "reconstruction_seconds": 2.5, "metric_seconds": 0.5,
              "train_sentences_per_sec": 99.0, "train_steps": 4}
    assert own_wall_seconds(timing) == 14.0  # bmnist's reconstruction phase included
    assert own_wall_seconds(timing | {"wall_seconds": 14.0}) == 14.0  # the recorded total is not counted again
    assert own_wall_seconds(timing | {"training_reused_from": "snli_generation/arae/seed0-12345678"}) == 4.0
