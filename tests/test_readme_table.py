"""The README's table of benchmarks is generated from the registered specs, so it cannot drift from them."""
import re

import benchmarks  # noqa: F401  (registers the specs)
from arae.benchmark import BENCHMARKS
from arae.cli import benchmark_table, main
from conftest import REPO


def test_the_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- benchmarks -->\n(.*?)\n<!-- /benchmarks -->", readme, re.S)
    assert block, "README.md lacks the <!-- benchmarks --> ... <!-- /benchmarks --> markers"
    assert block.group(1) == benchmark_table(), "README.md's benchmark table is stale: run python run_all.py --list --readme README.md"


def test_list_readme_fills_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- benchmarks -->\nold\n<!-- /benchmarks -->\nend\n")
    assert main(["--list", "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and "| `snli_generation`: " in text and text.endswith("<!-- /benchmarks -->\nend\n")
    assert main(["--list", "--readme", str(tmp_path / "missing-markers.md")]) != 0


def test_the_readme_verdicts_are_the_generated_ones(tmp_path):
    """Regenerating the README changes nothing: its verdict table is the one the docs pages' results state."""
    readme = tmp_path / "README.md"
    readme.write_text((REPO / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "docs").symlink_to(REPO / "docs")
    assert main(["--list", "--readme", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == (REPO / "README.md").read_text(encoding="utf-8"), \
        "README.md's generated blocks are stale: run python run_all.py --list --readme README.md"
    block = re.search(r"<!-- verdicts -->\n(.*?)\n<!-- /verdicts -->", readme.read_text(), re.S).group(1)
    assert block.count("\n| `") == sum(len(BENCHMARKS.get(n).claims) for n in BENCHMARKS.names())


def test_a_later_block_that_lacks_a_side_of_a_claim_does_not_replace_its_verdict(tmp_path):
    from reports.readme import recorded_verdicts
    page = (REPO / "docs" / "benchmarks" / "yelp_transfer.md").read_text(encoding="utf-8")
    assert "<!-- results:yelp-published -->" in page  # the published rows' block: no trained row, no claim judged
    verdicts = recorded_verdicts(REPO / "docs" / "benchmarks" / "yelp_transfer.md")
    bleu = verdicts[("yelp_transfer", "BLEU: ARAE (λ=1) keeps more content than cross-aligned")]
    assert bleu.preset == "small"  # from the small run's block, not the later smoke block of published rows
