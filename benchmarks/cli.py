"""How long a user waits for the installed ``reanalyse`` command: the first answer of ``fit``, and a refusal.

Run from the repository root: ``.venv/bin/python -m benchmarks.cli [--repeat N]``. Every measurement runs the
installed script (the ``reanalyse`` beside this interpreter) as a user does, in a new process, on a 10-study 2x2 CSV
(the first 10 studies of tests/reference/bcg.csv, written to a temporary folder), with ``--no-progress``.

Lines (``name  value  unit  [<= target ok|MISS]  # note``), wall-clock seconds:

* ``fit_cli_k10_cold_s``: ``reanalyse fit k10.csv`` with empty compile caches (``NUMBA_CACHE_DIR`` and PyTensor's
  ``base_compiledir`` pointed at a new temporary folder): the numba kernels of the exact engines are compiled;
  target <= 15 s.
* ``fit_cli_k10_warm_s``: the same command again on those caches, the median of ``--repeat`` runs; target <= 3 s.
* ``cli_error_s``: the slowest of the medians of three refusals (a malformed published estimate, an unknown prior, a
  2x2 file with a bad cell), each exit 2 with one line; target <= 1 s ("well under a second").
* ``cli_help_s``: ``reanalyse --help`` (median), for reference.

Each note adds the CPU seconds (user + system) the child used: on a machine shared with other work the wall time
grows with the load, the CPU time much less.

The header records ``os.getloadavg()`` before and after: the machine is shared, compare runs made under similar load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, cache_env

SCRIPT = Path(sys.executable).parent / "reanalyse"
TARGETS = {"fit_cli_k10_cold_s": 15.0, "fit_cli_k10_warm_s": 3.0, "cli_error_s": 1.0}
REFUSALS = {
    "malformed published estimate": ["published", "OR 0.74 [0.99, 0.55]"],
    "unknown prior": ["fit", "k10.csv", "--tau-prior", "nosuch"],
    "bad cell": ["fit", "bad.csv"],
}


def _line(name: str, value: float, unit: str, note: str) -> None:
    target = TARGETS.get(name)
    tgt = "" if target is None else f"  <= {target:g} {'ok' if value <= target else 'MISS'}"
    print(f"{name}  {value:.3g}  {unit}{tgt}  # {note}", flush=True)


CPU: list[float] = []
"""CPU seconds (user + system) of each timed child, in order: steadier than wall time on a loaded machine."""


def _timed(argv: list[str], env: dict[str, str], cwd: Path, expect: int) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([str(SCRIPT), *argv], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != expect:
        raise SystemExit(f"reanalyse {' '.join(argv)}: exit {done.returncode}, expected {expect}\n{done.stderr}")
    return wall


def _median(runs: int, argv: list[str], env: dict[str, str], cwd: Path, expect: int) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``runs`` runs."""
    walls = [_timed(argv, env, cwd, expect) for _ in range(runs)]
    return statistics.median(walls), statistics.median(CPU[-runs:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs behind each median (default 3)")
    args = ap.parse_args()
    print(f"# cpu_count: {os.cpu_count()}  loadavg_start: {os.getloadavg()}  script: {SCRIPT}")
    with tempfile.TemporaryDirectory(prefix="msc-cli-bench-") as tmp:
        work = Path(tmp)
        rows = (ROOT / "tests" / "reference" / "bcg.csv").read_text().splitlines()
        (work / "k10.csv").write_text("\n".join(rows[:11]) + "\n")
        (work / "bad.csv").write_text("\n".join([*rows[:5], rows[5].replace(",", ",x", 1)]) + "\n")
        env = cache_env(work / "caches")
        fit = ["fit", "k10.csv", "--no-progress", "--results", "out"]
        cold = _timed(fit, env, work, 0)
        _line("fit_cli_k10_cold_s", cold, "s", f"empty numba/PyTensor caches: kernels compiled, then the whole fit; "
              f"CPU {CPU[-1]:.1f} s")  # fmt: skip
        warm, cpu = _median(args.repeat, fit, env, work, 0)
        _line("fit_cli_k10_warm_s", warm, "s", f"median of {args.repeat}, warm caches; CPU {cpu:.2f} s")
        medians = {what: _median(args.repeat, argv, env, work, 2) for what, argv in REFUSALS.items()}
        worst = max(medians, key=lambda what: medians[what][0])
        detail = ", ".join(f"{what} {t:.2f} s (CPU {c:.2f} s)" for what, (t, c) in medians.items())
        _line("cli_error_s", medians[worst][0], "s", f"slowest refusal ({worst}); medians of {args.repeat}: {detail}")
        helped, cpu = _median(args.repeat, ["--help"], env, work, 0)
        _line("cli_help_s", helped, "s", f"reanalyse --help, median of {args.repeat}; CPU {cpu:.2f} s")
    print(f"# loadavg_end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
