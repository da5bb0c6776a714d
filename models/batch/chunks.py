"""Chunks of a corpus: one task and one Parquet file each, written atomically; resume; streaming combine.

``<out>/chunks/chunk-NNNNNN.parquet`` holds the rows of chunk NNNNNN; its schema metadata carries the chunk's key,
a SHA-256 of the options, the chunk size and its entries with their files' bytes (:meth:`Entry.digest`). A chunk
file whose key matches is finished and skipped on a restart; any other (an interrupted write never leaves one: the
file is renamed into place complete) is recomputed. :func:`combine` streams the chunk files in order into
``results.parquet`` and ``results.csv``, one chunk in memory at a time.
"""

from __future__ import annotations

import hashlib
import math
import resource
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numba
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from models.atomic import write_atomic
from models.batch.analyse import Options, analyse_entry
from models.batch.corpus import Entry
from models.bayes.exact_binomial import clear_cache
from models.csv_safety import neutralise_formulas
from models.results import Result, Status, arrow_schema, to_arrow

FORMAT_VERSION = "batch-3"
"""Bumped when the rows or their computation change, so that old chunk files are not reused."""
KEY = "batch_key"
MAX_CHUNK_SIZE = 200
"""Default chunk size of a large corpus: a task of about 2-4 s of work, so that scheduling stays negligible."""
MIN_CHUNKS = 16
"""A smaller corpus is cut into about this many chunks, so that every worker gets work."""
RESULTS_PARQUET, RESULTS_CSV = "results.parquet", "results.csv"


@dataclass(frozen=True)
class Chunk:
    """Entries ``index * size ...`` of the corpus and the key that identifies their results."""

    index: int
    entries: tuple[Entry, ...]
    key: str


@dataclass(frozen=True)
class ChunkDone:
    """What a finished chunk task reports back to the driver (never the rows themselves); ``peak_rss_mb`` is the
    peak resident memory of the process that ran it (a worker's, or the driver's in process), NaN when skipped."""

    index: int
    n_meta: int
    n_rows: int
    n_errors: int
    skipped: bool = False
    peak_rss_mb: float = math.nan


def chunk_dir(out: Path) -> Path:
    """The folder of the chunk files."""
    return out / "chunks"


def chunk_path(out: Path, index: int) -> Path:
    """The file of chunk ``index``."""
    return chunk_dir(out) / f"chunk-{index:06d}.parquet"


def default_chunk_size(n_meta: int) -> int:
    """The chunk size used when none is given: :data:`MAX_CHUNK_SIZE`, or less for a corpus of fewer than
    ``MAX_CHUNK_SIZE * MIN_CHUNKS`` meta-analyses, so that it still makes about :data:`MIN_CHUNKS` chunks (a
    49-analysis corpus was one chunk, and one worker did all the work). The size depends on the corpus size only,
    never on the number of workers, so a rerun of the same corpus resumes whatever the workers."""
    return max(1, min(MAX_CHUNK_SIZE, -(-n_meta // MIN_CHUNKS)))


def make_chunks(entries: Iterable[Entry], size: int, options: Options) -> Iterator[Chunk]:
    """The chunks of ``entries`` in order, ``size`` entries each (the last may be shorter), keyed lazily."""
    if size < 1:
        raise ValueError(f"--chunk-size must be at least 1, got {size}")
    head = hashlib.sha256(repr((FORMAT_VERSION, options, size)).encode()).hexdigest()
    batch: list[Entry] = []
    index = 0
    for entry in entries:
        batch.append(entry)
        if len(batch) == size:
            yield _chunk(index, batch, head)
            index, batch = index + 1, []
    if batch:
        yield _chunk(index, batch, head)


def _chunk(index: int, entries: list[Entry], head: str) -> Chunk:
    h = hashlib.sha256(head.encode())
    for e in entries:
        h.update(e.digest().encode())
    return Chunk(index, tuple(entries), h.hexdigest())


def is_done(out: Path, chunk: Chunk) -> bool:
    """True when the chunk's file exists with the chunk's key (its results are current)."""
    path = chunk_path(out, chunk.index)
    if not path.is_file():
        return False
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return False
    return meta.get(KEY.encode()) == chunk.key.encode()


def run_chunk(chunk: Chunk, options: Options, out: str, single_thread: bool = False) -> ChunkDone:
    """Analyse a chunk and write its file atomically (the task a worker runs); returns counts only.

    ``single_thread`` runs numba's parallel kernels on one thread for the chunk (a batch task is one core's worth
    of work: on these small grids a second thread costs more in hand-over than it saves, and with another process
    on the machine made the in-process batch 2.5 times slower); the calling thread's setting is restored after.

    The binomial-normal engine caches each study's likelihood curve (about 4 KB) for reuse across priors; the
    cache is emptied after every chunk, so a worker's memory does not grow with the corpus (it grew by about
    75 MB per 1,000 meta-analyses it analysed: some 2.5 GB per worker for a corpus the size of Bartos et al.'s on 2
    workers).
    """
    threads = numba.get_num_threads()
    if single_thread:
        numba.set_num_threads(1)
    try:
        rows: list[Result] = []
        for entry in chunk.entries:
            rows.extend(analyse_entry(entry, options))
    finally:
        numba.set_num_threads(threads)
        clear_cache()
    table = to_arrow(rows, {KEY: chunk.key})
    write_atomic(chunk_path(Path(out), chunk.index), lambda tmp: pq.write_table(table, tmp))
    errors = sum(r.status is Status.ERROR for r in rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return ChunkDone(chunk.index, len(chunk.entries), len(rows), errors, peak_rss_mb=peak)


def clean_temporary(out: Path) -> list[Path]:
    """Remove the temporary files that killed writers left in the chunk folder (``.chunk-*.tmp``)."""
    gone = []
    folder = chunk_dir(out)
    if folder.is_dir():
        for path in folder.glob(".chunk-*.tmp"):
            path.unlink(missing_ok=True)
            gone.append(path)
    return gone


@dataclass(frozen=True)
class Combined:
    """The final table's files and its row counts."""

    parquet: Path
    csv: Path
    n_rows: int
    n_errors: int


def combine(out: Path, n_chunks: int) -> Combined:
    """Stream chunks ``0 .. n_chunks - 1`` into ``results.parquet`` and then ``results.csv`` (both atomic).

    Memory holds one chunk (Parquet) or one record batch (CSV) at a time.
    """
    count = errors = 0

    def write_parquet(tmp: Path) -> None:
        nonlocal count, errors
        with pq.ParquetWriter(tmp, arrow_schema()) as writer:
            for i in range(n_chunks):
                table = pq.read_table(chunk_path(out, i)).replace_schema_metadata(None)
                writer.write_table(table)
                count += table.num_rows
                errors += int(pc.sum(pc.equal(table["status"], "error")).as_py() or 0)

    parquet = write_atomic(out / RESULTS_PARQUET, write_parquet)

    def write_csv(tmp: Path) -> None:
        with pacsv.CSVWriter(tmp, arrow_schema()) as writer:
            for batch in pq.ParquetFile(parquet).iter_batches(batch_size=4096):
                writer.write_batch(neutralise_formulas(batch))

    csv = write_atomic(out / RESULTS_CSV, write_csv)
    return Combined(parquet, csv, count, errors)
