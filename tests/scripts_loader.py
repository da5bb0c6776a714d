"""Import the command-line scripts (which live outside the package) as functions for the tests."""

import importlib.util
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reanalyse_main(argv: list[str]) -> int:
    """Run ``scripts/reanalyse.py`` with ``argv``; returns its exit code."""
    return _load("reanalyse").main(argv)
