"""Short stand-ins for a run, killed or signalled by tests/test_run_folder.py (run as subprocesses).

``kill_helper.py MODE ...``:

* ``script ARGS``: ``scripts/reanalyse.py``'s real option checks, data loading, staging, output writing
  (reproduction, summary, run_info.json) and commit, with the fits replaced by FAKE_FITS small files written
  FAKE_DELAY seconds apart and the report by a one-line file (imports the whole stack: seconds to start).
* ``light --results DIR --seed N [--hold]``: the same run folder machinery (:class:`models.cli.Interrupts`,
  ``open_staging``, ``commit_staging``) around FAKE_FITS fake fits and a ``run_info.json`` manifest, importing only
  ``models.atomic`` and ``models.cli`` (a fraction of a second to start). ``--hold`` waits for a line on stdin before
  the swap, so a test can hold the folder's lock as long as it likes.
* ``swap-signal --results DIR --seed N --signal INT|TERM``: a light run whose final swap is hit by the signal,
  delivered to one of six worker threads (``pthread_kill``) while the swap runs in the main thread.
* ``shutdown``: a command (through ``run_script``) that returns while a non-daemon thread still runs, so that the
  interpreter's shutdown waits for it.

Every mode prints ``ready`` when the moment to kill begins.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

FITS = int(os.environ.get("FAKE_FITS", "8"))
DELAY = float(os.environ.get("FAKE_DELAY", "0.1"))


def _option(name: str, default: str | None = None) -> str:
    args = sys.argv[2:]
    return args[args.index(name) + 1] if name in args else default


def fake_job(fits: int = FITS, delay: float = DELAY, announce: bool = False) -> dict[str, object]:
    """Replacements for the main job's ``models.msc.runner.run_reanalysis`` (``fits`` fake fits ``fits/fit_<i>.txt``
    holding ``seed=<seed>``, ``delay`` seconds apart) and ``models.msc.outputs.build_report`` (a one-line report.md):
    ``{"run_reanalysis": ..., "build_report": ...}``."""
    from models.atomic import write_text
    from models.msc.state import RunResult

    def fake_run(dataset, settings, out_dir, progress=True):
        result = RunResult(settings, dataset)
        if announce:
            print("ready", flush=True)
        for i in range(fits):
            write_text(Path(out_dir) / "fits" / f"fit_{i}.txt", f"seed={settings.seed}\n")
            time.sleep(delay)
        return result

    def fake_report(result, reproduction, out):
        return (write_text(Path(out) / "report.md", f"seed={result.settings.seed}\n"),)

    return {"run_reanalysis": fake_run, "build_report": fake_report}


def script(argv: list[str]) -> int:
    """The main job's script with the fakes; ``argv`` is the command line after this helper's name ("script" first)."""
    from scripts_loader import _load

    import models.msc.outputs as outputs
    import models.msc.runner as runner

    fakes = fake_job(announce=True)
    runner.run_reanalysis = fakes["run_reanalysis"]
    outputs.build_report = fakes["build_report"]
    return _load("reanalyse").main(argv[1:])


def write_fake_run(folder: Path, seed: int, fits: int = FITS, delay: float = 0.0) -> None:
    """Fake fits ``fits/fit_<i>.txt`` holding ``seed=<seed>``, then ``run_info.json`` listing every file's sha256 (as
    the main job's manifest does)."""
    from models.atomic import write_text

    for i in range(fits):
        write_text(folder / "fits" / f"fit_{i}.txt", f"seed={seed}\n")
        time.sleep(delay)
    files = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    info = {"run_id": f"{seed}-{os.getpid()}", "complete": True, "finished": time.time(), "seed": seed,
            "data_hash": "fake", "n_mcmc_fits": fits, "files": files}  # fmt: skip
    write_text(folder / "run_info.json", json.dumps(info))


def light(swap_signal: int | None = None) -> int:
    from models.atomic import OutputFolderError, check_output_folder, commit_staging, open_staging
    from models.cli import Interrupts, error

    seed = int(_option("--seed", "1"))
    try:
        target = check_output_folder(_option("--results"))
    except OutputFolderError as err:
        return error(str(err))
    with Interrupts() as interrupts:
        try:
            staging = open_staging(target)
        except OutputFolderError as err:
            return error(str(err))
        interrupts.staging, interrupts.target = staging, target
        print("ready", flush=True)
        write_fake_run(staging, seed, delay=DELAY)
        if "--hold" in sys.argv:
            print("finished", flush=True)
            sys.stdin.readline()
        workers = _threads(6)
        with interrupts.deferred():
            if swap_signal is not None:
                signal.pthread_kill(workers[0].ident, swap_signal)
                time.sleep(0.3)  # the main thread runs the handler here, at its next bytecode
            commit_staging(staging, target)
            interrupts.committed = True
    print(f"wrote {target}", flush=True)
    return 0


def _threads(n: int) -> list[threading.Thread]:
    """``n`` daemon threads that sleep in short steps (signals unblocked), as a run's sampler and writer threads."""

    def idle() -> None:
        while True:
            time.sleep(0.01)

    workers = [threading.Thread(target=idle, daemon=True) for _ in range(n)]
    for worker in workers:
        worker.start()
    return workers


def shutdown() -> int:
    from models.cli import run_script

    def main(argv: list[str]) -> int:
        threading.Thread(target=time.sleep, args=(5,)).start()  # joined at interpreter shutdown
        print("ready", flush=True)
        return 0

    return run_script(main)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "script":
        from models.cli import run_script

        sys.exit(run_script(script))
    if mode == "light":
        sys.exit(light())
    if mode == "swap-signal":
        sys.exit(light({"INT": signal.SIGINT, "TERM": signal.SIGTERM}[_option("--signal")]))
    if mode == "shutdown":
        sys.exit(shutdown())
    sys.exit(f"unknown mode {mode!r}")
