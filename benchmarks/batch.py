"""Benchmark of the corpus batch: synthetic binary meta-analyses end to end on Dask (exact binomial-normal and
normal-normal, primary priors, REML, Bayes factors), and the driver's peak memory.

    python benchmarks/batch.py [--n 10000] [--small-n 1000] [--seed 20240]

Prints seven lines (name, value, unit, target, note):

* ``batch_10k_s`` -- wall time of ``--n`` meta-analyses (default 10,000) with 2 workers, from the command's start
  (cluster start-up, chunk writes and the final combine included; corpus generation excluded);
* ``batch_per_min`` -- meta-analyses per minute of that run (target >= 10,000);
* ``batch_speedup_2v1`` -- wall time with 1 worker over wall time with 2 on the same ``--n`` corpus (target >= 1.7).
  Until 2026-11-29 this line was measured on the 1,000-analysis corpus, where the fixed cost of a run weighs more;
  that ratio is now ``batch_speedup_2v1_small``;
* ``batch_speedup_2v1_small`` -- the same ratio on ``--small-n`` meta-analyses (no target: it shows how much the
  fixed cost of a run, about ``batch_fixed_s``, takes from the speed-up of a small corpus);
* ``batch_fixed_s`` -- wall time of a 2-worker run on 20 meta-analyses: cluster start-up, worker imports, loading
  the compiled kernels, shutdown and combine, with almost no work;
* ``batch_peak_rss_mb`` -- peak RSS of the driver process for the ``--n`` run; the note gives the same for the
  ``--small-n`` run, so flatness in corpus size can be read off;
* ``batch_worker_peak_rss_mb`` -- the largest peak RSS of a worker process in the ``--n`` run (the note: in the
  ``--small-n`` run), as the chunk tasks report it.

Each run is a fresh child process (``python -c``) with an empty output folder; the 1- and 2-worker runs of one
corpus are made one after the other, so their ratio is measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.batch.synthetic import write_corpus  # noqa: E402

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from models.batch.analyse import Options
from models.batch.corpus import read_manifest
from models.batch.runner import run_batch
t0 = time.perf_counter()
entries = read_manifest(sys.argv[1])
s = run_batch(entries, Options(), Path(sys.argv[2]), chunk_size=int(sys.argv[4]), workers=int(sys.argv[3]),
              progress=False)
print(json.dumps({"seconds": time.perf_counter() - t0, "complete": s.complete, "rows": s.n_rows,
                  "errors": s.n_error_rows, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_rss_mb": s.worker_peak_rss_mb}))
"""


def _run(manifest: Path, workers: int, chunk_size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        args = [sys.executable, "-c", _CHILD, str(manifest), str(Path(tmp) / "out"), str(workers), str(chunk_size)]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(name: str, value: float, unit: str, target: str, note: str) -> str:
    return f"{name:<34} {value:>10.3f} {unit:<6} {target:<14}  # {note}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--small-n", type=int, default=1_000)
    p.add_argument("--chunk-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=20240)
    args = p.parse_args(argv)
    print(f"# batch benchmark: cpu_count {os.cpu_count()}, load {os.getloadavg()[0]:.2f}, n {args.n}, small n "
          f"{args.small_n}, chunk size {args.chunk_size}, seed {args.seed}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="batch-corpus-") as tmp:
        t0 = time.perf_counter()
        tiny = write_corpus(Path(tmp) / "tiny", 20, seed=args.seed)
        small = write_corpus(Path(tmp) / "small", args.small_n, seed=args.seed)
        big = write_corpus(Path(tmp) / "big", args.n, seed=args.seed)
        print(f"# corpora written in {time.perf_counter() - t0:.1f} s", flush=True)
        fixed = _run(tiny, 2, args.chunk_size)
        small_one, small_two = _run(small, 1, args.chunk_size), _run(small, 2, args.chunk_size)
        print(f"# {args.small_n}: 1 worker {small_one['seconds']:.1f} s, 2 workers {small_two['seconds']:.1f} s",
              flush=True)  # fmt: skip
        full = _run(big, 2, args.chunk_size)
        print(f"# {args.n}: 2 workers {full['seconds']:.1f} s", flush=True)
        one = _run(big, 1, args.chunk_size)
    print(f"# load at the end {os.getloadavg()[0]:.2f}")
    per_min = args.n / full["seconds"] * 60.0
    speedup = one["seconds"] / full["seconds"]
    small_speedup = small_one["seconds"] / small_two["seconds"]
    status = lambda ok: "ok" if ok else "MISS"  # noqa: E731
    print(_line("batch_10k_s", full["seconds"], "s", "", f"{args.n} meta-analyses, 2 workers, {full['rows']} rows"))
    print(_line("batch_per_min", per_min, "MA/min", f">= 10000 {status(per_min >= 10_000)}",
                f"{60_000 * 2 / per_min:.1f} ms per meta-analysis per worker (both models, BFs, REML)"))  # fmt: skip
    print(_line("batch_speedup_2v1", speedup, "x", f">= 1.7 {status(speedup >= 1.7)}",
                f"on {args.n}: {one['seconds']:.1f} s / {full['seconds']:.1f} s"))  # fmt: skip
    print(_line("batch_speedup_2v1_small", small_speedup, "x", "",
                f"on {args.small_n}: {small_one['seconds']:.1f} s / {small_two['seconds']:.1f} s"))  # fmt: skip
    print(_line("batch_fixed_s", fixed["seconds"], "s", "", "2 workers, 20 meta-analyses: start-up and shutdown"))
    print(_line("batch_peak_rss_mb", full["rss_mb"], "MB", "flat",
                f"driver; {small_two['rss_mb']:.0f} MB for {args.small_n} meta-analyses"))  # fmt: skip
    print(_line("batch_worker_peak_rss_mb", full["worker_rss_mb"], "MB", "flat",
                f"largest worker; {small_two['worker_rss_mb']:.0f} MB for {args.small_n} meta-analyses"))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
