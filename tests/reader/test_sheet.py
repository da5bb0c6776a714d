"""The text of a study file (models/reader/sheet.py): file checks before reading, decoding, separators and decimal
commas, limits, control characters, column names and cells. Each case pins its whole message (file named ``F``)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from models.reader import Limits, StudyFileError, read_study_file

HEADER = "study,e_t,n_t,e_c,n_c"
GOOD = ["a,1,10,2,10", "b,3,20,4,20"]


def _write(tmp_path: Path, text: str | bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _message(path: Path, err: StudyFileError) -> str:
    return str(err).replace(str(path), "F")


def _refused(path: Path, *args, **kwargs) -> str:
    with pytest.raises(StudyFileError) as info:
        read_study_file(path, *args, **kwargs)
    return _message(path, info.value)


# -- the file itself, before anything is read --------------------------------------------------------------------


def test_a_fifo_is_refused_by_name_without_blocking(tmp_path):
    """A FIFO opened for reading blocks until a writer comes; the reader must decide from os.stat alone."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(_refused(fifo)), daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "reading a FIFO blocked"
    assert outcome == ["F: is a named pipe (FIFO), not a regular file; it was not read"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_without_being_read(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    start = time.perf_counter()
    with pytest.raises(StudyFileError) as info:
        read_study_file(device)
    assert str(info.value) == f"{device}: is a device, not a regular file; it was not read"
    assert time.perf_counter() - start < 1.0


def test_a_folder_and_a_missing_file_are_named(tmp_path):
    assert _refused(tmp_path) == "F: is a folder, not a CSV file"
    assert _refused(tmp_path / "absent.csv") == "F: file not found"


def test_size_limit_with_its_hint(tmp_path):
    path = _write(tmp_path, "\n".join([HEADER, *GOOD]) + "\n" + "x" * 200)
    limits = Limits(max_bytes=100, hint="; raise it with --max-file-mb")
    assert _refused(path, limits=limits) == "F: is 0.0 MB, above the limit of 0.0 MB; raise it with --max-file-mb"
    assert Limits().max_bytes == 50_000_000  # the stated default: 50 MB


def test_a_million_rows_are_refused_before_parsing(tmp_path):
    path = _write(tmp_path, HEADER + "\n" + "a,1,10,2,10\n" * 1_000_000)
    start = time.perf_counter()
    assert _refused(path) == "F: has more than 10,000 rows; the limit is 10,000 studies"
    assert time.perf_counter() - start < 2.0


def test_study_limit_counts_rows_not_blank_lines(tmp_path):
    rows = [f"s{i},1,10,2,10" for i in range(6)]
    assert _refused(_write(tmp_path, "\n".join([HEADER, *rows])), limits=Limits(max_studies=5)) == (
        "F: has 6 rows; the limit is 5 studies"
    )
    blank_lines = "\n".join([HEADER, *GOOD]) + "\n" * 50
    assert read_study_file(_write(tmp_path, blank_lines), limits=Limits(max_studies=5)).k == 2


# -- text ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "F: the file is empty (no header, no rows)"),
        (b" \n\n", "F: the file is empty (no header, no rows)"),
        (b",,,\n,,\n", "F: the file is empty (no header, no rows)"),
        (b"\xff\xfes\x00t\x00", "F: is UTF-16 text; save it as 'CSV UTF-8' (comma-separated)"),
        (
            b"study,e_t,n_t,e_c,n_c\nM\xfcller,1,10,2,10\n",
            "F, row 2: is not UTF-8 text (invalid start byte); save it as 'CSV UTF-8' (comma-separated)",
        ),
        (HEADER.encode() + b"\n", "F: the file has a header but no data rows"),
        (b"\n" + HEADER.encode() + b"\na,1,10,2,10\n",
         "F, row 1: the first line is blank; the header must be on row 1"),
        (
            b'study,e_t,n_t,e_c,n_c\n"a,1,10,2,10\n',
            "F, row 2: cannot be read as CSV (unexpected end of data)",
        ),
        (
            b'study,e_t,n_t,e_c,n_c\n"a"b,1,10,2,10\n',
            "F, row 2: cannot be read as CSV (',' expected after '\"')",
        ),
        (b"study,e_t,n_t,e_c,n_c\na\x00b,1,10,2,10\n",
         "F, row 2, column 'study': contains the control character '\\x00'"),
        (b"study,e_t,n_t,e_c,n_c\na,1,10,2\x1b,10\n",
         "F, row 2, column 'e_c': contains the control character '\\x1b'"),
        (b"study,e_\x07t,n_t,e_c,n_c\na,1,10,2,10\n", "F, row 1: column 2 has a control character in its name"),
    ],
    ids=["empty", "blank", "only-commas", "utf16", "latin1", "header-only", "blank-first-line", "open-quote",
         "stray-quote", "NUL", "escape", "control-in-header"],
)  # fmt: skip
def test_text_that_cannot_be_a_table(tmp_path, data, message):
    assert _refused(_write(tmp_path, data)) == message


def test_bom_crlf_and_quoted_header_as_spreadsheets_and_r_write_them(tmp_path):
    plain = read_study_file(_write(tmp_path, "\n".join([HEADER, *GOOD]) + "\n", "plain.csv"))
    for text in (
        b"\xef\xbb\xbf" + ("\r\n".join([HEADER, *GOOD]) + "\r\n").encode(),  # Excel: BOM and CRLF
        b'"study","e_t","n_t","e_c","n_c"\n"a",1,10,2,10\n"b",3,20,4,20\n',  # R write.csv
    ):
        got = read_study_file(_write(tmp_path, text))
        assert got.study == plain.study and got.notes == ()
        assert (got.counts.e_t == plain.counts.e_t).all() and (got.effects.yi == plain.effects.yi).all()


def test_header_case_and_spaces_after_commas_are_ignored(tmp_path):
    got = read_study_file(_write(tmp_path, "Study, E_T , n_t, e_c, N_C\nSmith 2001, 1, 10, 2, 10\n b ,3,20,4,20\n"))
    assert got.study == ("Smith 2001", "b") and list(got.counts.n_c) == [10, 20]


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_file(tmp_path):
    text = "\n".join([HEADER, GOOD[0], "", ",,,,", GOOD[1], "c,x,10,2,10"]) + "\n"
    assert _refused(_write(tmp_path, text)) == "F, row 6, column 'e_t': 'x' is not a finite number"
    assert read_study_file(_write(tmp_path, "\n".join([HEADER, GOOD[0], "", GOOD[1]]))).rows == (2, 4)


def test_fields_beyond_the_header(tmp_path):
    assert read_study_file(_write(tmp_path, "\n".join([HEADER, "a,1,10,2,10,", "b,3,20,4,20, "]))).k == 2
    assert _refused(_write(tmp_path, "\n".join([HEADER, GOOD[0], "b,3,20,4,20,7"]))) == (
        "F, row 3: has 6 fields, the header 5 (an unquoted comma in a label, or decimal commas in a comma-separated "
        "file? Write 0.5, or save with ';' as separator)"
    )
    assert _refused(_write(tmp_path, "\n".join([HEADER, GOOD[0], "b,3,20,4"]))) == (
        "F, row 3, column 'n_c': value is required but empty"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("study,e_t,n_t,e_c,n_c,E_T",
         "F, row 1, column 'E_T': column name appears twice (columns 2 and 6; case is ignored)"),
        ("study,e_t,n_t,,e_c,n_c", "F, row 1: column 4 has an empty name but holds values"),
    ],
)  # fmt: skip
def test_column_names(tmp_path, header, message):
    assert _refused(_write(tmp_path, "\n".join([header, "a,1,10,2,10,5", "b,3,20,4,20,6"]))) == message


def test_a_nameless_empty_column_is_ignored(tmp_path):
    assert read_study_file(_write(tmp_path, "\n".join([HEADER + ",", "a,1,10,2,10,", "b,3,20,4,20,"]))).k == 2


# -- separators and decimal commas --------------------------------------------------------------------------------


def test_semicolons_with_decimal_commas_are_read_and_said(tmp_path):
    got = read_study_file(_write(tmp_path, "study;yi;vi\na;0,5;0,1\nb;-1,25e-1;0,3\n"), "SMD")
    assert list(got.effects.yi) == [0.5, -0.125] and list(got.effects.vi) == [0.1, 0.3]
    assert got.notes == ("read as semicolon-separated with decimal commas",)


def test_semicolons_or_tabs_with_decimal_points(tmp_path):
    semi = read_study_file(_write(tmp_path, "study;e_t;n_t;e_c;n_c\na;1;10;2;10\nb;3;20;4;20\n"))
    assert semi.notes == ("read as semicolon-separated with decimal points",) and semi.k == 2
    tab = read_study_file(
        _write(tmp_path, "study\tyi\tvi\na\t0.5\t0.1\nb\t0,25\t0,5\n".replace("0.5\t0.1", "0,5\t0,1")), "OR"
    )
    assert tab.notes == ("read as tab-separated with decimal commas",) and list(tab.effects.yi) == [0.5, 0.25]


def test_decimal_comma_problems_say_what_to_change(tmp_path):
    mixed = _write(tmp_path, "study;yi;vi\na;0,5;0.1\nb;-0,2;0,3\n")
    assert _refused(mixed, "OR") == (
        "F, row 2, column 'vi': '0.1' has a point in a file with decimal commas (a thousands separator?): write "
        "numbers without thousands separators"
    )
    quoted = _write(tmp_path, 'study,yi,vi\na,"0,5",0.1\nb,-0.2,0.3\n')
    assert _refused(quoted, "OR") == (
        "F, row 2, column 'yi': '0,5' has a decimal comma: in a comma-separated file write it with a point (0.5), or "
        "save the file with ';' as separator"
    )
    unquoted = _write(tmp_path, "study,yi,vi\na,0,5,0,1\n")
    assert _refused(unquoted, "OR").startswith(
        "F, row 2: has 5 fields, the header 3 (an unquoted comma in a label, or "
    )


def test_a_label_with_a_comma_in_a_semicolon_file_is_not_a_decimal_comma(tmp_path):
    got = read_study_file(_write(tmp_path, 'study;e_t;n_t;e_c;n_c\n"Davis, BH";1;10;2;10\nb;3;20;4;20\n'))
    assert got.study == ("Davis, BH", "b") and got.notes == ("read as semicolon-separated with decimal points",)


# -- cells --------------------------------------------------------------------------------------------------------


def _row(tmp_path: Path, row: str, header: str = HEADER) -> Path:
    return _write(tmp_path, "\n".join([header, "first,1,10,2,10" if header == HEADER else row, row]) + "\n")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",1,10,2,10", "F, row 3, column 'study': value is required but empty"),
        ("NA,1,10,2,10", "F, row 3, column 'study': 'NA' is a missing-value marker, not a label"),
        ("n/a,1,10,2,10", "F, row 3, column 'study': 'n/a' is a missing-value marker, not a label"),
        ('"a\tb",1,10,2,10', "F, row 3, column 'study': 'a\\tb' contains a tab or line break"),
        ('"a\nb",1,10,2,10', "F, row 3, column 'study': 'a\\nb' contains a tab or line break"),
        ("x" * 201 + ",1,10,2,10", "F, row 3, column 'study': a label of 201 characters; at most 200 are allowed"),
        ("b,9007199254740993,9007199254740993,2,10",
         "F, row 3, column 'e_t': '9007199254740993' is too large (a count is at most 1,000,000,000; larger counts are "
         "refused, never rounded)"),
        ("b,1,1000000001,2,10",
         "F, row 3, column 'n_t': '1000000001' is too large (a count is at most 1,000,000,000; larger counts are "
         "refused, never rounded)"),
        ("b,1,1e30,2,10",
         "F, row 3, column 'n_t': '1e30' is too large (a count is at most 1,000,000,000; larger counts are refused, "
         "never rounded)"),
        ("b,1,10.5,2,10", "F, row 3, column 'n_t': '10.5' is not a whole number"),
        ("b,1,10,-2,10", "F, row 3, column 'e_c': '-2' is negative"),
        ("b,one,10,2,10", "F, row 3, column 'e_t': 'one' is not a finite number"),
        ("b,inf,10,2,10", "F, row 3, column 'e_t': 'inf' is not a finite number"),
        ("b,1_0,10,2,10", "F, row 3, column 'e_t': '1_0' is not a finite number"),
        ("b,1,10,2," + "9" * 500,
         "F, row 3, column 'n_c': '9999999999999999999999999999999999999...' is too large (a count is at most "
         "1,000,000,000; larger counts are refused, never rounded)"),
        ("b," + "z" * 500 + ",10,2,10",
         "F, row 3, column 'e_t': 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...' is not a finite number"),
    ],
    ids=["empty-label", "NA", "n/a", "tab", "line-break", "201-characters", "2^53+1", "above-1e9", "1e30",
         "fraction", "negative", "text", "inf", "underscore", "500-digits", "long-junk-is-cut"],
)  # fmt: skip
def test_cells(tmp_path, row, message):
    assert _refused(_row(tmp_path, row)) == message


def test_counts_are_parsed_exactly_from_the_text(tmp_path):
    got = read_study_file(_write(tmp_path, "\n".join([HEADER, "a,1,1e3,2,10.0", "b,3,20,4,1000000000"])))
    assert list(got.counts.n_t) == [1000, 20] and list(got.counts.n_c) == [10, 1_000_000_000]


def test_a_label_of_a_megabyte_is_refused_quickly(tmp_path):
    """issue 22: a 1 MB label made ``fit`` run for more than 900 s."""
    path = _write(tmp_path, "\n".join([HEADER, "y" * 1_000_000 + ",1,10,2,10", GOOD[1]]))
    start = time.perf_counter()
    message = _refused(path)
    assert time.perf_counter() - start < 1.0
    assert message == "F, row 2: cannot be read as CSV (field larger than field limit (131072))"
