"""Screenshot of a report's first screen as a reader sees it (headless Chromium, 1366 x 768 by default).

    python scripts/screenshot.py results/report.html results/report_first_screen.png
    python scripts/screenshot.py results/report.html shot.png --size 1920x1080

Needs Chromium (apt-get install chromium) or $CHROMIUM pointing to a Chrome/Chromium executable.
"""

from __future__ import annotations

import argparse
import sys

from models.report.browser import SCREEN, screenshot


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size must look like 1366x768; got {text!r}") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", help="the report.html to render")
    parser.add_argument("png", help="where to write the screenshot")
    parser.add_argument("--size", type=_size, default=SCREEN, help="window size WIDTHxHEIGHT (default 1366x768)")
    args = parser.parse_args(argv)
    print(screenshot(args.html, args.png, size=args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
