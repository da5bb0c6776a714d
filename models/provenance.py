"""What produced an output: the project's version (from the installed package's metadata) and, when the code runs
from a git checkout, the commit it was at and whether tracked files differed from it.

Recorded in every ``run_info.json`` and in the attributes of every NetCDF fit, so a result can be traced to the
code that computed it. No heavy imports (layer 1).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "msc-reanalysis"
"""The distribution name in ``pyproject.toml``."""
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def project_version() -> str:
    """The installed project's version ("unknown" when the package is not installed, e.g. run from a bare copy)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git(*args: str) -> subprocess.CompletedProcess[str] | None:
    git = shutil.which("git")
    if git is None or not (SOURCE_ROOT / ".git").exists():
        return None
    try:
        return subprocess.run([git, "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True, timeout=10,
                              check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def git_commit() -> str | None:
    """The commit of the source checkout, with ``+dirty`` when tracked files differ from it; None outside a git
    checkout (an installed package) or without git."""
    head = _git("rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None
    dirty = _git("diff", "--quiet", "HEAD", "--")
    return head.stdout.strip() + ("+dirty" if dirty is not None and dirty.returncode == 1 else "")


def provenance() -> dict[str, str | None]:
    """``{"project_version": ..., "git_commit": ...}`` for a run record."""
    return {"project_version": project_version(), "git_commit": git_commit()}
