"""Run the chunks of a corpus: in this process (``workers=0``) or on ``dask.distributed`` (a LocalCluster the
command starts, or an existing scheduler), with a progress bar and resume.

The driver submits at most a few chunks per worker at a time (so futures never pile up), receives only a
:class:`~models.batch.chunks.ChunkDone` per chunk (workers write the rows to ``<out>/chunks/`` themselves: with a
remote scheduler the output folder must be on a file system the workers share), then streams the chunk files into
the final table. Driver memory is therefore flat in corpus size apart from the list of entries (a path and an id each).
A chunk task that fails (a worker dies, after Dask's own retries) is reported and the final table is not written;
running again recomputes only the missing chunks.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from models.batch.analyse import Options
from models.batch.chunks import (
    Chunk,
    ChunkDone,
    clean_temporary,
    combine,
    default_chunk_size,
    is_done,
    make_chunks,
    run_chunk,
)
from models.batch.corpus import Entry

WINDOW_PER_WORKER = 3
"""Chunks in flight per worker: enough to keep every worker busy while the driver handles one result."""
_WORKER_ENV = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
"""Dask overrides for the workers of the LocalCluster the command starts. Dask sets ``MALLOC_TRIM_THRESHOLD_`` to
64 KiB in its workers by default (to hand memory back to the OS); setting it switches off glibc's dynamic mmap
threshold, so every array above 128 KiB is mmapped, zero-filled and unmapped again. The exact engines allocate
such arrays thousands of times per meta-analysis, and the setting made a batch about 15% slower; a batch worker
holds a few MB, so it keeps glibc's defaults. (Dask's single BLAS/OpenMP thread per worker is kept.)"""


@dataclass(frozen=True)
class RunSummary:
    """How a run went: chunks computed now, skipped as finished, failed (index, message); whether the final table
    was written, and its row count; the largest peak resident memory reported by a process that computed a chunk
    (MB; NaN when none was computed)."""

    n_meta: int
    n_chunks: int
    computed: int
    skipped: int
    failed: tuple[tuple[int, str], ...]
    complete: bool
    n_rows: int
    n_error_rows: int
    seconds: float
    worker_peak_rss_mb: float = math.nan


class _Progress:
    """A tqdm bar over meta-analyses (disabled when ``show`` is False or stderr is not a terminal)."""

    def __init__(self, total: int, show: bool) -> None:
        self.bar = tqdm(total=total, unit="MA", desc="batch", disable=None if show else True, smoothing=0.05)

    def update(self, done: ChunkDone) -> None:
        self.bar.update(done.n_meta)

    def close(self) -> None:
        self.bar.close()


def _serial(chunks: Sequence[Chunk] | object, submit_ok: Callable[[Chunk], bool], options: Options, out: Path,
            on_done: Callable[[ChunkDone], None]) -> list[tuple[int, str]]:  # fmt: skip
    for chunk in chunks:
        if submit_ok(chunk):
            on_done(run_chunk(chunk, options, str(out), True))
    return []


def _distributed(chunks: object, submit_ok: Callable[[Chunk], bool], options: Options, out: Path,
                 on_done: Callable[[ChunkDone], None], workers: int | None,
                 scheduler: str | None) -> list[tuple[int, str]]:  # fmt: skip
    import dask
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        # dashboard on a free port (":0"): None still binds the default 8787, which fails or warns when another
        # cluster (another user's batch, a notebook) holds it
        with dask.config.set(_WORKER_ENV):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   silence_logs=logging.ERROR)  # fmt: skip
        client = Client(cluster)
    failed: list[tuple[int, str]] = []
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        window = WINDOW_PER_WORKER * n_workers
        pending = as_completed()
        it = iter(chunks)

        def top_up() -> None:
            while pending.count() < window:
                chunk = next((c for c in it if submit_ok(c)), None)
                if chunk is None:
                    return
                key = f"batch-chunk-{chunk.index:06d}-{chunk.key[:12]}"
                fut = client.submit(run_chunk, chunk, options, str(out), True, key=key, pure=False)
                fut.chunk_index = chunk.index  # type: ignore[attr-defined]
                pending.add(fut)

        top_up()
        while pending.count():
            fut = next(pending)
            if fut.status == "finished":
                on_done(fut.result())
            else:
                err = fut.exception()
                failed.append((fut.chunk_index, f"{type(err).__name__}: {' '.join(str(err).split())}"))
            fut.release()
            top_up()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return failed


def run_batch(entries: list[Entry], options: Options, out: Path, *, chunk_size: int | None = None,
              workers: int | None = None, scheduler: str | None = None, max_chunks: int | None = None,
              progress: bool = True) -> RunSummary:  # fmt: skip
    """Analyse ``entries`` into ``out`` (see the module docstring).

    ``chunk_size``: meta-analyses per task (None: :func:`~models.batch.chunks.default_chunk_size` of the corpus).
    ``workers``: 0 = in this process; None = one Dask worker per core; N = N worker processes (ignored with a
    ``scheduler`` address). ``max_chunks`` stops after computing that many chunks (no final table; a later run
    resumes), which is how an interruption is simulated in the tests.
    """
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    clean_temporary(out)
    if chunk_size is None:
        chunk_size = default_chunk_size(len(entries))
    n_chunks = -(-len(entries) // chunk_size)
    bar = _Progress(len(entries), progress)
    counts = {"computed": 0, "skipped": 0}
    peaks: list[float] = []  # peak RSS reported with each computed chunk

    def submit_ok(chunk: Chunk) -> bool:
        if is_done(out, chunk):
            counts["skipped"] += 1
            bar.update(ChunkDone(chunk.index, len(chunk.entries), 0, 0, skipped=True))
            return False
        if max_chunks is not None and counts["computed"] + pending_new[0] >= max_chunks:
            return False
        pending_new[0] += 1
        return True

    pending_new = [0]

    def on_done(done: ChunkDone) -> None:
        counts["computed"] += 1
        peaks.append(done.peak_rss_mb)
        pending_new[0] -= 1
        bar.update(done)

    chunks = make_chunks(entries, chunk_size, options)
    try:
        if workers == 0 and not scheduler:
            failed = _serial(chunks, submit_ok, options, out, on_done)
        else:
            failed = _distributed(chunks, submit_ok, options, out, on_done, workers, scheduler)
    finally:
        bar.close()
    complete = not failed and counts["computed"] + counts["skipped"] == n_chunks
    n_rows = n_errors = 0
    if complete:
        combined = combine(out, n_chunks)
        n_rows, n_errors = combined.n_rows, combined.n_errors
    return RunSummary(len(entries), n_chunks, counts["computed"], counts["skipped"], tuple(failed), complete, n_rows,
                      n_errors, time.perf_counter() - start, max(peaks, default=math.nan))  # fmt: skip
