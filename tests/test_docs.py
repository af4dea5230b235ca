"""The documentation: README.md stays short and its links resolve; docs/ builds as a site with mkdocs --strict
(broken links and anchors fail); nothing points outside the repository or reads like a lab notebook."""
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

README = REPO / "README.md"
DOCS = REPO / "docs"
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")   # [text](target "title")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)          # [label]: target
FORBIDDEN = {"a pointer to the team's paper notes": re.compile(r"shared/paper\.md"),
             "a pointer to the peer comparison": re.compile(r"shared/peer"),
             "the comparison script": re.compile(r"compare\.sh"),
             "a path beside the checkout other than the data folder": re.compile(r"\.\./shared/(?!data\b)"),
             "a time of day": re.compile(r"\b\d{1,2}:\d{2}(:\d{2})? UTC\b")}


def _without_code(text: str) -> str:
    """The markdown outside fenced code blocks and inline code, where a link is a link."""
    text = re.sub(r"^(```|~~~).*?^\1\s*$", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def _relative_targets(text: str) -> list[str]:
    prose = _without_code(text)
    targets = LINK.findall(prose) + REFERENCE.findall(prose)
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#|//)", t, re.I)]


def _documentation() -> list:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_the_site_builds_without_warnings(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's end-of-life banner, not a build warning
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "No module named mkdocs" not in output, "mkdocs is missing: bash scripts/setup.sh installs the [test] extra"
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_relative_link_in_the_readme_resolves():
    targets = _relative_targets(README.read_text(encoding="utf-8"))
    assert targets, "README.md links to no page of the documentation"
    broken = [t for t in targets if not (REPO / t.split("#")[0]).resolve().is_file()]
    assert not broken, f"README.md links to files that are not in the repository: {broken}"


def test_every_relative_link_stays_inside_the_repository():
    for path in _documentation():
        for target in _relative_targets(path.read_text(encoding="utf-8")):
            resolved = (path.parent / target.split("#")[0]).resolve()
            assert resolved.is_relative_to(REPO), f"{path.relative_to(REPO)} links outside the repository: {target}"


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 160, f"README.md has {lines} lines; move detail to docs/ (at most 160)"


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_nothing_points_outside_the_repository_or_reads_like_a_notebook(what):
    found = [f"{path.relative_to(REPO)}:{n}: {line.strip()[:120]}"
             for path in _documentation()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if FORBIDDEN[what].search(line)]
    assert not found, f"{what} in the documentation:\n" + "\n".join(found)


def test_every_results_block_is_on_one_page_once():
    """`run_all.py --report-only --readme FILE` fills the first pair of markers it finds: a block must be whole
    (opening and closing marker) and live in one place."""
    opened, closed = {}, {}
    for path in _documentation():
        text = path.read_text(encoding="utf-8")
        for kind, store in (("", opened), ("/", closed)):
            for name in re.findall(rf"^<!-- {kind}results:([\w.-]+) -->$", text, re.M):
                store.setdefault(name, []).append(path.relative_to(REPO))
    assert opened.keys() == closed.keys(), f"unpaired results markers: {opened.keys() ^ closed.keys()}"
    repeated = {name: where for name, where in opened.items() if len(where) > 1}
    assert not repeated, f"results blocks in more than one place: {repeated}"


def test_every_page_is_in_the_site_navigation():
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")]
    missing = [p for p in pages if f" {p}" not in nav]
    assert not missing, f"pages missing from mkdocs.yml's nav: {missing}"
