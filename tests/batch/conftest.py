"""Shared fixtures of the batch tests: one small synthetic corpus (20 good + 4 malformed meta-analyses) and its
in-process run, computed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_support import CHUNK, N_BROKEN, N_GOOD, SEED

from models.batch.analyse import Options
from models.batch.corpus import read_manifest
from models.batch.runner import RunSummary, run_batch
from models.batch.synthetic import write_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest of the small synthetic corpus."""
    return write_corpus(tmp_path_factory.mktemp("corpus"), N_GOOD, seed=SEED, malformed=N_BROKEN)


@pytest.fixture(scope="session")
def serial_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunSummary]:
    """The corpus analysed in this process (no Dask): the reference run of the other tests."""
    out = tmp_path_factory.mktemp("serial") / "out"
    summary = run_batch(read_manifest(corpus), Options(seed=1), out, chunk_size=CHUNK, workers=0, progress=False)
    return out, summary

