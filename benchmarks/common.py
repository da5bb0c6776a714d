"""Helpers shared by the benchmark sections: fresh compile caches, child processes, nutpie call timers.

Every measured section runs in a child process (``python -m benchmarks.<module>``) started from the repository
root with its own empty compile caches, so compile times are cold-cache figures that compare between runs no matter
what earlier runs left on disk. The parent never imports PyMC.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""Repository root (the children run from here so that ``benchmarks`` and ``scripts`` resolve)."""

RESULT_PREFIX = "BENCH-RESULT "
"""A child prints its result as one JSON line starting with this prefix on stdout."""


def cache_env(cache_root: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment whose numba and PyTensor compile caches live under ``cache_root`` (empty when it is new).

    PyTensor keeps its numba kernels under ``base_compiledir/numba`` (not under ``compiledir``), so the base
    directory is redirected; ``compiledir`` defaults to a folder inside it. ``NUMBA_CACHE_DIR`` covers numba's own
    ``cache=True`` functions. Other PYTENSOR_FLAGS already set are kept.
    """
    env = dict(os.environ if base is None else base)
    numba_dir, pytensor_dir = cache_root / "numba", cache_root / "pytensor"
    numba_dir.mkdir(parents=True, exist_ok=True)
    pytensor_dir.mkdir(parents=True, exist_ok=True)
    env["NUMBA_CACHE_DIR"] = str(numba_dir)
    own = ("base_compiledir=", "compiledir=")
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith(own)]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={pytensor_dir}"])
    return env


def run_child(
    module: str, args: list[str], env: Mapping[str, str], *, timeout: float | None = None
) -> tuple[dict[str, Any] | None, float, str]:
    """Run ``python -m benchmarks.<module> args`` from the repository root.

    Returns the child's JSON result (None when it failed or printed none), its wall time in seconds, and the tail of
    its stderr (for the report when it failed).
    """
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        return None, time.perf_counter() - t0, f"timed out after {err.timeout:.0f} s"
    wall = time.perf_counter() - t0
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
    if proc.returncode != 0:
        result = None
        tail = f"exit code {proc.returncode}\n{tail}"
    return result, wall, tail


def emit_result(result: Mapping[str, Any]) -> None:
    """Print a child's result for :func:`run_child` (one JSON line)."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


class CallTimer:
    """Wall time of every call of the wrapped function, in seconds, in call order."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.seconds: list[float] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.func(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - t0)


@contextmanager
def nutpie_timers() -> Iterator[dict[str, CallTimer]]:
    """Time every ``nutpie.compile_pymc_model`` and ``nutpie.sample`` call made inside the block.

    The toolkit and PyMC look both functions up on the ``nutpie`` module at call time, so wrapping the module
    attributes splits a fit's wall time into compile, sampling and the rest without touching the library.
    """
    import nutpie

    originals = {"compile": nutpie.compile_pymc_model, "sample": nutpie.sample}
    timers = {name: CallTimer(func) for name, func in originals.items()}
    nutpie.compile_pymc_model = timers["compile"]
    nutpie.sample = timers["sample"]
    try:
        yield timers
    finally:
        nutpie.compile_pymc_model = originals["compile"]
        nutpie.sample = originals["sample"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
