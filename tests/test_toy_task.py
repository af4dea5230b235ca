"""Adding a task or a metric touches neither the results layer nor the report: a toy task with a toy metric,
defined only here, runs through the normal path (plan, run, schema-checked record, report) and its numbers,
what they rest on, its caveats and its previews show on its report page. And no module of the results layer or
the report names a registered task or metric."""
import json
import re
from pathlib import Path

import pytest
import torch

import baselines  # noqa: F401  (registers the models)
import benchmarks  # noqa: F401  (registers the specs, tasks and metrics)
from arae.benchmark import BENCHMARKS, BenchmarkSpec, MetricSpec, Preset, Row
from arae.cli import main as run_all
from arae.config import deep_merge
from arae.metrics import METRICS, MetricValue
from arae.models.capabilities import SAMPLES_TEXT
from arae.schema import SchemaError, check_result
from arae.tasks.base import TASKS, Produced, Task
from benchmarks.snli_generation import SMOKE_CONFIG

ROOT = Path(__file__).resolve().parents[1]


def _mean_words(ctx) -> MetricValue:
    lines = ctx.output("echoes")
    return MetricValue(sum(len(line.split()) for line in lines) / len(lines), rests_on=f"{len(lines)} toy echoes")


@pytest.fixture
def toy_benchmark(monkeypatch):
    """Registers a toy task, metric and benchmark for one test, and forgets them afterwards."""
    monkeypatch.setattr(TASKS, "_items", dict(TASKS._items))

    class Echo(Task):  # registered by being defined
        name = "toy_echo"
        needs = frozenset({SAMPLES_TEXT})

        def produce(self, plan, method, corpus, vocab, device) -> Produced:
            echoes = [" ".join(s) for s in method.sample(4, torch.Generator().manual_seed(plan.seed))]
            previews = [{"kind": "side_by_side", "section": "Echoes", "title": "first words",
                         "items": [{"key": i, "source": e, "output": e.split()[0]} for i, e in enumerate(echoes)]},
                        {"kind": "sentences", "section": "Toy lines", "title": "", "items": echoes}]
            return Produced({"echoes": echoes}, previews, {"echoes": len(echoes)}, ["a toy caveat"])

    monkeypatch.setitem(METRICS._items, "toy_mean_words", _mean_words)
    spec = BenchmarkSpec(
        name="toy_bench", task=Echo, version=1, title="A toy benchmark", paper_ref="none",
        rows=(Row("real", "Real sentences", "real_data"),),
        metrics=(MetricSpec("toy_mean_words", "Mean words", "higher"),), paper={},
        presets={"smoke": Preset(deep_merge(SMOKE_CONFIG, {"train": {"steps": 1}}))})
    monkeypatch.setitem(BENCHMARKS._items, "toy_bench", spec)
    return spec


def test_a_toy_task_and_metric_run_and_render_through_the_normal_path(toy_benchmark, tmp_path, fixture_data):
    out = tmp_path / "runs"
    assert run_all(["-b", "toy_bench", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data)]) == 0
    (result_path,) = out.glob("toy_bench/real/seed0-*/result.json")
    result = json.loads(result_path.read_text())
    check_result(result)
    assert result["metrics"]["toy_mean_words"]["rests_on"] == "4 toy echoes" and result["counts"] == {"echoes": 4}
    page = (out / "report" / "toy_bench.html").read_text()
    value = f"{result['metrics']['toy_mean_words']['value']:.3f}"[:4]
    assert value in page and "4 toy echoes" in page and "a toy caveat" in page and "Mean words" in page
    assert "<h2>Echoes (seed 0)</h2>" in page and "<h3>first words</h3>" in page and "<h2>Toy lines (seed 0)</h2>" in page
    first = result["previews"][1]["items"][0]
    assert f'<li>{first}</li>' in page
    assert "| Real sentences (a toy caveat) | Mean words |" in (out / "report" / "summary.md").read_text()


def test_a_record_that_does_not_fit_the_schema_fails_its_run(toy_benchmark, tmp_path, fixture_data, monkeypatch):
    monkeypatch.setattr(toy_benchmark.task, "produce", lambda self, *a: Produced(
        {"echoes": ["a b"]}, [{"kind": "sentences", "section": "Toy", "title": ""}]))  # a preview without items
    out = tmp_path / "runs"
    assert run_all(["-b", "toy_bench", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data)]) == 1
    (status,) = out.glob("toy_bench/real/seed0-*/status.json")
    assert json.loads(status.read_text())["error"] == "result.previews[0] (sentences) lacks items"
    assert not list(out.glob("toy_bench/real/seed0-*/result.json"))


@pytest.mark.parametrize("bad, message", [
    ({"metrics": {"m": {"value": "1", "missing_reason": None, "details": {}, "rests_on": ""}}},
     "result.metrics['m'].value is str"),
    ({"metrics": {"m": {"value": None, "missing_reason": None, "details": {}, "rests_on": ""}}},
     "result.metrics['m'] needs either a value or a missing_reason"),
    ({"previews": [{"kind": "video", "section": "", "title": ""}]}, "result.previews[0].kind is 'video'"),
    ({"samples_preview": []}, "result has unknown field(s) samples_preview"),
])
def test_the_schema_names_what_does_not_fit(bad, message):
    good = {"benchmark": "b", "version": 1, "row": "r", "seed_index": 0, "seed": 1, "preset": "smoke", "data": {},
            "metrics": {}, "previews": [], "notes": [], "counts": {}, "details": {}, "timing": {}}
    check_result(good)
    with pytest.raises(SchemaError, match=re.escape(message)):
        check_result(good | bad)


def test_no_module_of_the_results_layer_or_the_report_names_a_task_or_a_metric():
    names = set(TASKS.names()) | set(METRICS.names()) | {m.split(".")[0] for m in METRICS.names()}
    files = [ROOT / "arae" / "results.py", *(ROOT / "reports").rglob("*.py"), *(ROOT / "reports").rglob("*.j2")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        named = sorted(n for n in names if f'"{n}"' in text or f"'{n}'" in text or f"`{n}`" in text)
        assert not named, f"{path.relative_to(ROOT)} names {named}"
