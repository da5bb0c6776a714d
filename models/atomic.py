"""Atomic writes, and results folders the project owns: it never moves or deletes anything it did not write.

**Files.** Each writer writes a temporary file in the destination folder and ``os.replace``-s it onto the
destination (atomic on POSIX file systems), so a file holds its old or its complete new content.

**Results folders** (``--results`` of ``reanalyse fit`` and ``reanalyse run``, ``--out`` of ``reanalyse batch``):

* *Owned folders.* A folder is the project's when it holds the marker file ``.reanalyse-results`` (a small JSON
  object: the project's name and the marker format), written into every results and staging folder the project
  creates. ``--results`` must name a new folder, an empty folder or an owned one; any other existing folder (a home
  folder, the current folder, a repository, ``data/``, ``/etc``, a folder of one's own files) is refused before any
  work (:func:`check_output_folder`; the commands exit 2 with its one line).
* *Folders of earlier versions* carry no marker. One kind is recognised, because it can be proved to be the
  project's: a ``reanalyse run`` folder, whose ``run_info.json`` (with the run's own keys) lists in ``files`` every
  other file in the folder, with no symbolic link and nothing else in it. Unmarked ``fit`` and ``batch`` folders of
  earlier versions cannot be told apart from a user's folder, so they are refused and the message says to delete or
  rename the folder by hand.
* *Staging and swap.* A run writes into ``<results>.staging-<pid>`` beside the results folder (marked when it is
  created) and replaces the results folder only when it has finished (:func:`open_staging`,
  :func:`commit_staging`); the run before is kept as ``<results>.prev``. Only owned or empty folders are ever
  rotated or removed; an owned folder is emptied with ``run_info.json`` and the marker last, so a removal cut short
  leaves a folder that is still recognised. Temporary files are only written inside the staging folder (``batch``,
  which writes in place, inside its own owned folder), and nothing is cleaned outside it.
* *Symbolic links.* A results path that is a symbolic link is resolved once, by the check: the run stages, swaps
  and keeps ``.prev`` beside the folder the link points to (which obeys the same rules), so the link keeps pointing
  at the newest run, run after run.
* *One run at a time.* From staging to swap (``batch``: its whole run) a run holds an exclusive POSIX record lock
  (``fcntl.lockf``) on ``.<name>.reanalyse-lock`` beside the results folder; a second run into the same folder
  refuses with one line naming the process that holds it (refusing rather than queueing: a run waiting unseen for
  hours is worse than a clear message). The kernel drops the lock when its process ends, however it ends, so a
  killed run never blocks the next one; the lock file is removed when a run ends normally.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath


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


# -- results folders the project owns --------------------------------------------------------------------------------

PROJECT = "msc-reanalysis"
MARKER = ".reanalyse-results"
"""Name of the marker file in every results and staging folder the project creates."""
MARKER_FORMAT = 1
MARKER_TEXT = json.dumps({"format": MARKER_FORMAT, "project": PROJECT}) + "\n"

STAGING = ".staging-"
"""Infix of a run's staging folder: ``<results>.staging-<pid>`` beside the results folder."""

PREVIOUS = ".prev"
"""Suffix of the folder that keeps the run before the current one: ``<results>.prev``."""

LOCK_SUFFIX = ".reanalyse-lock"
"""Suffix of the lock file beside a results folder: ``.<results>.reanalyse-lock``."""

RUN_INFO = "run_info.json"
_EARLIER_RUN_KEYS = frozenset({"run_id", "complete", "seed", "data_hash", "files"})
"""Keys every ``run_info.json`` of ``reanalyse run`` has held (before the marker existed and since)."""
_MARKER_MAX_BYTES = 4096
_RUN_INFO_MAX_BYTES = 16 * 2**20
_LOCK_MAX_BYTES = 64
_LOCK_ATTEMPTS = 20
_RENAME_EXCHANGE = 2  # linux/fs.h


class OutputFolderError(ValueError):
    """The results folder cannot be used (not the project's, in use, a file, not writable); the message says why."""


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _exists(path: Path) -> bool:
    """True for anything at ``path``, a dangling symbolic link included."""
    return path.exists() or path.is_symlink()


def is_empty_folder(path: Path) -> bool:
    """True when ``path`` is a real folder (not a symbolic link) with nothing in it."""
    if not _real_dir(path):
        return False
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:  # unreadable: not known to be empty
        return False


def _small_json(path: Path, limit: int) -> object:
    """The JSON in the regular file ``path`` (not followed if a link), or None when it is not one of at most
    ``limit`` bytes."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def has_marker(folder: Path) -> bool:
    """True when ``folder`` holds this project's marker file (a regular file naming the project)."""
    data = _small_json(folder / MARKER, _MARKER_MAX_BYTES)
    return isinstance(data, dict) and data.get("project") == PROJECT and type(data.get("format")) is int


def _earlier_run(folder: Path) -> bool:
    """True when ``folder`` is a ``reanalyse run`` results folder of a version before the marker: its
    ``run_info.json`` has the run's keys and its ``files`` manifest names every other file; no symbolic link and no
    other file or folder. (Files the manifest names may be missing: a removal cut short leaves such a folder.)"""
    info = _small_json(folder / RUN_INFO, _RUN_INFO_MAX_BYTES)
    if not isinstance(info, dict) or not _EARLIER_RUN_KEYS <= info.keys() or not isinstance(info["files"], dict):
        return False
    files = {PurePosixPath(name).as_posix() for name in info["files"] if isinstance(name, str)} | {RUN_INFO}
    folders = {parent.as_posix() for name in files for parent in PurePosixPath(name).parents} - {"."}

    def unreadable(err: OSError) -> None:
        raise err

    try:
        for root, dirnames, filenames in os.walk(folder, onerror=unreadable):
            here = Path(root)
            for name, allowed in [*((d, folders) for d in dirnames), *((f, files) for f in filenames)]:
                if (here / name).is_symlink() or (here / name).relative_to(folder).as_posix() not in allowed:
                    return False
    except OSError:
        return False
    return True


def is_project_folder(path: Path) -> bool:
    """True when ``path`` is a real folder (not a symbolic link) that this project wrote: it holds the marker, or it
    is a ``reanalyse run`` folder of an earlier version (see the module docstring)."""
    return _real_dir(path) and (has_marker(path) or _earlier_run(path))


def _replaceable(path: Path) -> bool:
    """True when a run may move or delete ``path``: an owned folder, or an empty one (nothing can be lost)."""
    return is_empty_folder(path) or is_project_folder(path)


def write_marker(folder: Path) -> Path:
    """Mark ``folder`` as written by this project."""
    return write_text(folder / MARKER, MARKER_TEXT)


def _remove_owned(folder: Path) -> None:
    """Delete an owned or empty folder: everything but ``run_info.json`` and the marker, then those two, then the
    folder, so that a removal cut short leaves a folder that is still recognised as the project's."""
    if not _replaceable(folder):
        raise OutputFolderError(f"{str(folder)!r} was not written by this project; it is left as it is")
    anchors = (RUN_INFO, MARKER)
    with os.scandir(folder) as entries:
        rest = [Path(e.path) for e in entries if e.name not in anchors]
    for path in [*rest, *(folder / name for name in anchors)]:
        if _real_dir(path):
            shutil.rmtree(path)  # never follows symbolic links
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    folder.rmdir()


def staging_folder(target: Path, pid: int | None = None) -> Path:
    """The staging folder of process ``pid`` (default: this one) for ``target``."""
    return target.with_name(f"{target.name}{STAGING}{os.getpid() if pid is None else pid}")


def previous_folder(target: Path) -> Path:
    """Where the previous run is kept when a new one replaces ``target``."""
    return target.with_name(target.name + PREVIOUS)


def lock_file(target: Path) -> Path:
    """The lock file of ``target``, beside it."""
    return target.with_name(f".{target.name}{LOCK_SUFFIX}")


def _folder_problem(target: Path, shown: str) -> str | None:
    """Why ``target`` (and its ``.prev``) cannot be used as a results folder, or None."""
    if target.is_symlink():
        return f"{shown} is a symbolic link; name the folder it points to"
    if target.exists() and not target.is_dir():
        return f"{shown} is a file, not a folder"
    if target.is_dir():
        if os.path.ismount(target):
            return f"{shown} is a mount point; a run replaces the folder, so use a subfolder"
        if not _replaceable(target):
            return (
                f"{shown} is an existing folder that this project did not write (it has no {MARKER} marker); a run "
                "replaces its results folder whole, so name a new folder (a results folder of an earlier version: "
                "delete or rename it yourself)"
            )
    previous = previous_folder(target)
    if _exists(previous) and not _replaceable(previous):
        return (
            f"{shown}: {str(previous)!r} exists and was not written by this project (a run keeps the previous "
            "results there); move it away or name a new folder"
        )
    return None


def check_output_folder(path: str, option: str = "--results") -> Path:
    """The results folder named by ``option``, refused before any work when it cannot be written; nothing is created.

    Accepted: a new folder, an empty folder, or a folder this project wrote (:func:`is_project_folder`). A symbolic
    link is resolved: the folder it points to is returned and checked. Refused: an empty name; ``.``, ``..`` or a
    root; an existing folder the project did not write; a file; a mount point (it cannot be replaced by rename); a
    ``<name>.prev`` beside it that the project did not write; a path below a file; a folder whose nearest existing
    ancestor is not writable. A run already writing into the folder is refused later, by :func:`open_staging` or
    :func:`claim_output_folder`, which take its lock.
    """
    if not path or not path.strip():
        raise OutputFolderError(f"{option} is empty; name a new folder")
    shown = f"{option} {path!r}"
    target = Path(path)
    if target.is_symlink():
        try:
            target = target.resolve(strict=False)
        except (OSError, RuntimeError):  # a loop (Python 3.12 raises RuntimeError)
            raise OutputFolderError(f"{shown} is a symbolic link that cannot be resolved (a loop?)") from None
        shown = f"{shown} (a link to {str(target)!r})"
    if target.name in ("", ".", ".."):
        raise OutputFolderError(f"{shown} must name a folder of its own (a run replaces the whole folder)")
    try:
        problem = _folder_problem(target, shown)
        if problem:
            raise OutputFolderError(problem)
        ancestor = target.absolute().parent
        while not ancestor.exists():
            ancestor = ancestor.parent
    except OSError as err:  # a folder on the way that cannot be read
        raise OutputFolderError(f"{shown} cannot be checked ({err.strerror or err})") from None
    if not ancestor.is_dir():
        raise OutputFolderError(f"{shown}: {str(ancestor)!r} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputFolderError(f"{shown}: folder {str(ancestor)!r} is not writable")
    return target


# -- the lock: one run per results folder ----------------------------------------------------------------------------

_HELD: dict[str, int] = {}
"""Locks this process holds: absolute results path -> file descriptor of its lock file."""


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def lock_output_folder(target: Path, option: str = "--results") -> None:
    """Hold the exclusive lock of ``target`` until :func:`release_output_folder` or the end of the process.

    Re-entrant within a process. Raises OutputFolderError, naming the holder's process id, when another process
    holds it; OSError when the lock file cannot be created (a read-only folder).
    """
    key = os.path.abspath(target)
    if key in _HELD:
        return
    path = lock_file(Path(key))
    for _ in range(_LOCK_ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > _LOCK_MAX_BYTES:
                raise OutputFolderError(f"{option} {str(target)!r}: {str(path)!r} is not this project's lock file")
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                holder = os.pread(fd, _LOCK_MAX_BYTES, 0).decode("ascii", "replace").strip()
                who = f" (process {holder})" if holder.isdigit() else ""
                raise OutputFolderError(
                    f"{option} {str(target)!r} is in use by another run{who}; wait for it to finish or name another "
                    "folder"
                ) from None
            if _same_file(fd, path):  # else a run that just ended removed it: lock the new file
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                _HELD[key] = fd
                fd = -1
                return
        finally:
            if fd >= 0:
                os.close(fd)
    raise OutputFolderError(f"{option} {str(target)!r}: its lock file {str(path)!r} keeps changing; try again")


def release_output_folder(target: Path) -> None:
    """Give up the lock of ``target`` if this process holds it, removing the lock file."""
    key = os.path.abspath(target)
    fd = _HELD.pop(key, None)
    if fd is None:
        return
    try:
        path = lock_file(Path(key))
        if _same_file(fd, path):  # removed while still held: a run that opened it retries on a new file
            path.unlink()
    except OSError:
        pass
    finally:
        os.close(fd)


@atexit.register
def _release_all() -> None:
    for key in list(_HELD):
        release_output_folder(Path(key))


os.register_at_fork(after_in_child=_HELD.clear)  # a forked child holds no lock (lockf) and must not remove the file


# -- staging, swap and clean-up ---------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove or restore what interrupted runs left beside ``target``; return what was removed or restored.

    * staging folders ``<target>.staging-<pid>`` whose process is gone, when the project wrote them (marked) or they
      are empty; any other folder of that name is left alone;
    * an interrupted swap where ``target`` is gone but the project's ``<target>.prev`` exists: it is put back.

    Nothing inside ``target`` is touched. Call it holding the lock (:func:`open_staging` does).
    """
    done: list[Path] = []
    parent = target.absolute().parent
    prefix = f"{target.name}{STAGING}"
    if parent.is_dir():
        for folder in sorted(parent.iterdir()):
            pid = folder.name[len(prefix) :] if folder.name.startswith(prefix) else ""
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and _replaceable(folder):
                _remove_owned(folder)
                done.append(folder)
    previous = previous_folder(target)
    if not _exists(target) and is_project_folder(previous):
        os.rename(previous, target)
        done.append(target)
    return done


def open_staging(target: Path) -> Path:
    """Take the lock of ``target``, clean what dead runs left (:func:`clean_stale`) and create this run's staging
    folder, marked as the project's. Raises OutputFolderError (one line) when the folder is in use, is no longer
    the project's, or cannot be created beside."""
    shown = f"--results {str(target)!r}"
    try:
        target.absolute().parent.mkdir(parents=True, exist_ok=True)
        lock_output_folder(target)
        problem = _folder_problem(target, shown)  # again, under the lock
        if problem:
            raise OutputFolderError(problem)
        clean_stale(target)
        staging = staging_folder(target)
        if _exists(staging):
            if not _replaceable(staging):
                raise OutputFolderError(f"{shown}: {str(staging)!r} exists and was not written by this project")
            _remove_owned(staging)
        staging.mkdir()
        write_marker(staging)
    except OSError as err:
        release_output_folder(target)
        raise OutputFolderError(f"{shown}: cannot create a folder beside it ({err.strerror or err})") from err
    except BaseException:
        release_output_folder(target)
        raise
    return staging


def claim_output_folder(target: Path, option: str = "--results") -> Path:
    """Take ``target`` for a command that writes into it in place (``reanalyse batch --out``, ``reproduce.py``): hold
    its lock until the process ends, create the folder if it is new and mark it as the project's. Raises
    OutputFolderError (one line)."""
    shown = f"{option} {str(target)!r}"
    try:
        target.absolute().parent.mkdir(parents=True, exist_ok=True)
        lock_output_folder(target, option)
        problem = _folder_problem(target, shown)
        if problem:
            raise OutputFolderError(problem)
        target.mkdir(exist_ok=True)
        if not has_marker(target):
            write_marker(target)
    except OSError as err:
        raise OutputFolderError(f"{shown}: cannot create the folder ({err.strerror or err})") from err
    return target


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
    """Make the finished run in ``staging`` the results folder ``target``, release its lock; return where the old run
    went, if any.

    A new or empty ``target`` is replaced by one rename. An owned ``target`` becomes ``<target>.prev`` (an older
    ``.prev`` is removed, only if the project wrote it or it is empty). On Linux the two folders are swapped by one
    atomic ``renameat2(RENAME_EXCHANGE)``, so ``target`` always holds either the old run or the new one. Elsewhere
    two renames are used; a crash between them leaves only ``.prev``, which :func:`clean_stale` puts back at the
    start of the next run. A ``target`` or ``.prev`` that stopped being the project's during the run raises
    OutputFolderError and is left as it is (the finished run stays in ``staging``).
    """
    try:
        if not _exists(target) or is_empty_folder(target):
            os.rename(staging, target)  # rename(2) replaces an empty folder
            return None
        if not is_project_folder(target):
            raise OutputFolderError(
                f"{str(target)!r} stopped being this project's folder during the run; it is left as it is and the "
                f"finished run is in {str(staging)!r}"
            )
        previous = previous_folder(target)
        if _exists(previous):
            _remove_owned(previous)
        if _exchange(staging, target):
            os.rename(staging, previous)  # staging now holds the old run
        else:
            os.rename(target, previous)
            os.rename(staging, target)
        return previous
    finally:
        release_output_folder(target)
