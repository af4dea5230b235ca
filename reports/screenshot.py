"""Pictures of report pages, taken by headless Chromium (Debian's chromium, which scripts/setup.sh installs):
the docs' screenshots are regenerated with their results blocks, and tests/test_browser.py opens pages the
same way."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from arae.errors import ConfigError

# A page is shown inside an iframe of the asked width (a headless window is at least 500 pixels wide).
HARNESS = """<html><body style="margin:0"><iframe src="{src}" width="{width}" height="{height}" style="border:0">
</iframe>{script}</body></html>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def browse(page: Path, width: int, height: int, *, dump_dom: bool = False, shot: Path | None = None,
           script: str = "") -> str:
    """Opens `page` in a `width` x `height` frame (with `script` in the frame's parent), and prints its DOM
    (returned) or saves a screenshot at `shot`."""
    browser = chromium()
    if browser is None:
        raise ConfigError("no headless Chromium found: scripts/setup.sh installs Debian's chromium "
                          "(apt-get install chromium)")
    page = page.resolve()
    harness = page.with_name(f".harness-{page.name}")
    harness.write_text(HARNESS.format(src=page.name, width=width, height=height, script=script), encoding="utf-8")
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={max(width, 500)},{height}", "--virtual-time-budget=3000"]
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        command.append(f"--screenshot={shot.resolve()}")
    try:
        done = subprocess.run([*command, *(["--dump-dom"] if dump_dom else []), harness.as_uri()],
                              capture_output=True, text=True, timeout=120)
    finally:
        harness.unlink()
    if shot is not None and not shot.exists():
        raise ConfigError(f"{page}: Chromium made no screenshot ({done.stderr.strip()[-300:]})")
    return done.stdout
