"""Atomic writes, and results folders the project owns: a run never moves, changes or deletes a file it did not write.

Every folder test works on a fake home folder (tests/fake_home.py) whose files are compared byte for byte before
and after. The lock is tested across processes with a small helper that holds it (``python -c``, no heavy imports).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fake_home import make_home, snapshot

from models.atomic import (
    MARKER,
    OutputFolderError,
    check_output_folder,
    claim_output_folder,
    clean_stale,
    commit_staging,
    is_project_folder,
    lock_file,
    open_staging,
    previous_folder,
    release_output_folder,
    staging_folder,
    write_atomic,
    write_text,
)

ROOT = Path(__file__).resolve().parents[1]
NOT_OURS = "this project did not write"


def test_write_text_writes(tmp_path):
    path = write_text(tmp_path / "a" / "b.txt", "hello")
    assert path.read_text() == "hello"


def test_failure_mid_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "summary.csv"
    target.write_text("old")

    def half_then_fail(tmp):
        tmp.write_text("partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_written_files_have_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "report.md", "x")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- which folders a run may use


def _run(target: Path, text: str) -> Path | None:
    """One run through the staging API: stage a summary.csv holding ``text``, then swap it in."""
    staging = open_staging(target)
    (staging / "summary.csv").write_text(text)
    return commit_staging(staging, target)


def _earlier_run_folder(folder: Path) -> Path:
    """A ``reanalyse run`` results folder as versions before the marker wrote it (run_info.json lists every file)."""
    (folder / "fits").mkdir(parents=True)
    (folder / "fits" / "a.nc").write_bytes(b"netcdf")
    (folder / "summary.csv").write_text("old")
    info = {"run_id": "r1", "complete": True, "seed": 1, "data_hash": "h", "finished": "2026-01-01",
            "files": {"fits/a.nc": "0" * 64, "summary.csv": "1" * 64}}  # fmt: skip
    (folder / "run_info.json").write_text(json.dumps(info))
    return folder


@pytest.mark.parametrize(
    "pick",
    [
        lambda home: home,
        lambda home: home / "project",
        lambda home: home / "data",
        lambda home: home / "Documents",
        lambda home: home / "docs",  # a link to Documents: resolved, then refused
    ],
    ids=["home", "repository", "data", "non-empty", "link-to-a-user-folder"],
)
def test_folders_the_project_did_not_write_are_refused(tmp_path, pick) -> None:
    home = make_home(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(OutputFolderError, match=NOT_OURS):
        check_output_folder(str(pick(home)))
    with pytest.raises(OutputFolderError, match=NOT_OURS):  # and again under the lock, for a caller that skipped it
        open_staging(pick(home).resolve())
    assert snapshot(tmp_path) == before


def test_the_current_folder_is_refused_by_name_and_by_path(tmp_path, monkeypatch) -> None:
    home = make_home(tmp_path)
    monkeypatch.chdir(home)
    before = snapshot(tmp_path)
    with pytest.raises(OutputFolderError, match="must name a folder of its own"):
        check_output_folder(".")
    with pytest.raises(OutputFolderError, match=NOT_OURS):
        check_output_folder(os.getcwd())
    with pytest.raises(OutputFolderError, match=NOT_OURS):
        check_output_folder("../home/")
    assert snapshot(tmp_path) == before


def test_a_folder_that_cannot_be_read_is_refused_in_one_line(tmp_path, monkeypatch) -> None:
    """As root every folder is readable, so the refusals of the file system are simulated."""
    import models.atomic as atomic

    (tmp_path / "empty").mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.os, "scandir", refuse)
    with pytest.raises(OutputFolderError, match=NOT_OURS):  # not known to be empty
        check_output_folder(str(tmp_path / "empty"))
    monkeypatch.setattr(atomic.os.path, "ismount", refuse)
    with pytest.raises(OutputFolderError, match=r"cannot be checked \(Permission denied\)"):
        check_output_folder(str(tmp_path / "empty"))


def test_system_folders_are_refused() -> None:
    for path in ("/etc", "/", "/usr/"):
        with pytest.raises(OutputFolderError):
            check_output_folder(path)


def test_new_empty_marked_and_earlier_run_folders_are_accepted(tmp_path) -> None:
    home = make_home(tmp_path)
    assert check_output_folder(str(home / "results")) == home / "results"
    assert check_output_folder(str(home / "empty")) == home / "empty"
    _run(home / "mine", "x")
    assert check_output_folder(str(home / "mine")) == home / "mine"
    assert check_output_folder(str(_earlier_run_folder(home / "old"))) == home / "old"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda f: (f / MARKER).write_text('{"project": "other", "format": 1}'),
        lambda f: (f / MARKER).write_text("not json"),
        lambda f: (f / MARKER).mkdir(),
        lambda f: (f / MARKER).symlink_to(f.parent / "real_marker"),
    ],
    ids=["other-project", "not-json", "a-folder", "a-link"],
)
def test_a_marker_must_be_a_regular_file_naming_the_project(tmp_path, spoil) -> None:
    _run(tmp_path / "ours", "x")
    (tmp_path / "real_marker").write_text((tmp_path / "ours" / MARKER).read_text())
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "file.txt").write_text("user")
    spoil(folder)
    assert not is_project_folder(folder)
    with pytest.raises(OutputFolderError, match=NOT_OURS):
        check_output_folder(str(folder))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda f: (f / "thesis.md").write_text("user"),
        lambda f: (f / "fits" / "mine.nc").write_text("user"),
        lambda f: (f / "extra").mkdir(),
        lambda f: (f / "link").symlink_to("/etc"),
        lambda f: (f / "run_info.json").write_text(json.dumps({"finished": "x", "complete": True, "title": "fit"})),
    ],
    ids=["foreign-file", "foreign-file-below", "foreign-folder", "a-link", "fit-of-an-earlier-version"],
)
def test_an_earlier_versions_folder_is_recognised_only_when_its_manifest_names_everything(tmp_path, spoil) -> None:
    folder = _earlier_run_folder(tmp_path / "results")
    assert is_project_folder(folder)
    spoil(folder)
    assert not is_project_folder(folder)
    with pytest.raises(OutputFolderError, match="earlier version: delete or rename it yourself"):
        check_output_folder(str(folder))


def test_an_earlier_versions_folder_rotates_to_prev_and_goes_on_the_run_after(tmp_path) -> None:
    target = _earlier_run_folder(tmp_path / "results")
    old = snapshot(target)
    assert _run(target, "new") == previous_folder(target)
    assert snapshot(previous_folder(target)) == old
    _run(target, "newer")
    assert (previous_folder(target) / "summary.csv").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "results.prev"]


# ---------------------------------------------------------------- runs beside a user's files


def test_two_runs_into_a_home_subfolder_leave_every_other_file(tmp_path) -> None:
    home = make_home(tmp_path)
    before = snapshot(home)
    target = check_output_folder(str(home / "results"))
    assert _run(target, "one") is None
    assert _run(target, "two") == previous_folder(target)
    assert snapshot(home, skip=("results", "results.prev")) == before  # dotfiles and .tmp files too
    assert (target / "summary.csv").read_text() == "two" and (target / MARKER).is_file()
    assert (previous_folder(target) / "summary.csv").read_text() == "one"


def test_temporary_files_are_cleaned_only_in_staging_folders(tmp_path) -> None:
    """issue 22: every run used to delete hidden .*.tmp files anywhere below the results folder."""
    target = tmp_path / "results"
    _run(target, "one")
    (target / ".notes.tmp").write_text("the user's")
    staging = open_staging(target)
    assert (target / ".notes.tmp").read_text() == "the user's"
    release_output_folder(target)
    assert staging.is_dir()


def test_an_older_prev_is_removed_only_when_the_project_wrote_it(tmp_path) -> None:
    target = tmp_path / "results"
    _run(target, "one")
    _run(target, "two")
    _run(target, "three")  # the project's .prev ("one") is removed
    assert (previous_folder(target) / "summary.csv").read_text() == "two"
    previous_folder(target).rename(tmp_path / "kept")
    user = previous_folder(target)
    user.mkdir()
    (user / "mine.txt").write_text("user")
    before = snapshot(tmp_path)
    with pytest.raises(OutputFolderError, match=r"results.prev' exists and was not written by this project"):
        check_output_folder(str(target))
    with pytest.raises(OutputFolderError, match=r"results.prev' exists and was not written by this project"):
        open_staging(target)
    assert snapshot(tmp_path) == before
    user.rename(tmp_path / "mine")
    user.mkdir()  # an empty .prev: nothing to lose
    _run(target, "four")
    assert (previous_folder(target) / "summary.csv").read_text() == "three"


def test_a_prev_that_is_a_link_is_refused_and_its_target_kept(tmp_path) -> None:
    home = make_home(tmp_path)
    target = tmp_path / "results"
    _run(target, "one")
    previous_folder(target).symlink_to(home)
    before = snapshot(tmp_path)
    with pytest.raises(OutputFolderError, match="not written by this project"):
        check_output_folder(str(target))
    assert snapshot(tmp_path) == before


def test_a_folder_that_changes_hands_during_the_run_is_left_alone(tmp_path) -> None:
    target = tmp_path / "results"
    _run(target, "one")
    staging = open_staging(target)
    (staging / "summary.csv").write_text("two")
    target.rename(tmp_path / "moved")
    target.mkdir()
    (target / "mine.txt").write_text("user")  # the user put their own folder there meanwhile
    with pytest.raises(OutputFolderError, match="stopped being this project's folder"):
        commit_staging(staging, target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert (staging / "summary.csv").read_text() == "two"


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_stale_staging_folders_are_removed_only_when_the_project_wrote_them(tmp_path) -> None:
    target = tmp_path / "results"
    _run(target, "one")
    dead = _dead_pid()
    ours = staging_folder(target, dead)
    ours.mkdir()
    (ours / MARKER).write_text((target / MARKER).read_text())
    (ours / "fits").mkdir()
    (ours / "fits" / ".x.nc.123.tmp").write_bytes(b"")
    empty = staging_folder(target, dead + 1)  # a run killed between creating and marking it
    empty.mkdir()
    user = staging_folder(target, dead + 2)
    user.mkdir()
    (user / "mine.txt").write_text("user")
    live = staging_folder(target, os.getppid())
    live.mkdir()
    (live / MARKER).write_text((target / MARKER).read_text())
    removed = clean_stale(target)
    assert sorted(removed) == sorted([ours, empty]) and not ours.exists() and not empty.exists()
    assert (user / "mine.txt").read_text() == "user" and live.is_dir()


def test_an_interrupted_two_step_swap_is_undone_only_for_the_projects_prev(tmp_path) -> None:
    target = tmp_path / "results"
    _run(target, "old")
    target.rename(previous_folder(target))  # a crash between the two renames
    clean_stale(target)
    assert (target / "summary.csv").read_text() == "old" and not previous_folder(target).exists()
    target.rename(tmp_path / "elsewhere")
    previous_folder(target).mkdir()
    (previous_folder(target) / "mine.txt").write_text("user")
    clean_stale(target)
    assert not target.exists() and (previous_folder(target) / "mine.txt").read_text() == "user"


# ---------------------------------------------------------------- symbolic links


def test_a_linked_results_folder_is_resolved_and_works_every_run(tmp_path) -> None:
    real = tmp_path / "disk" / "results"
    real.parent.mkdir()
    link = tmp_path / "results"
    link.symlink_to(real)  # dangling: the first run creates the folder it points to
    for n in range(3):
        target = check_output_folder(str(link))
        assert target == real
        _run(target, f"run {n}")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (link / "summary.csv").read_text() == "run 2"
    assert (previous_folder(real) / "summary.csv").read_text() == "run 1"
    assert sorted(p.name for p in real.parent.iterdir()) == ["results", "results.prev"]


def test_a_link_loop_is_refused(tmp_path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OutputFolderError, match="symbolic link"):
        check_output_folder(str(tmp_path / "a"))


# ---------------------------------------------------------------- the lock


def _holder(target: Path) -> subprocess.Popen:
    """Another process that takes the lock of ``target`` (open_staging) and keeps it until its stdin closes."""
    code = ("import sys; from pathlib import Path; from models.atomic import open_staging; "
            f"open_staging(Path({str(target)!r})); print('locked', flush=True); sys.stdin.read()")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)  # fmt: skip
    assert proc.stdout.readline() == "locked\n"
    return proc


def test_a_second_run_into_a_locked_folder_is_refused_naming_the_holder(tmp_path) -> None:
    target = tmp_path / "results"
    _run(target, "one")
    holder = _holder(target)
    try:
        with pytest.raises(OutputFolderError, match=rf"is in use by another run \(process {holder.pid}\)"):
            open_staging(target)
        with pytest.raises(OutputFolderError, match="is in use by another run"):
            claim_output_folder(target, "--out")
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    assert _run(target, "two") == previous_folder(target)  # released when its process ended
    assert not lock_file(target).exists()


def test_a_killed_runs_lock_does_not_block_the_next_run(tmp_path) -> None:
    target = tmp_path / "results"
    holder = _holder(target)
    holder.send_signal(signal.SIGKILL)
    holder.communicate()
    assert lock_file(target).exists()  # left by the killed run, but no longer locked
    _run(target, "next")
    assert (target / "summary.csv").read_text() == "next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_foreign_file_in_place_of_the_lock_is_not_touched(tmp_path) -> None:
    target = tmp_path / "results"
    lock_file(target).symlink_to(tmp_path / "victim")
    (tmp_path / "victim").write_text("user")
    with pytest.raises(OutputFolderError, match="cannot create a folder beside it"):
        open_staging(target)
    assert (tmp_path / "victim").read_text() == "user" and not target.exists()


def test_claim_creates_and_marks_a_new_folder_and_keeps_a_marked_one(tmp_path) -> None:
    home = make_home(tmp_path)
    before = snapshot(home)
    out = claim_output_folder(home / "batch_out", "--out")
    assert is_project_folder(out) and json.loads((out / MARKER).read_text())["project"] == "msc-reanalysis"
    (out / "results.csv").write_text("rows")
    claim_output_folder(out, "--out")
    assert (out / "results.csv").read_text() == "rows"
    with pytest.raises(OutputFolderError, match=NOT_OURS):
        claim_output_folder(home / "Documents", "--out")
    release_output_folder(out)
    release_output_folder(home / "Documents")
    assert snapshot(home, skip=("batch_out",)) == before


def test_a_forked_child_ending_does_not_remove_the_parents_lock(tmp_path) -> None:
    """A library that forks (multiprocessing's fork start method) gets a child that holds no lockf lock; its exit
    handlers must not remove the lock file of the run that does."""
    import models.atomic as atomic

    target = tmp_path / "results"
    staging = open_staging(target)
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        atomic._release_all()  # what its atexit would do
        os._exit(0)
    assert os.waitpid(child, 0)[1] == 0
    code = f"from pathlib import Path; from models.atomic import open_staging; open_staging(Path({str(target)!r}))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert other.returncode == 1 and "is in use by another run" in other.stderr
    commit_staging(staging, target)
    assert not lock_file(target).exists()
