"""Pieces shared by the command-line scripts: options checked before any work, loading with a clear error, and
interrupts that end a run with one line.

Exit codes of every script: 0 success; 1 a fit failed its convergence gates (reanalyse.py), or an unexpected error
(one line naming the command, the step and the file; ``--debug`` shows the traceback); 2 bad input (options or
data), reported in one line naming the option, or the file, row and column, before anything is written;
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

USAGE_ERROR = 2
SEED_MAX = 2**32 - 1
INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number >= ``low`` (one line naming the problem, for exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def seed_value(text: str) -> int:
    """``--seed``: a whole number in [0, 2^32 - 1] (what numpy and the samplers accept)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number in [0, {SEED_MAX}]; got {text!r}") from None
    if not 0 <= seed <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be in [0, {SEED_MAX}]; got {seed}")
    return seed


def error(message: str) -> int:
    """Print ``error: message`` as one line on stderr; return the bad-input exit code."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return USAGE_ERROR


class Interrupts:
    """While active, SIGINT and SIGTERM end the process with one line on stderr and exit code 130 / 143.

    The handler exits at once (``os._exit``): a sampler that catches KeyboardInterrupt and returns a partial trace
    (nutpie does) can then never let a half-finished fit into the results. ``staging`` and ``target`` say what the
    line reports; :meth:`deferred` holds signals back while the finished run replaces the results folder.
    """

    def __init__(self) -> None:
        self.staging: Path | None = None
        self.target: Path | None = None
        self.committed = False
        self._previous: dict[int, object] = {}
        self._deferring = False
        self._pending: int | None = None

    def message(self, signum: int) -> str:
        what = "interrupted" if signum == signal.SIGINT else "terminated"
        if self.committed and self.target is not None:
            return f"{what} after the run finished: {self.target}/ holds the complete new run"
        if self.staging is None or self.target is None:
            return f"{what} before any output was written"
        return (
            f"{what}: {self.target}/ left unchanged; this run's partial output is in {self.staging}/ "
            "(removed by the next run)"
        )

    def _handle(self, signum: int, frame) -> None:  # noqa: ARG002 (signal handler signature)
        if self._deferring:
            if self._pending is None:
                self._pending = signum
            return
        _exit_now(self.message(signum), signum)

    def __enter__(self) -> Interrupts:
        for signum in INTERRUPTED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold SIGINT/SIGTERM back during the block; the first one is acted on when it ends (with ``committed`` set
        by the caller), even when the block raised.

        Whichever thread the kernel delivers a signal to, Python runs the handler in the main thread, between two
        bytecodes of the main thread; during the block the handler only records the signal. (Blocking the signals
        with ``pthread_sigmask`` would block them in the main thread only, and the kernel would hand them to one of
        the other threads a run keeps: the sampler's, Dask's, the writers'.)
        """
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
            if self._pending is not None:
                _exit_now(self.message(self._pending), self._pending)


def _exit_now(message: str, signum: int) -> NoReturn:
    """Flush stdout, write ``message`` as one line on stderr and end the process at once with the signal's code."""
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 (a broken stdout must not stop the exit)
        pass
    os.write(2, f"{message}\n".encode())
    os._exit(INTERRUPTED[signum])


def _at_shutdown(signum: int, frame) -> None:  # noqa: ARG001 (signal handler signature)
    what = "interrupted" if signum == signal.SIGINT else "terminated"
    _exit_now(f"{what} while shutting down, after the command had finished", signum)


def exit_quietly_on_signals() -> None:
    """From now on SIGINT/SIGTERM end the process with one line and exit code 130/143: for the shutdown of a command,
    where a KeyboardInterrupt would only print a traceback ("Exception ignored ...") and leave exit code 0."""
    for signum in INTERRUPTED:
        signal.signal(signum, _at_shutdown)


def run_script(main: Callable[[list[str]], int]) -> int:
    """Call a script's ``main`` on ``sys.argv[1:]`` through :func:`run_command` (one line for Ctrl-C or an unexpected
    error; ``--debug`` shows the traceback). Once ``main`` is done, a signal during the interpreter's shutdown
    (joining worker threads) is one line too."""
    try:
        return run_command(main, sys.argv[1:], Path(sys.argv[0]).name)
    finally:
        exit_quietly_on_signals()


# -- the top level of every command: one line for an unexpected error -------------------------------------------------

DEBUG_OPTION = "--debug"
"""Given anywhere on a command line, an unexpected error shows its traceback instead of the one line."""
UNEXPECTED = 1


class Stage:
    """What a command is doing now, for the one line an unexpected error prints: the step, the file it works on and
    what became of the output folder (set with :meth:`at` and :meth:`output`; one per process: :data:`stage`)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the start of a command: checking its options, no file, no output."""
        self.step = "checking the options"
        self.file: str | None = None
        self.note: str | None = None

    def at(self, step: str, file: str | os.PathLike[str] | None = None) -> None:
        """Enter ``step`` (e.g. "reading the study file"), on ``file`` when given (else the file stays)."""
        self.step = step
        if file is not None:
            self.file = str(file)

    def output(self, note: str | None) -> None:
        """What an error now leaves of the output (e.g. "out/ left unchanged; partial output in ..."), or None."""
        self.note = note

    def describe(self, command: str, err: BaseException) -> str:
        """The one line: command, step, file, the error, the output's state, and the hint to rerun with --debug."""
        on = f" ({self.file})" if self.file else ""
        text = " ".join(str(err).split())
        what = f"{type(err).__name__}: {text}" if text else type(err).__name__
        note = f"; {self.note}" if self.note else ""
        return (
            f"{command}: unexpected error while {self.step}{on}: {what}{note}. "
            f"Rerun with {DEBUG_OPTION} to see the traceback."
        )


stage = Stage()
"""The stage of this process's command."""


def without_debug(argv: list[str]) -> tuple[list[str], bool]:
    """``argv`` without the ``--debug`` option (before any ``--``), and whether it was given."""
    end = argv.index("--") if "--" in argv else len(argv)
    kept = [a for a in argv[:end] if a != DEBUG_OPTION] + argv[end:]
    return kept, len(kept) != len(argv)


def run_command(main: Callable[[list[str]], int], argv: list[str], command: str) -> int:
    """Run a command's ``main(argv)`` as its top level: the exit code it returns; Ctrl-C that reaches here is one
    line and exit 130; any other exception is the one line of :meth:`Stage.describe` and exit 1, or with
    ``--debug`` in ``argv`` its traceback (re-raised). A closed stdout (``| head``) ends the command quietly."""
    argv, debug = without_debug(argv)
    stage.reset()
    try:
        return main(argv)
    except KeyboardInterrupt:
        print(f"{command}: interrupted while {stage.step}", file=sys.stderr)
        return INTERRUPTED[signal.SIGINT]
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes stdout
        return UNEXPECTED
    except Exception as err:
        if debug:
            raise
        print(stage.describe(command, err), file=sys.stderr)
        return UNEXPECTED
