"""Headless-Chromium checks of a written HTML report: layout on a laptop and a phone, screenshots, print to PDF.

Chromium renders the page exactly as a reader's browser would. It is driven through the DevTools protocol over a
pipe (``--remote-debugging-pipe``: JSON messages ending in a NUL byte on file descriptors 3 and 4), which lets a
page be laid out at any screen size, with a phone's emulation (``Emulation.setDeviceMetricsOverride``; a headless
window cannot be narrower than 500 px, so ``--window-size=390,...`` would lay a phone page out at 500 px and crop it)
and printed on a stated paper size. Nothing but the standard library is needed.

:func:`measure_layout` records the width of the text column, the box of every table, of chosen elements (by id) and
of their table rows, whether the page scrolls sideways, and every word or number that was laid out over two lines
(:func:`is_mid_token` says which of those breaks split a token inside itself). :func:`screenshot` writes a PNG of the
first screen, :func:`print_pdf` a PDF, and :func:`figure_placements` reads back (with poppler) where each figure and
its caption landed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

SCREEN = (1366, 768)  # the most common laptop screen: what a clinician sees without scrolling
PHONE = (390, 844)  # a common phone screen (CSS pixels)
PAPER_INCHES = {"A4": (8.27, 11.69), "letter": (8.5, 11.0)}
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage",
          "--disable-background-networking", "--no-first-run", "--remote-debugging-pipe")  # fmt: skip

_MEASURE = """
(function (ids, breaks) {
  function brokenTokens(selector) {
    // Tokens (runs without white space) of the text inside the selected elements that the browser laid out on more
    // than one line, with the characters either side of each break; a character on a new line starts below the
    // bottom of the one before it.
    var found = [];
    document.querySelectorAll(selector).forEach(function (cell) {
      var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), nodes = [], node;
      while ((node = walker.nextNode())) { nodes.push(node); }
      var text = nodes.map(function (n) { return n.data; }).join("");
      if (!text.trim()) { return; }
      var boxes = [], i, j, r = document.createRange();
      nodes.forEach(function (n) {
        for (j = 0; j < n.data.length; j++) {
          r.setStart(n, j); r.setEnd(n, j + 1);
          var rects = r.getClientRects();
          boxes.push(rects.length ? [rects[0].top, rects[0].bottom] : null);
        }
      });
      var re = /\\S+/g, m;
      while ((m = re.exec(text))) {
        for (i = m.index + 1; i < m.index + m[0].length; i++) {
          var a = boxes[i - 1], b = boxes[i];
          if (a !== null && b !== null && b[0] >= a[1] - 2) {
            found.push({tag: cell.tagName.toLowerCase(), token: m[0], before: text.slice(m.index, i),
                        after: text.slice(i, m.index + m[0].length)});
          }
        }
      }
    });
    return found;
  }
  var body = document.body, style = getComputedStyle(body), box = body.getBoundingClientRect();
  var column = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  var out = {viewport: window.innerWidth, column_left: box.left + parseFloat(style.paddingLeft),
             column_width: column, page_width: document.documentElement.scrollWidth, tables: [], ids: {},
             broken: breaks ? brokenTokens("td, th, .table-caption, figcaption") : []};
  document.querySelectorAll("table").forEach(function (t, i) {
    var b = t.getBoundingClientRect(), wrap = t.parentElement.getBoundingClientRect();
    var label = t.getAttribute("aria-labelledby"), cap = label ? document.getElementById(label) : t.caption;
    out.tables.push({index: i, left: b.left, width: b.width, box_left: wrap.left, box_width: wrap.width,
                     caption: cap ? cap.textContent : ""});
  });
  ids.forEach(function (id) {
    var el = document.getElementById(id);
    if (el) {
      var b = el.getBoundingClientRect(), rows = [];
      el.querySelectorAll("tbody tr").forEach(function (tr) {
        rows.push(tr.getBoundingClientRect().bottom + window.scrollY);
      });
      out.ids[id] = {top: b.top + window.scrollY, bottom: b.bottom + window.scrollY, row_bottoms: rows};
    } else { out.ids[id] = null; }
  });
  return JSON.stringify(out);
})(IDS, BREAKS)
"""

NUMBER_SEPARATORS = ".,/:"
"""Characters that join the digits of one number ('0.947', '1,095', '42/112', '12:30')."""


def is_mid_token(before: str, after: str) -> bool:
    """Whether a line break between ``before`` and ``after`` (the two halves of one token) splits a word or a number
    inside itself: letters or digits on both sides ('mortali|ty', '0.94|7'), or a number's separator next to a digit
    on either side ('0.|947', '42/|112'). A break after a hyphen, dash, underscore, slash between letters, or an
    opening bracket is a break between the parts of a compound and is allowed."""
    if not before or not after:
        return False
    a, b = before[-1], after[0]
    if a.isalnum() and b.isalnum():
        return True
    if a in NUMBER_SEPARATORS and b.isdigit() and len(before) > 1 and before[-2].isdigit():
        return True
    return b in NUMBER_SEPARATORS and a.isdigit() and len(after) > 1 and after[1].isdigit()


_NUMBER = re.compile(r"[-\u2212\u2013+<>\u2264\u2265\[(]*\d[\d.,/:]*[\])%,;]*")


def is_number(token: str) -> bool:
    """True for a token that is a number, possibly signed, bracketed or followed by punctuation ('0.947', '[-170,',
    '1,095', '42/112', '12%'); identifiers with digits ('tang2024') are words."""
    return _NUMBER.fullmatch(token) is not None


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


def _high_pipe() -> tuple[int, int]:
    """A pipe (read end, write end) on descriptors above 9."""
    ends = os.pipe()
    high = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in ends)
    for fd in ends:
        os.close(fd)
    return high[0], high[1]


class Browser:
    """One headless Chromium driven over the DevTools pipe; open it with ``with Browser() as browser:``.

    Several pages and sizes can be measured in one browser (each call of :meth:`open` loads a page at a size).
    """

    def __init__(self, chromium: str | None = None, timeout: float = 60.0) -> None:
        self._exe = _chromium(chromium)
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._session: str | None = None
        self._next_id = 0
        self._buffer = b""

    def __enter__(self) -> Browser:
        self._tmp = tempfile.TemporaryDirectory()
        to_browser_r, self._to_browser = _high_pipe()
        self._from_browser, from_browser_w = _high_pipe()
        # A small Python trampoline puts the pipe ends on descriptors 3 (commands in) and 4 (replies out), where
        # Chromium reads them, and execs it (no preexec_fn, which is unsafe with threads; the ends sit above 9 so that
        # neither dup2 overwrites the other).
        args = [self._exe, *_FLAGS, f"--user-data-dir={Path(self._tmp.name) / 'profile'}", "about:blank"]
        trampoline = (f"import os, sys; os.dup2({to_browser_r}, 3); os.dup2({from_browser_w}, 4); "
                      "os.execvp(sys.argv[1], sys.argv[1:])")  # fmt: skip
        try:
            self._proc = subprocess.Popen([sys.executable, "-c", trampoline, *args],
                                          pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)  # fmt: skip
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._session = attached["sessionId"]
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self._proc is not None and self._proc.poll() is None:
                self.send("Browser.close", session=False)
            if self._proc is not None:
                self._proc.wait(timeout=10)
        except (OSError, RuntimeError, subprocess.TimeoutExpired):
            if self._proc is not None:
                self._proc.kill()
                self._proc.wait()
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            if self._tmp is not None:
                self._tmp.cleanup()

    def send(self, method: str, params: dict | None = None, *, session: bool = True) -> dict:
        """Send one DevTools command (to the page unless ``session=False``) and return its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
                if not ready:
                    raise RuntimeError(f"Chromium did not answer {method} within {self.timeout:.0f} s")
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"Chromium refused {method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, html_path: str | os.PathLike[str], size: tuple[int, int] = SCREEN, *, phone: bool = False) -> None:
        """Load a page at ``size`` CSS pixels (``phone``: a phone's viewport emulation) and wait until it has loaded."""
        self.send("Emulation.setDeviceMetricsOverride", {"width": size[0], "height": size[1], "deviceScaleFactor": 1,
                                                         "mobile": phone})  # fmt: skip
        self.send("Page.navigate", {"url": Path(html_path).absolute().as_uri()})
        deadline = time.monotonic() + self.timeout
        while self.evaluate("document.readyState") != "complete" or not self.evaluate(
            "Array.from(document.images).every(function (i) { return i.complete; })"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{html_path} did not finish loading within {self.timeout:.0f} s")
            time.sleep(0.05)

    def measure(self, ids: Sequence[str] = (), *, breaks: bool = False) -> dict:
        """The open page's layout (see :func:`measure_layout`)."""
        script = _MEASURE.replace("IDS", json.dumps(list(ids))).replace("BREAKS", "true" if breaks else "false")
        return json.loads(str(self.evaluate(script)))

    def screenshot(self, png_path: str | os.PathLike[str]) -> Path:
        """A PNG of the open page's first screen."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        target = Path(png_path).absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target

    def print_pdf(self, pdf_path: str | os.PathLike[str], paper: str = "A4") -> Path:
        """Print the open page to PDF on ``paper`` (A4 or letter) without the browser's header and footer; the
        page's own print style and ``@page`` margins apply."""
        if paper not in PAPER_INCHES:
            raise ValueError(f"paper must be one of {', '.join(PAPER_INCHES)}; got {paper!r}")
        width, height = PAPER_INCHES[paper]
        options = {"paperWidth": width, "paperHeight": height, "printBackground": True, "displayHeaderFooter": False}
        data = self.send("Page.printToPDF", options)["data"]
        target = Path(pdf_path).absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target


def measure_layout(
    html_path: str | os.PathLike[str],
    *,
    ids: Sequence[str] = (),
    size: tuple[int, int] = SCREEN,
    phone: bool = False,
    breaks: bool = False,
    chromium: str | None = None,
    timeout: float = 60.0,
) -> dict:
    """Load the page in headless Chromium at ``size`` (``phone``: with a phone's emulation) and return its layout
    (CSS pixels, page coordinates).

    Returns a dict: ``viewport`` (window width), ``column_left`` and ``column_width`` (the body's content box, i.e.
    the text column), ``page_width`` (the document's scroll width: wider than the viewport when the page scrolls
    sideways), ``tables`` (one dict per table: ``index, left, width`` of the table, ``box_left, box_width`` of the
    box it scrolls in, ``caption``), ``ids`` (per requested id: ``{"top", "bottom", "row_bottoms"}``, the last the
    bottoms of its table body rows, or None when the page has no such element) and, with ``breaks=True``,
    ``broken``: every token of a table cell, table caption or figure caption laid out over more than one line, as
    ``{"tag", "token", "before", "after"}`` (see :func:`is_mid_token`).
    """
    with Browser(chromium, timeout) as browser:
        browser.open(html_path, size, phone=phone)
        return browser.measure(ids, breaks=breaks)


def screenshot(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str],
    *,
    size: tuple[int, int] = SCREEN,
    phone: bool | None = None,
    chromium: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Write a PNG of the page's first screen (``size`` in CSS pixels, default 1366 x 768; ``phone`` emulation by
    default below 600 px) and return its path."""
    with Browser(chromium, timeout) as browser:
        browser.open(html_path, size, phone=size[0] < 600 if phone is None else phone)
        return browser.screenshot(png_path)


def print_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    *,
    paper: str = "A4",
    chromium: str | None = None,
    timeout: float = 120.0,
) -> Path:
    """Print the page to PDF as a reader's "Save as PDF" would, on ``paper`` (A4 or letter), without the browser's
    header and footer; returns the PDF's path."""
    with Browser(chromium, timeout) as browser:
        browser.open(html_path, SCREEN)
        return browser.print_pdf(pdf_path, paper)


def find_poppler() -> bool:
    """True when poppler's ``pdfinfo``, ``pdfimages`` and ``pdftotext`` are on PATH (Debian: poppler-utils)."""
    return all(shutil.which(tool) for tool in ("pdfinfo", "pdfimages", "pdftotext"))


def _run_tool(args: list[str], timeout: float = 60.0) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed (exit {result.returncode}): {result.stderr[-1000:]}")
    return result.stdout


def pdf_page_count(pdf_path: str | os.PathLike[str]) -> int:
    """Number of pages of a PDF (poppler's pdfinfo)."""
    match = re.search(r"^Pages:\s+(\d+)", _run_tool(["pdfinfo", str(pdf_path)]), flags=re.MULTILINE)
    if match is None:
        raise RuntimeError(f"pdfinfo gave no page count for {pdf_path}")
    return int(match.group(1))


_CAPTION = re.compile(r"^\s*Figure (\d+)\.\s", flags=re.MULTILINE)


def figure_placements(pdf_path: str | os.PathLike[str]) -> list[dict]:
    """Where each numbered figure of a printed report landed: one dict per figure caption, in order, with
    ``number``, ``caption_page`` (the page whose text holds the line starting 'Figure N.') and ``image_pages`` (the
    pages that draw the N-th distinct image of the PDF, in order of first appearance).

    Reads the PDF with poppler (``pdfimages -list``, ``pdftotext``); assumes, as in the report, that every image is
    a numbered figure and every figure caption starts its own line.
    """
    images: dict[str, list[int]] = {}
    for line in _run_tool(["pdfimages", "-list", str(pdf_path)]).splitlines()[2:]:
        cols = line.split()
        if len(cols) > 11 and cols[2] == "image":
            images.setdefault(f"{cols[10]} {cols[11]}", []).append(int(cols[0]))
    pages = _run_tool(["pdftotext", "-layout", str(pdf_path), "-"]).split("\f")
    captions: dict[int, int] = {}
    for page_number, text in enumerate(pages, start=1):
        for match in _CAPTION.finditer(text):
            captions.setdefault(int(match.group(1)), page_number)
    ordered = list(images.values())
    return [
        {"number": n, "caption_page": page, "image_pages": ordered[n - 1] if n <= len(ordered) else []}
        for n, page in sorted(captions.items())
    ]
