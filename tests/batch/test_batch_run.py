"""The batch as a whole: Dask against in-process, resume after an interruption, faults as error rows.

Expected values: the in-process run is the reference for the distributed and resumed runs (the same code on the
same inputs must give the same table, bit for bit); the malformed meta-analyses are the ones
``models.batch.synthetic`` documents breaking (a count above its arm, a non-numeric cell, a single study, a missing
column).
"""

from __future__ import annotations

import math
import resource
import shutil
from pathlib import Path

import pandas as pd
import pytest
from batch_support import CHUNK, N_BROKEN, N_GOOD, read_results

from models.batch.analyse import Options
from models.batch.chunks import chunk_path, default_chunk_size, is_done, make_chunks, run_chunk
from models.batch.corpus import read_manifest
from models.batch.runner import run_batch
from models.bayes import exact_binomial
from models.results import COLUMN_NAMES


def test_serial_run_is_complete(serial_run):
    out, summary = serial_run
    table = read_results(out)
    assert summary.complete and summary.n_chunks == 5 and summary.computed == 5
    assert table["analysis"].nunique() == N_GOOD + N_BROKEN
    assert tuple(table.columns) == COLUMN_NAMES
    # good meta-analyses: binomial-normal and normal-normal under the primary priors
    assert (table["status"] == "ok").sum() == 2 * N_GOOD
    assert summary.n_rows == len(table) and summary.n_error_rows == N_BROKEN
    assert (out / "results.csv").is_file()
    assert pd.read_csv(out / "results.csv").shape == table.shape


def test_malformed_meta_analyses_give_error_rows_naming_the_cell(serial_run):
    table = read_results(serial_run[0])
    errors = table[table["status"] == "error"].set_index("analysis")["message"]
    assert len(errors) == N_BROKEN
    text = " | ".join(errors)
    assert "row 3, column 'e_t': e_t (" in text and "exceeds n_t" in text  # second study, count above its arm
    assert "row 2, column 'e_c': 'twelve' is not a finite number" in text
    assert "has 1 study; a meta-analysis needs at least 2" in text
    assert "the header matches no layout: closest is 2x2 (e_t,n_t,e_c,n_c), which lacks n_c" in text
    ok = table[table["status"] == "ok"]
    assert ok[["p_benefit", "effect_median", "tau_median", "log_bf10_effect", "freq_p"]].notna().all().all()


def test_distributed_equals_in_process(corpus, serial_run, tmp_path):
    out = tmp_path / "dask"
    summary = run_batch(read_manifest(corpus), Options(seed=1), out, chunk_size=CHUNK, workers=2, progress=False)
    assert summary.complete and not summary.failed
    pd.testing.assert_frame_equal(read_results(out), read_results(serial_run[0]), check_exact=True)


def test_interrupted_run_resumes_to_the_same_table(corpus, serial_run, tmp_path):
    out = tmp_path / "resumed"
    entries = read_manifest(corpus)
    first = run_batch(entries, Options(seed=1), out, chunk_size=CHUNK, workers=0, max_chunks=2, progress=False)
    assert not first.complete and first.computed == 2
    assert not (out / "results.parquet").exists()
    second = run_batch(entries, Options(seed=1), out, chunk_size=CHUNK, workers=0, progress=False)
    assert second.complete and (second.skipped, second.computed) == (2, 3)
    pd.testing.assert_frame_equal(read_results(out), read_results(serial_run[0]), check_exact=True)


def test_lost_table_and_chunk_are_rebuilt(corpus, serial_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(serial_run[0], out)
    (out / "results.parquet").unlink()
    chunk_path(out, 1).unlink()
    (out / "chunks" / ".chunk-000002.parquet.x.tmp").write_bytes(b"half-written")  # a killed writer's leftover
    summary = run_batch(read_manifest(corpus), Options(seed=1), out, chunk_size=CHUNK, workers=0, progress=False)
    assert (summary.skipped, summary.computed) == (4, 1)
    assert not list((out / "chunks").glob(".chunk-*.tmp"))
    pd.testing.assert_frame_equal(read_results(out), read_results(serial_run[0]), check_exact=True)


@pytest.mark.parametrize("change", ["options", "file"])
def test_a_chunk_is_reused_only_when_options_and_files_are_unchanged(corpus, serial_run, change):
    out = serial_run[0]
    entries = read_manifest(corpus)
    chunk = next(make_chunks(entries, CHUNK, Options(seed=1)))
    assert is_done(out, chunk)
    if change == "options":
        other = next(make_chunks(entries, CHUNK, Options(seed=1, threshold=0.7)))
    else:
        first = entries[0]
        moved = Path(first.path).with_name("copy.csv")
        shutil.copy(first.path, moved)
        text = moved.read_text().replace("study 1,", "study one,")
        moved.write_text(text)
        other = next(make_chunks([type(first)(**{**first.__dict__, "path": str(moved)}), *entries[1:]], CHUNK,
                                 Options(seed=1)))  # fmt: skip
    assert not is_done(out, other)


def test_a_chunk_leaves_no_cached_likelihood_curves(corpus, tmp_path):
    """A worker's memory must not grow with the corpus: the per-study curve cache of the binomial-normal engine is
    emptied after each chunk (it held every study of every meta-analysis a worker had seen)."""
    chunk = next(make_chunks(read_manifest(corpus), CHUNK, Options()))
    done = run_chunk(chunk, Options(), str(tmp_path))
    assert done.n_rows > 0
    assert len(exact_binomial._CACHE) == 0


@pytest.mark.parametrize(("n_meta", "size", "n_chunks"), [(1, 1, 1), (10, 1, 10), (49, 4, 13), (1000, 63, 16),
                                                          (3200, 200, 16), (10_000, 200, 50)])  # fmt: skip
def test_default_chunk_size_gives_every_worker_work_on_a_small_corpus(n_meta, size, n_chunks):
    """Up to 200 per chunk, but a small corpus still makes about 16 chunks (the shipped 49-analysis corpus was one
    chunk, so one worker did everything); sizes worked out by hand from ceil(n / 16) capped at 200."""
    assert default_chunk_size(n_meta) == size
    assert -(-n_meta // size) == n_chunks


def test_run_reports_the_peak_memory_of_the_processes_that_computed(serial_run, corpus, tmp_path):
    """The in-process run's peak RSS is this process's (getrusage, read here after the run); a run that computes
    nothing reports NaN."""
    _, summary = serial_run
    assert 50 < summary.worker_peak_rss_mb <= resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = tmp_path / "out"
    shutil.copytree(serial_run[0], out)
    again = run_batch(read_manifest(corpus), Options(seed=1), out, chunk_size=CHUNK, workers=0, progress=False)
    assert again.computed == 0 and math.isnan(again.worker_peak_rss_mb)
