"""Atomic writes: a file holds its old or its complete new content; a results folder the old or the new run.

Each file writer writes to a temporary file in the destination folder and then ``os.replace``-s it onto the
destination, which is atomic on POSIX file systems. A whole run writes into a staging folder beside the results
folder (:func:`open_staging`) that replaces it only when the run has finished (:func:`commit_staging`); what
interrupted runs leave behind is removed by the next run (:func:`clean_stale`).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path``; on error the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; results should be readable as usual
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# -- run-level atomicity: a run writes into a staging folder that replaces the results folder only when complete --

STAGING = ".staging-"
"""Infix of a run's staging folder: ``<results>.staging-<pid>`` beside the results folder."""

PREVIOUS = ".prev"
"""Suffix of the folder that keeps the run before the current one: ``<results>.prev``."""

_RENAME_EXCHANGE = 2  # linux/fs.h


class OutputFolderError(ValueError):
    """The results folder cannot be used (empty name, a file, not writable); the message says why."""


def check_output_folder(path: str) -> Path:
    """The results folder named by ``--results``, refused before any work when it cannot be written.

    Refused: an empty name; an existing file; a mount point (it cannot be replaced by rename); a path below a
    file; a folder whose nearest existing ancestor is not writable. Nothing is created.
    """
    if not path or not path.strip():
        raise OutputFolderError("--results is empty; name a folder (default: results)")
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputFolderError(f"--results {path!r} is a file, not a folder")
    if target.is_dir() and os.path.ismount(target):
        raise OutputFolderError(f"--results {path!r} is a mount point; a run replaces the folder, so use a subfolder")
    if target.name in ("", ".", ".."):
        raise OutputFolderError(f"--results {path!r} must name a folder of its own (a run replaces the whole folder)")
    ancestor = target.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputFolderError(f"--results {path!r}: {str(ancestor)!r} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputFolderError(f"--results {path!r}: folder {str(ancestor)!r} is not writable")
    return target


def staging_folder(target: Path, pid: int | None = None) -> Path:
    """The staging folder of process ``pid`` (default: this one) for ``target``."""
    return target.with_name(f"{target.name}{STAGING}{os.getpid() if pid is None else pid}")


def previous_folder(target: Path) -> Path:
    """Where the previous run is kept when a new one replaces ``target``."""
    return target.with_name(target.name + PREVIOUS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove what interrupted runs left beside and in ``target``; return what was removed or restored.

    * staging folders ``<target>.staging-<pid>`` whose process is gone;
    * ``*.tmp`` files of interrupted atomic writes inside ``target``;
    * an interrupted swap where ``target`` is gone but ``<target>.prev`` exists: the previous run is put back.
    """
    done: list[Path] = []
    parent = target.parent if str(target.parent) else Path(".")
    if parent.is_dir():
        for folder in parent.glob(f"{target.name}{STAGING}*"):
            pid = folder.name[len(target.name) + len(STAGING) :]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                done.append(folder)
    previous = previous_folder(target)
    if not target.exists() and previous.is_dir():
        os.rename(previous, target)
        done.append(target)
    if target.is_dir():
        for tmp in target.rglob(".*.tmp"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
                done.append(tmp)
    return done


def open_staging(target: Path) -> Path:
    """Clean what dead runs left (:func:`clean_stale`) and create this run's empty staging folder."""
    target.absolute().parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    staging = staging_folder(target)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def commit_staging(staging: Path, target: Path) -> Path | None:
    """Make the finished run in ``staging`` the results folder ``target``; return where the old run went, if any.

    The old results folder becomes ``<target>.prev`` (an older ``.prev`` is removed). On Linux the two folders are
    swapped by one atomic ``renameat2(RENAME_EXCHANGE)``, so ``target`` always holds either the old run or the new
    one. Elsewhere two renames are used; a crash between them leaves only ``.prev``, which :func:`clean_stale`
    puts back at the start of the next run.
    """
    if not target.exists():
        os.rename(staging, target)
        return None
    previous = previous_folder(target)
    if previous.exists():
        shutil.rmtree(previous)
    if _exchange(staging, target):
        os.rename(staging, previous)  # staging now holds the old run
    else:
        os.rename(target, previous)
        os.rename(staging, target)
    return previous
