"""The time-left estimate: recorded timings before anything ran, scaled to this machine's pace after."""
import pytest

from arae.eta import RECORDED, Eta, load_recorded


def test_before_anything_ran_the_recorded_timings_alone_say_how_long():
    eta = Eta({"b/ae/smoke": 60.0, "b/arae/smoke": 120.0})
    assert eta.minutes_left(["b/ae/smoke", "b/arae/smoke"]) == pytest.approx(3.0)
    assert eta.line(["b/ae/smoke", "b/arae/smoke"]) == ", about 3 min left from the recorded timings"
    assert eta.line(["b/vae/smoke"]) == eta.line(["b/ae/smoke", "b/vae/smoke"]) == ""  # no estimate, not too low a one


def test_after_runs_finished_the_recorded_timings_scale_to_this_machine_and_unknown_runs_take_the_mean():
    eta = Eta({"b/ae/smoke": 60.0, "b/arae/smoke": 120.0})
    eta.finished("b/ae/smoke", 180.0)  # this machine is 3x slower than the recorded one
    assert eta.minutes_left(["b/arae/smoke"]) == pytest.approx(6.0)
    assert eta.minutes_left(["b/arae/smoke", "b/vae/smoke"]) == pytest.approx(9.0)
    assert eta.line(["b/arae/smoke"]).endswith("min left at this machine's pace so far")


def test_the_committed_timings_cover_every_smoke_run(tmp_path):
    """benchmarks/recorded_seconds.json is written by scripts/record_timings.py from a whole smoke job."""
    import benchmarks  # noqa: F401
    from arae.benchmark import BENCHMARKS
    recorded = load_recorded(RECORDED)
    expected = {f"{name}/{row.name}/smoke" for name in BENCHMARKS.names()
                for row in BENCHMARKS.get(name).rows_for("smoke")}
    assert expected <= set(recorded), sorted(expected - set(recorded))
    assert load_recorded(tmp_path / "absent.json") == {}
