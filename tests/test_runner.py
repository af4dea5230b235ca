"""End to end through run_all's CLI on tiny data: records, skip, resume, isolation, determinism."""
import json
import math

import pytest
import torch

from arae.cli import main
from arae.io import read_json
from arae.models.arae import ARAE

SMALL_MODEL = ["--set", "model.emsize=32", "--set", "model.nhidden=32", "--set", "model.arch_g=32-32",
               "--set", "model.arch_d=32-32"]
TINY = ["--set", "train.steps=6", "--set", "train.log_every=2", "--set", "train.checkpoint_every=3",
        "--set", "eval.n_samples=60", "--set", "train.batch_size=16", *SMALL_MODEL]


def _run(out, corpus, *extra):
    return main(["-b", "snli_generation", "--preset", "smoke", "--out", str(out),
                 "--set", f"data={corpus}", *TINY, *extra])


def _metrics(out):
    return {p.parent.parent.name: read_json(p)["metrics"] for p in sorted(out.glob("*/*/seed*/result.json"))}


@pytest.mark.slow
def test_full_path_writes_records_summary_and_report(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    assert _run(out, tiny_text_dir) == 0
    metrics = _metrics(out)
    assert sorted(metrics) == ["ae", "arae", "arae_gauss", "lm", "real", "vae"]
    for row in metrics.values():
        for name in ("reverse_ppl.kenlm5", "forward_ppl.kenlm5", "reverse_ppl.rnnlm", "forward_ppl.rnnlm"):
            assert row[name]["value"] is not None and math.isfinite(row[name]["value"]), row[name]
        assert "oov_rate" in row["reverse_ppl.kenlm5"]["details"]
    run_dir = next(out.glob("snli_generation/arae/seed0-*"))
    result, run = read_json(run_dir / "result.json"), read_json(run_dir / "run.json")
    assert result["timing"]["train_sentences_per_sec"] > 0 and [(p["kind"], len(p["items"])) for p in result["previews"]] == [("sentences", 10)]
    assert result["data"]["name"] == "text_dir" and run["preset"] == "smoke" and run["config"]["train"]["steps"] == 6
    assert read_json(run_dir / "env.json")["torch"] == torch.__version__
    csv = (out / "summary.csv").read_text().splitlines()
    assert csv[0].startswith("benchmark,version,row,seed,metric,value,preset") and len(csv) == 1 + 6 * 6
    assert (out / "report" / "index.html").exists() and "Reverse PPL" in (out / "report" / "summary.md").read_text()

    # work done once: one forward LM for all five rows; arae_gauss reuses the arae row's training
    assert len(list((out / "_artefacts").glob("ngram5-*/kenlm5.arpa"))) == 1
    assert len(list((out / "_artefacts").glob("rnnlm-*/lm.pt"))) == 1
    assert {m["forward_ppl.kenlm5"]["details"]["lm_artefact"] for m in metrics.values()} == {
        "_artefacts/" + next((out / "_artefacts").glob("ngram5-*")).name}
    gauss_dir = next(out.glob("snli_generation/arae_gauss/seed0-*"))
    assert read_json(gauss_dir / "result.json")["timing"]["training_reused_from"] == str(run_dir.relative_to(out))
    assert (gauss_dir / "checkpoint.pt").read_bytes() == (run_dir / "checkpoint.pt").read_bytes()
    assert metrics["arae_gauss"]["reverse_ppl.kenlm5"] != metrics["arae"]["reverse_ppl.kenlm5"]  # sampled otherwise
    # a user's own corpus: no paper numbers, and the title names the corpus
    spec = read_json(out / "snli_generation" / "benchmark.json")
    assert spec["paper"] == {} and str(tiny_text_dir) in spec["title"] and "SNLI" not in spec["title"]
    assert spec["comparable_to_paper"] is False

    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/*/seed*/result.json")}
    assert _run(out, tiny_text_dir) == 0  # a second run does no work
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/*/seed*/result.json")}


@pytest.mark.slow
def test_same_seed_same_numbers_and_seed_indices_differ(tmp_path, tiny_text_dir):
    assert _run(tmp_path / "a", tiny_text_dir, "--seeds", "2") == 0
    assert _run(tmp_path / "b", tiny_text_dir) == 0
    seeds = {p.parent.name.split("-")[0]: read_json(p)["metrics"]
             for p in (tmp_path / "a").glob("snli_generation/arae/seed*/result.json")}
    assert seeds["seed0"] == _metrics(tmp_path / "b")["arae"]
    def losses(path):
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in path.read_text().splitlines()]
    curves = {p.parent.name.split("-")[0]: losses(p)
              for p in (tmp_path / "a").glob("snli_generation/arae/seed*/scalars.jsonl")}
    assert curves["seed0"] == losses(next((tmp_path / "b").glob("snli_generation/arae/seed0-*/scalars.jsonl")))
    assert curves["seed0"] != curves["seed1"]


@pytest.mark.slow
def test_crash_mid_training_resumes_to_identical_metrics(tmp_path, tiny_text_dir, monkeypatch):
    assert _run(tmp_path / "clean", tiny_text_dir, "-b", "snli_generation") == 0
    original = ARAE.train_step

    def crash_at_step_4(self, step, batcher):
        if step == 4:
            raise RuntimeError("simulated crash")
        return original(self, step, batcher)
    monkeypatch.setattr(ARAE, "train_step", crash_at_step_4)
    out = tmp_path / "crashed"
    assert _run(out, tiny_text_dir) == 1  # the ARAE run fails, the other rows finish
    run_dir = next(out.glob("snli_generation/arae/seed0-*"))
    status = read_json(run_dir / "status.json")
    assert status["state"] == "failed" and "simulated crash" in status["error"]
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["step"] == 3
    monkeypatch.setattr(ARAE, "train_step", original)
    assert _run(out, tiny_text_dir) == 0
    assert _metrics(out) == _metrics(tmp_path / "clean")
    assert [r["step"] for r in map(json.loads, (run_dir / "scalars.jsonl").read_text().splitlines())] == [2, 4, 6]


@pytest.mark.slow
def test_diverging_run_is_marked_failed_and_reported(tmp_path, tiny_text_dir, monkeypatch):
    original = ARAE.train_step
    monkeypatch.setattr(ARAE, "train_step",
                        lambda self, step, b: {**original(self, step, b), "loss_ae": torch.tensor(float("nan"))})
    out = tmp_path / "runs"
    assert _run(out, tiny_text_dir) == 1
    status = read_json(next(out.glob("snli_generation/arae/seed0-*")) / "status.json")
    assert status["state"] == "failed" and "diverged at step 2" in status["error"] and "loss_ae" in status["error"]
    assert sorted(_metrics(out)) == ["ae", "lm", "real", "vae"]
    assert "diverged" in (out / "report" / "summary.md").read_text()


@pytest.mark.parametrize("args, message", [
    (["-b", "snli_generaton"], "did you mean 'snli_generation'"),
    (["-b", "nothing_*"], "no benchmark matches"),
    (["--set", "train.stepz=3"], "did you mean 'train.steps'"),
    (["--set", "novalue"], "malformed --set"),
    (["--seeds", "0"], "--seeds must be at least 1"),
])
def test_bad_command_lines_exit_2_with_one_line(args, message, tmp_path, capsys):
    assert main(["--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_python_dash_m_arae_is_run_all(tmp_path):
    import subprocess
    import sys
    from conftest import REPO
    help_text = subprocess.run([sys.executable, "-m", "arae", "--help"], cwd=REPO, capture_output=True, text=True)
    assert help_text.returncode == 0 and help_text.stdout.startswith("usage: python -m arae")  # its own name
    assert "--readme FILE" in help_text.stdout and "python -m arae score --help" in help_text.stdout


def test_a_run_computes_the_selected_metrics_only(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    assert _run(out, tiny_text_dir, "-r", "arae", "-m", "*.rnnlm") == 0
    assert sorted(_metrics(out)["arae"]) == ["forward_ppl.rnnlm", "reverse_ppl.rnnlm"]
    spec = read_json(out / "snli_generation" / "benchmark.json")
    assert [m["name"] for m in spec["metrics"]] == ["reverse_ppl.rnnlm", "forward_ppl.rnnlm"]
    summary = (out / "report" / "summary.md").read_text()
    assert "Reverse PPL (RNN LM)" in summary and "5-gram" not in summary
    assert main(["-b", "snli_generation", "--out", str(out), "-m", "bleu"]) == 2


def test_the_command_is_recorded_with_the_benchmark(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    assert _run(out, tiny_text_dir, "-r", "real") == 0
    command = read_json(out / "snli_generation" / "benchmark.json")["command"]
    assert command.startswith("python run_all.py -b snli_generation --preset smoke --out ") and "-r real" in command


def test_list_names_each_benchmark(capsys):
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["bmnist", "interpolation_smoothness", "perf", "snli_generation",
                                                            "snli_semisup", "vector_arithmetic", "word_swap_robustness",
                                                            "yelp_transfer"]


@pytest.mark.slow
def test_snli_generation_on_the_offline_snli_substitute(tmp_path, shared, capsys):
    out = tmp_path / "runs"
    assert main(["-b", "snli_generation", "--preset", "smoke", "--out", str(out), "--data-dir", str(shared),
                 "--set", "eval.n_samples=200"]) == 0
    first_line = capsys.readouterr().err.splitlines()[0]  # the substitute is named before any work
    assert first_line.startswith("data: SNLI train (550k pairs) not found") and "see README" in first_line
    metrics = _metrics(out)
    assert sorted(metrics) == ["ae", "arae", "arae_gauss", "lm", "real", "vae"]
    assert all(m[name]["value"] > 1 for m in metrics.values() for name in ("reverse_ppl.kenlm5", "forward_ppl.kenlm5"))
    data = read_json(next(out.glob("snli_generation/real/seed0-*/result.json")))["data"]
    assert data["sizes"]["train"] == 11519 and "SNLI dev" in data["substitute"]
    summary = (out / "report" / "summary.md").read_text()
    assert "substitute: SNLI train (550k pairs) not found" in summary and "train 11,519 sentences" in summary


def test_snli_generation_names_the_snli_substitute_before_any_work(tmp_path, fixture_data, capsys):
    """The same on SNLI-format files without the train split (the layout of the offline data), one row."""
    from arae.data import build_corpus
    out = tmp_path / "runs"
    assert main(["-b", "snli_generation", "--preset", "smoke", "--out", str(out), "--data-dir", str(fixture_data),
                 "-r", "real", "--set", "eval.n_samples=100"]) == 0
    first_line = capsys.readouterr().err.splitlines()[0]
    assert first_line.startswith(f"data: SNLI train (550k pairs) not found in {fixture_data}") and "see README" in first_line
    n_train = len(build_corpus("snli_lm", fixture_data, maxlen=15).train)
    data = read_json(next(out.glob("snli_generation/real/seed0-*/result.json")))["data"]
    assert data["sizes"]["train"] == n_train and "SNLI dev" in data["substitute"]
    summary = (out / "report" / "summary.md").read_text()
    assert "substitute: SNLI train (550k pairs) not found" in summary and f"train {n_train:,} sentences" in summary


@pytest.mark.slow
def test_new_data_in_the_same_folder_is_a_new_run(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    assert _run(out, tiny_text_dir, "-r", "real") == 0
    with open(tiny_text_dir / "train.txt", "a") as f:
        f.write("a brand new sentence .\n")
    assert _run(out, tiny_text_dir, "-r", "real") == 0
    assert len(list(out.glob("snli_generation/real/seed0-*"))) == 2


@pytest.mark.slow
def test_the_report_shows_the_runs_of_the_latest_command(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"

    def unique_fraction_in_summary():
        rows = [line.split(",") for line in (out / "summary.csv").read_text().splitlines()]
        return [r[5] for r in rows if r[4] == "unique_fraction"]
    assert _run(out, tiny_text_dir, "-r", "real", "--set", "eval.n_samples=50") == 0
    first = unique_fraction_in_summary()
    assert _run(out, tiny_text_dir, "-r", "real", "--set", "eval.n_samples=96") == 0
    assert unique_fraction_in_summary() != first
    assert _run(out, tiny_text_dir, "-r", "real", "--set", "eval.n_samples=50") == 0  # skipped, but shown
    assert unique_fraction_in_summary() == first


@pytest.mark.slow
def test_diagnostics_never_change_what_training_computes(tmp_path, tiny_text_dir):
    """Logging (and its diagnostics) at every step or only at the end gives the same weights."""
    def final_weights(out, every):
        assert _run(out, tiny_text_dir, "-r", "arae", "--set", f"train.log_every={every}") == 0
        state = torch.load(next(out.glob("snli_generation/arae/seed0-*/checkpoint.pt")), weights_only=True)
        return state["method"]["nets"]
    often, rarely = final_weights(tmp_path / "often", 1), final_weights(tmp_path / "rarely", 6)
    for net in often:
        for name, tensor in often[net].items():
            assert torch.equal(tensor, rarely[net][name]), (net, name)
    scalars = [json.loads(line) for line in next((tmp_path / "often").glob(
        "snli_generation/arae/seed0-*/scalars.jsonl")).read_text().splitlines()]
    assert len(scalars) == 6 and {"code_spread", "gen_norm", "w_dist", "fixed_unique"} <= set(scalars[0])
    assert all(0 <= s["fixed_unique"] <= 1 and 0 <= s["code_spread"] <= 2 for s in scalars)
