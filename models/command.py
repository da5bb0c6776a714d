"""reanalyse: Bayesian reanalysis of clinical meta-analyses.

usage: reanalyse COMMAND [options]     (reanalyse COMMAND --help for a command's options; reanalyse --version)

commands:
  fit FILE.csv       a study CSV: every posterior exact first, sensitivity grid, leave-one-out, report, ArviZ file
  published 'EST'    one published pooled estimate, e.g. 'OR 0.74 [0.55, 0.99]', at summary level
  pool FILE.csv      frequentist pooling as R metafor (MH, Peto, IV, DL, REML, PM, HKSJ)
  batch INPUT        a corpus of meta-analyses (a folder or a manifest) on Dask: pip install '.[batch]'
  run                the shipped MSC/COVID-19 reanalysis (the project's main job)

examples:
  reanalyse fit trials.csv --favours "drug,placebo" --published "OR 0.74 [0.55, 0.99]"
  reanalyse published "OR 0.74 (95% CI 0.55 to 0.99)"
  reanalyse pool trials.csv --measure OR --method REML --hksj
  reanalyse batch my_folder_of_csvs/ --results my_batch --workers 2

Every command takes --results DIR (output folder), --seed N and --tau-prior/--effect-prior where they apply, with
one meaning everywhere. --debug (anywhere) shows the traceback of an unexpected error instead of its one line.
Exit codes: 0 done; 1 a fit failed its convergence gates (or an unexpected error); 2 bad input or options (one
line naming the file, row and column, before any work; nothing written); 3 batch stopped by --max-chunks;
130 interrupted.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from models.cli import USAGE_ERROR, exit_quietly_on_signals, run_command, without_debug
from models.provenance import project_version


@dataclass(frozen=True)
class Command:
    """A subcommand: the client module that implements it and its entry point ``main(argv) -> exit code``
    (``takes_prog``: it also takes the program name for its messages). The module is imported only when the command
    runs, so ``reanalyse --help`` loads no client."""

    module: str
    function: str
    takes_prog: bool = False

    def entry(self, prog: str) -> Callable[[list[str]], int]:
        main = getattr(importlib.import_module(self.module), self.function)
        return functools.partial(main, prog=prog) if self.takes_prog else main


COMMANDS = {
    "fit": Command("models.toolkit.cli", "fit_main"),
    "published": Command("models.toolkit.cli", "published_main"),
    "pool": Command("models.toolkit.pool", "main", takes_prog=True),
    "batch": Command("models.batch.cli", "main"),
    "run": Command("models.msc.command", "main", takes_prog=True),
}


def _refuse(message: str) -> int:
    """One line on stderr, as the commands' own option errors read; the bad-input exit code."""
    print(f"reanalyse: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _show(text: str, code: int) -> int:
    """Print ``text`` on stdout and return ``code`` (a closed stdout, as with ``| head``, is not an error)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``reanalyse COMMAND ...``; returns the exit code (an unexpected error is one line and 1)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = without_debug(argv)[0][:1]
    if not first:
        return _refuse(f"name a command ({', '.join(COMMANDS)}); reanalyse --help lists them")
    if first[0] in ("-h", "--help"):
        return _show(__doc__.strip(), 0)
    name = first[0]
    if name == "--version":
        return _show(f"reanalyse {project_version()}", 0)
    if name not in COMMANDS:
        return _refuse(f"unknown command {name!r} (commands: {', '.join(COMMANDS)}; reanalyse --help)")
    position = argv.index(name)
    prog = f"reanalyse {name}"
    return run_command(lambda rest: COMMANDS[name].entry(prog)(rest), argv[:position] + argv[position + 1 :], prog)


def console() -> None:
    """Entry point of the installed ``reanalyse`` script (``[project.scripts]``); once the command is done, a signal
    during the interpreter's shutdown is one line too."""
    try:
        code = main()
    finally:
        exit_quietly_on_signals()
    sys.exit(code)
