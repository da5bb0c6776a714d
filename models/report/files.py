"""Saving report figures: written atomically, so a reader never sees a half-written image."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from models.atomic import write_atomic

FIGURE_FORMATS = ("png", "svg", "pdf")


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write ``fig`` atomically to ``path`` (format from the suffix: png, svg or pdf), close it, return the path.

    The folder is created if missing; on error the previous file at ``path`` is left untouched.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"path {str(target)!r} must end in one of .{', .'.join(FIGURE_FORMATS)}")
    try:
        write_atomic(target, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))
    finally:
        plt.close(fig)
    return target
