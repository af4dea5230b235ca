"""mkdocs hook: inside generated results blocks (`<!-- results:NAME -->` ... `<!-- /results:NAME -->`),
a list of claims follows its paragraph line without a blank line, which GitHub renders as a list but
Python-Markdown does not. Insert the blank line when building the site; the page files stay unchanged,
so `run_all.py --report-only --readme` keeps regenerating them byte for byte."""
import re

_BLOCK = re.compile(r"(<!-- results:([\w.-]+) -->\n)(.*?)(<!-- /results:\2 -->)", re.S)


def _loosen(body: str) -> str:
    out, prev = [], ""
    for line in body.split("\n"):
        if line.startswith("- ") and prev.strip() and not prev.startswith(("- ", " ", "|")):
            out.append("")
        out.append(line)
        prev = line
    return "\n".join(out)


def on_page_markdown(markdown, **kwargs):
    return _BLOCK.sub(lambda m: m.group(1) + _loosen(m.group(3)) + m.group(4), markdown)
