"""What produced an output: the project's version (from the installed package's metadata), when the code runs
from a git checkout the commit it was at and whether tracked files differed from it, the versions of the packages
behind the numbers, and the priors as a posterior file states them.

Recorded in every ``run_info.json`` and in the attributes of every NetCDF file (MCMC fits and exact draws), so a
result can be traced to the code that computed it. Standard library only (layer 1).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.priors import EffectPrior, TauPrior

DISTRIBUTION = "msc-reanalysis"
"""The distribution name in ``pyproject.toml``."""
SOURCE_ROOT = Path(__file__).resolve().parents[1]
VERSIONED_PACKAGES = ("pymc", "pytensor", "nutpie", "arviz", "arviz-base", "arviz-stats", "numpy", "xarray")
"""Packages whose versions are recorded in a saved fit."""


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


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`VERSIONED_PACKAGES` ("not installed" when absent)."""
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def prior_attrs(tau_prior: TauPrior, effect_prior: EffectPrior) -> dict[str, str]:
    """The priors as a posterior file's attributes: each printed with its source, its key, and its parameters (JSON)."""
    return {
        "tau_prior": str(tau_prior),
        "tau_prior_key": tau_prior.key,
        "tau_prior_spec": json.dumps({"family": tau_prior.family, "params": dict(tau_prior.params)}),
        "effect_prior": str(effect_prior),
        "effect_prior_key": effect_prior.key,
        "effect_prior_spec": json.dumps({"mean": effect_prior.mean, "sd": effect_prior.sd}),
    }
