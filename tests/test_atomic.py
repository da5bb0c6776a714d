"""Atomic writes: the destination holds the old or the complete new file, never a partial one."""

import pytest

from models.atomic import write_atomic, write_text


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
    import os

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "report.md", "x")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
