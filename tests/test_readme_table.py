"""The README's table of benchmarks is generated from the registered specs, so it cannot drift from them."""
import re

import benchmarks  # noqa: F401  (registers the specs)
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
