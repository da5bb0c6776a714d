"""Where an output came from: the project version from the installed package's metadata, and the git commit."""

import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from models import provenance

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_distributions():
    assert provenance.project_version() == metadata.version("msc-reanalysis")


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_commit_is_the_checkouts_head():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert provenance.git_commit().removesuffix("+dirty") == head.stdout.strip()


def test_no_commit_outside_a_checkout(monkeypatch, tmp_path):
    monkeypatch.setattr(provenance, "SOURCE_ROOT", tmp_path)
    provenance.git_commit.cache_clear()
    try:
        assert provenance.git_commit() is None
    finally:
        provenance.git_commit.cache_clear()
