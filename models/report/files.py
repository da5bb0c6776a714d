"""Atomic file writes for the report: a reader never sees a half-written figure or document."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

FIGURE_FORMATS = ("png", "svg", "pdf")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an unused temporary path in the target's folder; on success move it over ``path`` (os.replace).

    The caller creates and writes the temporary file (so it gets the usual umask permissions). The folder is
    created if missing. On error the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write ``fig`` atomically to ``path`` (format from the suffix: png, svg or pdf), close it, return the path."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"path {str(target)!r} must end in one of .{', .'.join(FIGURE_FORMATS)}")
    try:
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
    finally:
        plt.close(fig)
    return target
