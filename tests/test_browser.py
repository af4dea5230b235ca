"""The report as a person sees it: every page rendered from fixture records is opened in headless Chromium
(installed by scripts/setup.sh), which checks that the results table, the claims, a figure and the samples
are visible, that no script from the data runs, and, in a 420-pixel-wide window, that the results table
scrolls inside its own box instead of widening the page. A screenshot of each page is kept under
test-artifacts/report-pages/."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import REPO
from reports import render_report
from reports.readme import update_readme
from reports.screenshot import browse, chromium
from test_report import BENCH, BLEU, REV, SPEC, _run

SHOTS = REPO / "test-artifacts" / "report-pages"
# Appended to a copy of each page: after the page has loaded, write what is visible into an attribute that
# --dump-dom prints. Visible: laid out with a size, not hidden.
CHECKER = """<script>
window.addEventListener("load", function () {
  function visible(el) {
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  }
  var all = function (q) { return Array.prototype.slice.call(document.querySelectorAll(q)); };
  var results = all("table").filter(function (t) { return /paper|mean/.test(t.textContent); })[0];
  var checks = {
    table: !!results && visible(results),
    claims: all("td").some(function (td) { return /undecided|not-comparable|pass|fail/.test(td.className) && visible(td); }),
    figure: all("img").some(function (img) { return visible(img) && img.naturalWidth > 0; }),
    samples: all("li, td").some(function (el) { return /gen3/.test(el.textContent) && visible(el); }),
    ran: document.documentElement.getAttribute("data-injected") || "",
    page_width: document.documentElement.scrollWidth, window_width: window.innerWidth,
    table_scrolls: !!results && results.scrollWidth > results.clientWidth
  };
  parent.postMessage(JSON.stringify(checks), "*");
});
</script>"""
# The frame posts its checks to the harness page, which --dump-dom then prints.
LISTENER = """<script>addEventListener("message", function (e) {
document.documentElement.setAttribute("data-checks", e.data); });</script>"""
INJECTED = '<script>document.documentElement.setAttribute("data-injected", "yes")</script>'


def open_page(page: Path, width: int, shot: Path) -> dict:
    """The checks of `page` in a `width`-pixel wide frame, and its screenshot at `shot`."""
    assert chromium(), "no headless Chromium: scripts/setup.sh installs Debian's chromium (apt-get install chromium)"
    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(page.read_text() + CHECKER)
    try:
        dom = browse(probe, width, 900, dump_dom=True, script=LISTENER)
    finally:
        probe.unlink()
    browse(page, width, 900, shot=shot)
    found = re.search(r'data-checks="([^"]*)"', dom)
    assert found, f"{page.name}: the checks did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture()
def report(tmp_path: Path) -> Path:
    """Records of three rows, one with a sample that tries to run a script, and a trade-off figure."""
    out = tmp_path / "runs"
    (out / BENCH).mkdir(parents=True)
    (out / BENCH / "benchmark.json").write_text(json.dumps({**SPEC, "tradeoffs": [[BLEU, REV]]}))
    for seed, (rev, bleu) in enumerate([(80.0, 12.0), (84.0, 14.0)]):
        _run(out, "arae", seed, "done", {REV: (rev, None), BLEU: (bleu, None)},
             samples=[f"a man {INJECTED} sleeps"] + [f"gen{i} {'word ' * 30}" for i in range(11)] if seed == 0 else ())
        _run(out, "ae", seed, "done", {REV: (rev + 10, None), BLEU: (bleu + 3, None)})
    return render_report(out)


def test_every_page_shows_its_table_claims_figure_and_samples_and_runs_no_script_from_the_data(report):
    pages = sorted(report.glob("*.html"))
    assert {p.name for p in pages} == {"index.html", f"{BENCH}.html"}
    for page in pages:
        checks = open_page(page, 1280, SHOTS / f"{page.stem}.png")
        assert checks["ran"] == "", f"{page.name}: a script from the data ran"
        assert (SHOTS / f"{page.stem}.png").stat().st_size > 5000
        if page.name != "index.html":
            assert checks["table"] and checks["claims"] and checks["figure"] and checks["samples"], checks


def test_at_420_pixels_the_results_table_scrolls_in_its_box_and_the_page_does_not_widen(report):
    checks = open_page(report / f"{BENCH}.html", 420, SHOTS / f"{BENCH}-420px.png")
    assert checks["table"] and checks["table_scrolls"], checks
    assert checks["page_width"] <= checks["window_width"], checks


def test_a_docs_page_gets_a_screenshot_of_its_report_page_with_its_results_block(report, tmp_path):
    out, docs = report.parent, tmp_path / "docs"
    name = out.resolve().name
    docs.mkdir()
    page = docs / f"{BENCH}.md"
    page.write_text(f"# Page\n\n<!-- results:{name} -->\n<!-- /results:{name} -->\n\n<!-- screenshot:{name} -->\n"
                    f"<!-- /screenshot:{name} -->\n")
    update_readme(page, out)
    text, shot = page.read_text(), docs / "img" / f"{BENCH}-{name}.png"
    assert f"](img/{BENCH}-{name}.png)" in text and f"(`{BENCH}`), preset `smoke`" in text
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
