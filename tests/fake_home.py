"""A fake home folder full of a user's files, and a byte-for-byte snapshot of a folder tree, for the tests that a
run never moves, changes or deletes a file the project did not write (tests/test_atomic.py, test_run_folder.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

USER_FILES = {
    ".bashrc": b"export PATH=$HOME/bin:$PATH\n",
    ".ssh/id_ed25519": b"-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n",
    ".x.tmp": b"a user's hidden temporary file\n",
    ".cache/.y.tmp": b"",
    "notes.txt": "caf\u00e9 notes\n".encode(),
    "Documents/thesis.md": b"# Chapter 1\n",
    "Documents/.thesis.md.1234.tmp": b"an editor's swap file\n",
    "project/.git/HEAD": b"ref: refs/heads/main\n",
    "project/run_info.json": b'{"mine": true}\n',
    "data/studies.csv": b"study,e_t,n_t,e_c,n_c\nA,1,10,2,10\n",
    "bin/blob": bytes(range(256)),
}


def make_home(root: Path) -> Path:
    """``root/home`` with USER_FILES, an empty folder and a symbolic link; returns the home folder."""
    home = root / "home"
    for rel, content in USER_FILES.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (home / "empty").mkdir()
    (home / "docs").symlink_to("Documents")
    return home


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every entry below ``root`` (links not followed): kind, permission bits and bytes (files) or link target.
    Top-level names in ``skip`` are left out."""
    entries: dict[str, tuple] = {}
    for folder, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if rel.split("/")[0] in skip:
                continue
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                entries[rel] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return entries
