"""The perf benchmark: its measurements, targets and report page, end to end on tiny data."""
import html

import pytest
import torch

from arae.cli import main
from arae.data.vocab import EOS_ID, PAD_ID
from arae.io import read_json
from arae.tasks.perf import PeakMemory, decoded_steps
from arae.results import CellStat, check_targets

SMALL = ["--set", "model.emsize=16", "--set", "model.nhidden=16", "--set", "model.z_size=8",
         "--set", "model.arch_g=16-16", "--set", "model.arch_d=16-16", "--set", "train.batch_size=8"]


@pytest.mark.slow
def test_perf_rows_record_their_measures_and_the_report_shows_targets_and_curves(tmp_path, tiny_text_dir):
    out = tmp_path / "runs"
    assert main(["-b", "perf", "--preset", "smoke", "--out", str(out), "--seeds", "1", "--set", f"data={tiny_text_dir}",
                 *SMALL, "--set", "perf.warmup=1", "--set", "perf.steps=2", "--set", "eval.n_samples=30",
                 "--set", "eval.sample_batch=20", "--set", "perf.fractions=[0.5, 1.0]",
                 "--set", "perf.vocab_sizes=[20, 40]"]) == 0
    results = {p.parent.parent.name: read_json(p) for p in out.glob("perf/*/seed0-*/result.json")}
    assert {"train_arae", "train_ae", "train_rnn_lm", "generation", "judge", "scaling_vocab"} <= set(results)
    train = results["train_arae"]["metrics"]
    assert train["it_per_s"]["value"] > 0 and train["tokens_per_s"]["value"] > train["sentences_per_s"]["value"]
    generation = results["generation"]["metrics"]["generation_efficiency"]
    assert 0 < generation["value"] and generation["details"]["decoded_steps"] > 0
    assert results["judge"]["metrics"]["sentences_per_s"]["value"] > 0
    assert results["judge"]["metrics"]["sentences_per_s"]["details"]["n_train"] > 0
    (curves,) = results["scaling_train_size"]["previews"]
    assert curves["kind"] == "curves" and curves["x_label"] == "training sentences" and all(len(p) == 2 for p in curves["series"].values())
    page = (out / "report" / "perf.html").read_text()
    targets = read_json(out / "perf" / "benchmark.json")["targets"]
    # 1 seed: every target is undecided (the word "undecided" alone is always in the page's legend)
    assert targets and page.count('<td class="l undecided">undecided</td>') == len(targets)
    assert 'class="l met"' not in page and 'class="l not-met"' not in page
    assert all(html.escape(t["text"]) in page for t in targets) and "Measured curves" in page
    csv_rows = (out / "summary.csv").read_text().splitlines()
    assert not any(line.startswith("perf,1,generation,") and ",it_per_s," in line for line in csv_rows)


def test_decoded_steps_count_each_row_up_to_its_eos():
    ids = torch.tensor([[5, EOS_ID, PAD_ID, PAD_ID], [5, 6, 7, 8], [EOS_ID, PAD_ID, PAD_ID, PAD_ID]])
    assert decoded_steps(ids) == 2 + 4 + 1


def test_peak_memory_sees_an_allocation_inside_the_block():
    with PeakMemory(torch.device("cpu")) as peak:
        before = peak.peak
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        block += 1
    assert peak.peak >= before + 32 * 2**20


def _cell(values):
    from statistics import fmean
    from arae.results import ci95_halfwidth
    return CellStat("perf", 1, "smoke", "generation", "generation_efficiency", len(values), fmean(values),
                    ci95_halfwidth(values), tuple(values), ())


def test_a_target_is_met_only_with_enough_seeds_and_a_clear_interval():
    spec = {"metrics": [{"name": "generation_efficiency", "direction": "higher"}],
            "targets": [{"text": "t", "row": "generation", "metric": "generation_efficiency", "level": 0.5}]}
    verdict = lambda values: check_targets(spec, [_cell(values)])[0].verdict  # noqa: E731
    assert verdict([0.9]) == "undecided"  # one seed
    assert verdict([0.80, 0.82, 0.81]) == "met"
    assert verdict([0.30, 0.31, 0.29]) == "not met"
    assert verdict([0.3, 0.9]) == "undecided"  # the interval contains the level
