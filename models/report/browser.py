"""Headless-Chromium checks of a written HTML report: layout measurements and a first-screen screenshot.

Chromium renders the page exactly as a reader's browser would at a given window size. :func:`measure_layout` injects
a small script into a copy of the page that, once the page has loaded, records the width of the text column, the
bounding box of every table and of chosen elements (by id), and writes them as JSON into the DOM, which Chromium
prints with ``--dump-dom``. :func:`screenshot` writes a PNG of the first screen.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

SCREEN = (1366, 768)  # the most common laptop screen: what a clinician sees without scrolling
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage")
_MEASURE_ID = "layout-measure"
_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var body = document.body, style = getComputedStyle(body), box = body.getBoundingClientRect();
  var column = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  var out = {viewport: window.innerWidth, column_left: box.left + parseFloat(style.paddingLeft),
             column_width: column, tables: [], ids: {}};
  document.querySelectorAll("table").forEach(function (t, i) {
    var b = t.getBoundingClientRect();
    out.tables.push({index: i, left: b.left, width: b.width, caption: t.caption ? t.caption.textContent : ""});
  });
  IDS.forEach(function (id) {
    var el = document.getElementById(id);
    if (el) { var b = el.getBoundingClientRect();
              out.ids[id] = {top: b.top + window.scrollY, bottom: b.bottom + window.scrollY}; }
    else { out.ids[id] = null; }
  });
  var pre = document.createElement("pre");
  pre.id = "MEASURE_ID";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable: ``$CHROMIUM`` if set, else the first of chromium, chromium-browser,
    google-chrome on PATH; None if there is none."""
    override = os.environ.get("CHROMIUM")
    if override:
        return shutil.which(override) or (override if Path(override).is_file() else None)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium(chromium: str | None) -> str:
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium found: install it (e.g. apt-get install chromium) or set $CHROMIUM")
    return exe


def measure_layout(
    html_path: str | os.PathLike[str],
    *,
    ids: Sequence[str] = (),
    size: tuple[int, int] = SCREEN,
    chromium: str | None = None,
    timeout: float = 60.0,
) -> dict:
    """Load the page in headless Chromium at ``size`` and return its layout (CSS pixels, page coordinates).

    Returns a dict: ``viewport`` (window width), ``column_left`` and ``column_width`` (the body's content box, i.e.
    the text column), ``tables`` (one dict per table: ``index, left, width, caption``) and ``ids`` (per requested
    id: ``{"top", "bottom"}`` or None when the page has no such element).
    """
    source = Path(html_path).read_text(encoding="utf-8")
    script = _SCRIPT.replace("IDS", json.dumps(list(ids))).replace("MEASURE_ID", _MEASURE_ID)
    page = source.replace("</body>", script + "</body>") if "</body>" in source else source + script
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "page.html"
        copy.write_text(page, encoding="utf-8")
        result = subprocess.run(
            [_chromium(chromium), *_FLAGS, f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=10000",
             f"--user-data-dir={Path(tmp) / 'profile'}", "--dump-dom", copy.as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    match = re.search(rf'<pre id="{_MEASURE_ID}">(.*?)</pre>', result.stdout, flags=re.DOTALL)
    if match is None:
        raise RuntimeError(f"Chromium returned no layout (exit {result.returncode}): {result.stderr[-2000:]}")
    text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return json.loads(text)


def screenshot(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str],
    *,
    size: tuple[int, int] = SCREEN,
    chromium: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Write a PNG of the page's first screen (``size`` in CSS pixels, default 1366 x 768) and return its path."""
    target = Path(png_path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [_chromium(chromium), *_FLAGS, f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=10000",
             f"--user-data-dir={Path(tmp) / 'profile'}", f"--screenshot={target}",
             Path(html_path).absolute().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    if not target.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}")
    return target
