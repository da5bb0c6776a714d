"""Section 1: wall time of the main job (``scripts/reanalyse.py``) on empty and on warm compile caches."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, cache_env

SCRIPT = "scripts/reanalyse.py"
TIMEOUT_S = 3600.0
_SUMMARY = re.compile(r"(\d+) MCMC fits, (\d+) failed their gates")


def run_main_job(results: Path, env: dict[str, str], quick: bool) -> dict[str, Any]:
    """One run of ``reanalyse.py --results RESULTS --no-progress [--quick]``: wall time, exit code, fit counts."""
    cmd = [sys.executable, SCRIPT, "--results", str(results), "--no-progress", *(["--quick"] if quick else [])]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"wall_s": time.perf_counter() - t0, "exit": None, "error": f"timed out after {TIMEOUT_S:.0f} s"}
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"wall_s": wall, "exit": proc.returncode}
    hit = _SUMMARY.search(proc.stdout)
    if hit:
        out["fits"], out["failed_fits"] = int(hit.group(1)), int(hit.group(2))
    if proc.returncode not in (0, 1) or not hit:
        out["error"] = "\n".join(proc.stderr.strip().splitlines()[-15:]) or f"exit code {proc.returncode}"
    return out


def time_main_job(work: Path, quick: bool) -> dict[str, Any]:
    """Cold run on fresh caches, then a warm run reusing them (each writes its own results folder under ``work``).

    Exit code 1 with the job's closing summary line (some fit failed its convergence gates) still counts as a timed
    run; any other exit code, or no summary line (e.g. a traceback, which also exits 1), is an error.
    """
    env = cache_env(work / "caches")
    cold = run_main_job(work / "results-cold", env, quick)
    warm = run_main_job(work / "results-warm", env, quick)
    return {"quick": quick, "cold": cold, "warm": warm}
