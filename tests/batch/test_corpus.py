"""Batch manifests and folders (models/batch/corpus.py): optional columns take their stated defaults when missing or
empty, paths are made absolute against the manifest's folder, and a path that is not a regular file becomes an error
row naming it without being read (issues 20 and 22)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from batch_support import read_results

from models.batch.analyse import Options, analyse_entry
from models.batch.cli import main
from models.batch.corpus import Entry, ManifestError, read_manifest, scan_folder

EFFECTS = "study,yi,vi\na,0.1,0.04\nb,-0.3,0.09\nc,0.2,0.05\n"


def _files(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "e.csv").write_text(EFFECTS)
    return data


@pytest.mark.parametrize(
    "text",
    [
        "id,path,measure\ne,data/e.csv,SMD\n",  # no higher_is_benefit, no published_estimate
        "id,path,measure,higher_is_benefit,published_estimate\ne,data/e.csv,SMD,,\n",  # empty cells
        "id,path,measure,higher_is_benefit\ne,data/e.csv,SMD, FALSE \n",
    ],
    ids=["columns-missing", "cells-empty", "spelled-FALSE"],
)
def test_optional_columns_take_their_defaults(tmp_path, text):
    _files(tmp_path)
    (tmp_path / "manifest.csv").write_text(text)
    (entry,) = read_manifest(tmp_path / "manifest.csv")
    assert entry == Entry("e", str(tmp_path / "data" / "e.csv"), "SMD", False, None)


def test_json_manifest_with_missing_and_null_fields(tmp_path):
    _files(tmp_path)
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"id": "e", "path": "data/e.csv", "measure": "SMD", "higher_is_benefit": None}]))
    assert read_manifest(path) == [Entry("e", str(tmp_path / "data" / "e.csv"), "SMD", False, None)]


def test_a_manifest_without_higher_is_benefit_runs_to_the_end(tmp_path, capsys):
    """issue 20: such a manifest crashed every chunk (pyarrow ArrowInvalid on a missing boolean, corpus.py:97)."""
    _files(tmp_path)
    (tmp_path / "manifest.csv").write_text("id,path,measure\ne,data/e.csv,SMD\ngone,data/none.csv,\n")
    out = tmp_path / "out"
    argv = [str(tmp_path / "manifest.csv"), "--results", str(out), "--workers", "0", "--no-report", "--quiet"]
    assert main(argv) == 0
    table = read_results(out)
    assert list(table["status"]) == ["ok", "error"] and not table["higher_is_benefit"].any()
    assert table["message"].iloc[1] == f"{tmp_path / 'data' / 'none.csv'}: file not found"


def test_paths_are_absolute_against_the_manifests_folder(tmp_path, monkeypatch):
    _files(tmp_path)
    (tmp_path / "manifest.csv").write_text(f"id,path\nrel,data/e.csv\nabs,{tmp_path / 'data' / 'e.csv'}\nup,../x.csv\n")
    monkeypatch.chdir(tmp_path / "data")
    entries = read_manifest(Path("..") / "manifest.csv")
    assert [e.path for e in entries] == [str(tmp_path / "data" / "e.csv")] * 2 + [str(tmp_path.parent / "x.csv")]
    assert all(Path(e.path).is_absolute() for e in scan_folder(Path("."), None, False))


@pytest.mark.parametrize(
    "kind", ["fifo", "device", "folder", "passwd"], ids=["fifo", "dev-zero", "folder", "a-foreign-file"]
)
def test_a_path_that_is_not_a_study_file_gets_an_error_row_without_being_read(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe.csv"
        os.mkfifo(path)
        message = f"{path}: is a named pipe (FIFO), not a regular file; it was not read"
    elif kind == "device":
        path = Path("/dev/zero")
        message = "/dev/zero: is a device, not a regular file; it was not read"
    elif kind == "folder":
        path = tmp_path / "folder.csv"
        path.mkdir()
        message = f"{path}: is a folder, not a CSV file"
    else:
        path = tmp_path / "passwd"
        path.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
        message = (
            f"{path}, row 1: the header matches no layout: the header has one column only (is the file separated "
            "by something other than commas, semicolons or tabs? Save it as CSV); layouts: "
        )
    entry = Entry("x", str(path), None, False, None)
    start = time.perf_counter()
    entry.digest()  # the resume key never reads such a file either
    (row,) = analyse_entry(entry, Options())
    assert time.perf_counter() - start < 2.0
    assert row.status == "error" and row.message.startswith(message)
    assert "root:x" not in row.message


def test_a_manifest_that_is_not_a_regular_file_is_refused(tmp_path, capsys):
    fifo = tmp_path / "manifest.csv"
    os.mkfifo(fifo)
    with pytest.raises(ManifestError, match=r"manifest\.csv: is a named pipe \(FIFO\), not a regular file"):
        read_manifest(fifo)
    assert main([str(fifo), "--results", str(tmp_path / "out"), "--workers", "0"]) == 2
    assert "is a named pipe (FIFO)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_published_estimate_of_a_ratio_file_must_be_positive(tmp_path):
    """Without a measure the manifest cannot know the layout; the check is made once the file says OR."""
    data = tmp_path / "two.csv"
    data.write_text("study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,3,20,4,20\n")
    (row,) = analyse_entry(Entry("t", str(data), None, False, -0.3), Options())
    assert (
        row.status == "error"
        and row.message == "published_estimate -0.3 must be positive for OR (the measure of this file)"
    )
