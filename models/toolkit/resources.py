"""Where the files that ship with the package are, whatever the current directory or install mode.

The reference data sets (``tests/reference/``) are package data of ``models.toolkit`` and the MSC data (``data/``)
of the MSC job, ``models.msc``: in a source checkout ``models/toolkit/data/reference`` and ``models/msc/data`` are
symbolic links to those folders (one copy, still edited where the README documents it); a wheel built from the
checkout holds real copies, so an installed ``reanalyse`` finds them in site-packages.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def reference_dir() -> Path:
    """The shipped reference data sets with their R metafor results (``bcg.csv``, ``bcg.metafor.json``, ...)."""
    return PACKAGE_DATA / "reference"


def reference_file(name: str) -> Path:
    """One shipped reference file by name, e.g. ``"bcg.csv"``; FileNotFoundError lists what ships."""
    path = reference_dir() / name
    if not path.is_file():
        shipped = ", ".join(sorted(p.name for p in reference_dir().glob("*.csv")))
        raise FileNotFoundError(f"no shipped reference file {name!r}; shipped: {shipped}")
    return path
