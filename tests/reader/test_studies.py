"""What a study file holds (models/reader/studies.py): layouts and their spellings, the measure policy, the header
messages, ranges, totals rows, repeated labels, empty arms, covariates and notes. Each refusal pins its message (file
named ``F``). Reference values: the effect formulas written out here (log OR = log(ad/bc), Wald SE from a 95% CI);
metafor's own values on metadat data are in test_metadat.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from models.effects import escalc
from models.reader import (
    DEFAULT_MEASURE,
    LABEL_COLUMNS,
    Covariate,
    CovariateError,
    StudyFileError,
    read_study_file,
)
from models.tables import BinaryTable

HEADER = "study,e_t,n_t,e_c,n_c"
ROWS = [("a", 1, 10, 2, 10), ("b", 3, 20, 4, 20), ("c", 5, 30, 9, 31)]


def _write(tmp_path: Path, *lines: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _refused(path: Path, *args, **kwargs) -> str:
    with pytest.raises(StudyFileError) as info:
        read_study_file(path, *args, **kwargs)
    return str(info.value).replace(str(path), "F")


def _log_or(a: int, n1: int, c: int, n2: int) -> float:
    return math.log(a * (n2 - c) / ((n1 - a) * c))


# -- layouts --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("study,e_t,n_t,e_c,n_c", lambda s, a, n1, c, n2: f"{s},{a},{n1},{c},{n2}"),
        ("study,ai,n1i,ci,n2i", lambda s, a, n1, c, n2: f"{s},{a},{n1},{c},{n2}"),
        ("study,ai,bi,ci,di", lambda s, a, n1, c, n2: f"{s},{a},{n1 - a},{c},{n2 - c}"),
        ("study,ai,n1i,ci,n2i,bi,di", lambda s, a, n1, c, n2: f"{s},{a},{n1},{c},{n2},{n1 - a},{n2 - c}"),
        ("studlab,event.e,n.e,event.c,n.c", lambda s, a, n1, c, n2: f"{s},{a},{n1},{c},{n2}"),
    ],
    ids=["project", "metafor-n", "metafor-nonevents", "metafor-both", "meta"],
)
def test_every_2x2_spelling_gives_the_same_table(tmp_path, header, row):
    got = read_study_file(_write(tmp_path, header, *(row(*r) for r in ROWS)))
    assert got.layout == "2x2" and got.measure == "OR" == DEFAULT_MEASURE["2x2"]
    assert (
        got.study == ("a", "b", "c") and list(got.counts.n_t) == [10, 20, 30] and list(got.counts.n_c) == [10, 20, 31]
    )
    np.testing.assert_allclose(got.effects.yi, [_log_or(*r[1:]) for r in ROWS], rtol=1e-14)


def test_non_events_and_totals_must_agree_when_both_are_given(tmp_path):
    path = _write(tmp_path, "study,ai,n1i,ci,n2i,bi,di", "a,1,10,2,10,9,8", "b,3,20,4,20,16,16")
    assert _refused(path) == "F, row 3, column 'bi': ai + bi (19) differs from n1i (20)"


@pytest.mark.parametrize(
    "header",
    [
        "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c",
        "study,n1i,m1i,sd1i,n2i,m2i,sd2i",
        "study,n.e,mean.e,sd.e,n.c,mean.c,sd.c",
    ],
    ids=["project", "metafor", "meta"],
)
def test_every_continuous_spelling(tmp_path, header):
    got = read_study_file(_write(tmp_path, header, "a,10,5,1,12,6,1.5", "b,20,4,2,20,5,2"))
    assert got.layout == "continuous" and got.measure == "SMD" == DEFAULT_MEASURE["continuous"]
    assert list(got.arms.sd_c) == [1.5, 2.0]
    md = read_study_file(got.path, "MD")
    np.testing.assert_allclose(md.effects.yi, [-1.0, -1.0])
    np.testing.assert_allclose(md.effects.vi, [1 / 10 + 1.5**2 / 12, 4 / 20 + 4 / 20], rtol=1e-14)


def test_effects_spellings(tmp_path):
    vi = read_study_file(_write(tmp_path, "study,yi,vi", "a,0.1,0.04", "b,-0.2,0.09"), "OR")
    sei = read_study_file(_write(tmp_path, "trial,yi,sei", "a,0.1,0.2", "b,-0.2,0.3"), "OR")
    meta = read_study_file(_write(tmp_path, "studlab,TE,seTE", "a,0.1,0.2", "b,-0.2,0.3"), "OR")
    for got in (sei, meta):
        assert got.layout == "effects" and got.study == vi.study
        np.testing.assert_allclose(got.effects.vi, vi.effects.vi, rtol=1e-14)


def test_estimate_with_ci_is_a_wald_interval_on_the_analysis_scale(tmp_path):
    got = read_study_file(_write(tmp_path, "study,estimate,ci_low,ci_high", "a,0.5,0.25,1", "b,2,1,4"), "OR")
    z = 1.959963984540054
    assert got.layout == "effects_ci"
    np.testing.assert_allclose(got.effects.yi, [math.log(0.5), math.log(2)], rtol=1e-14)
    np.testing.assert_allclose(got.effects.vi, [(math.log(4) / (2 * z)) ** 2] * 2, rtol=1e-12)
    md = read_study_file(got.path, "MD")
    np.testing.assert_allclose(md.effects.yi, [0.5, 2.0]) and np.testing.assert_allclose(
        md.effects.vi[1], (3 / (2 * z)) ** 2
    )


@pytest.mark.parametrize("label", LABEL_COLUMNS)
def test_every_label_column_name(tmp_path, label):
    assert read_study_file(_write(tmp_path, f"{label.upper()},yi,vi", "x,0.1,0.04", "y,0.2,0.05"), "SMD").study == (
        "x",
        "y",
    )


def test_the_preferred_label_column_wins(tmp_path):
    got = read_study_file(_write(tmp_path, "id,author,yi,vi", "1,Smith,0.1,0.04", "2,Jones,0.2,0.05"), "SMD")
    assert got.study == ("Smith", "Jones")  # author before id (LABEL_COLUMNS order)


# -- measures and the header ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "measure", "message"),
    [
        (("study,yi,vi", "a,0.1,0.04", "b,0.2,0.05"), None,
         "F: an effects file does not say its measure: give one of OR, RR, RD, MD, SMD (fit, pool: --measure; batch: "
         "the manifest's measure column)"),
        (("study,estimate,ci_low,ci_high", "a,0.5,0.25,1", "b,2,1,4"), None,
         "F: an estimate-with-CI file does not say its measure: give one of OR, RR, RD, MD, SMD (fit, pool: --measure; "
         "batch: the manifest's measure column)"),
        ((HEADER, "a,1,10,2,10", "b,3,20,4,20"), "SMD", "F: measure SMD does not fit a 2x2 file (use OR, RR, RD)"),
        (("study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,12,6,1.5", "b,20,4,2,20,5,2"), "OR",
         "F: measure OR does not fit a continuous file (use MD, SMD)"),
    ],
    ids=["effects", "estimate-ci", "2x2-smd", "continuous-or"],
)  # fmt: skip
def test_measure_policy(tmp_path, lines, measure, message):
    assert _refused(_write(tmp_path, *lines), measure) == message


LAYOUT_LIST = (
    "layouts: 2x2 study,e_t,n_t,e_c,n_c (metafor: ai,n1i,ci,n2i or ai,bi,ci,di); continuous "
    "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c (metafor: m1i,sd1i,n1i,m2i,sd2i,n2i); effects study,yi,vi (or yi,sei); "
    "estimate with 95% CI study,estimate,ci_low,ci_high"
)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("study,e_t,n_t,e_c", "closest is 2x2 (e_t,n_t,e_c,n_c), which lacks n_c"),
        ("Study,E_t,N_t,E_c,Nc", "closest is 2x2 (e_t,n_t,e_c,n_c), which lacks n_c (did you mean 'Nc' for n_c?)"),
        ("study,mean_t,sd_t,n_t,mean_c,sd_c,n_k",
         "closest is continuous (n_t,mean_t,sd_t,n_c,mean_c,sd_c), which lacks n_c (did you mean 'n_k' for n_c?)"),
        ("study,yi,var", "closest is effects (yi,vi), which lacks vi"),
        ("study|e_t|n_t|e_c|n_c", "the header has one column only (is the file separated by something other than "
         "commas, semicolons or tabs? Save it as CSV)"),
        ("root:x:0:0:root:/root:/bin/bash", "the header has one column only (is the file separated by something other "
         "than commas, semicolons or tabs? Save it as CSV)"),
        ("trial,treated,control", "no column name of any layout is present"),
    ],
    ids=["missing", "typo", "continuous-typo", "effects", "pipes", "a-foreign-file", "nothing"],
)  # fmt: skip
def test_a_header_that_matches_no_layout_says_what_is_close(tmp_path, header, message):
    path = _write(tmp_path, header, "a,1,10,2,10", "b,3,20,4,20")
    assert _refused(path) == f"F, row 1: the header matches no layout: {message}; {LAYOUT_LIST}"


def test_a_header_without_a_label_column(tmp_path):
    assert _refused(_write(tmp_path, "ai,n1i,ci,n2i", "1,10,2,10", "3,20,4,20")) == (
        "F, row 1: the header has the 2x2 columns ai,n1i,ci,n2i but no study label column (name one of: study, "
        "studlab, slab, label, author, authors, trial, name, id, study_id, source, citation, reference)"
    )


# -- ranges -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "measure", "message"),
    [
        (("study,yi,vi", "a,0.1,0.04", "b,60,0.05"), "OR",
         "F, row 3, column 'yi': '60' is outside the range the engines handle (|yi| <= 50 on the log OR scale)"),
        (("study,yi,vi", "a,0.1,0.04", "b,1e308,0.05"), "OR",
         "F, row 3, column 'yi': '1e308' is outside the range the engines handle (|yi| <= 50 on the log OR scale)"),
        (("study,yi,vi", "a,0.1,0.04", "b,0.2,0"), "SMD",
         "F, row 3, column 'vi': '0' is outside the range the engines handle (1e-12 <= vi <= 1e+06)"),
        (("study,yi,vi", "a,0.1,0.04", "b,0.2,1e308"), "SMD",
         "F, row 3, column 'vi': '1e308' is outside the range the engines handle (1e-12 <= vi <= 1e+06)"),
        (("study,yi,vi", "a,0.1,0.04", "b,2e9,1"), "MD",
         "F, row 3, column 'yi': '2e9' is outside the range the engines handle (|yi| <= 1e+09 on the MD scale)"),
        (("study,yi,sei", "a,0.1,0.2", "b,0.2,-1"), "RR",
         "F, row 3, column 'sei': '-1' is outside the range the engines handle (1e-06 <= sei <= 1000)"),
        (("study,estimate,ci_low,ci_high", "a,0.5,0.25,1", "b,2,0,4"), "OR",
         "F, row 3, column 'ci_low': '0' is outside the range the engines handle (positive, |log| <= 50)"),
        (("study,estimate,ci_low,ci_high", "a,0.5,0.25,1", "b,2,1,1e300"), "RR",
         "F, row 3, column 'ci_high': '1e300' is outside the range the engines handle (positive, |log| <= 50)"),
        (("study,estimate,ci_low,ci_high", "a,0.5,0.25,1", "b,2,2,4"), "OR",
         "F, row 3, column 'ci_low': ci_low (2) must be below the estimate (2)"),
        (("study,estimate,ci_low,ci_high", "a,0.5,0.25,1", "b,-1,-2,-1.5"), "MD",
         "F, row 3, column 'ci_high': ci_high (-1.5) must be above the estimate (-1)"),
        (("study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,12,6,1.5", "b,20,4,0,20,5,2"), None,
         "F, row 3, column 'sd_t': '0' is outside the range the engines handle (0 < SD <= 1e+09)"),
        (("study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,12,6,1.5", "b,20,4e10,1,20,5,2"), None,
         "F, row 3, column 'mean_t': '4e10' is outside the range the engines handle (|mean| <= 1e+09)"),
        (("study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,12,6,1.5", "b,1,4,1,20,5,2"), None,
         "F, row 3, column 'n_t': n_t must be at least 2; got 1"),
        (("study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,12,6,1.5", "b,20,4,1e-9,20,5,1e-9"), None,
         "F, row 3: the SMD computed from this row (n_t,mean_t,sd_t,n_c,mean_c,sd_c) is -9.8e+08 with variance "
         "1.2e+16, outside the range the engines handle (|yi| <= 50, 1e-12 <= vi <= 1e+06)"),
        ((HEADER, "a,1,10,2,10", "b,11,10,4,20"), None, "F, row 3, column 'e_t': e_t (11) exceeds n_t (10)"),
        (("study,ai,bi,ci,di", "a,1,9,2,8", "b,1,1000000000,4,20"), None,
         "F, row 3, column 'bi': ai + bi = 1,000,000,001 is too large (an arm has at most 1,000,000,000 patients)"),
    ],
    # derived-smd: Hedges' g = J (4 - 5) / 1e-9 with J = 1 - 3 / (4 m - 1) ~ 0.98 (m = 38), vi ~ 0.1 + g^2 / 80
    ids=["yi-60", "yi-1e308", "vi-0", "vi-1e308", "md-yi", "sei-negative", "ci-zero", "ci-huge", "ci-order-low",
         "ci-order-high", "sd-0", "mean-huge", "n-1", "derived-smd", "events-over-n", "nonevents-sum"],
)  # fmt: skip
def test_ranges_the_engines_handle(tmp_path, lines, measure, message):
    assert _refused(_write(tmp_path, *lines), measure) == message


# -- what is kept ---------------------------------------------------------------------------------------------------


def test_one_study_is_refused_in_one_line(tmp_path):
    assert _refused(_write(tmp_path, HEADER, "a,1,10,2,10")) == "F: has 1 study; a meta-analysis needs at least 2"


def test_an_arm_with_no_patients_drops_the_study_with_a_note(tmp_path):
    got = read_study_file(_write(tmp_path, HEADER, "a,1,10,2,10", "b,0,0,4,20", "c,5,30,9,31"))
    assert got.study == ("a", "c") and got.rows == (2, 4) and got.counts.k == got.effects.k == 2
    assert got.notes == (
        "1 study with no patients in an arm dropped (nothing to compare; metafor would add 0.5 to every cell and keep "
        "it): 'b'",
    )
    cont = read_study_file(
        _write(
            tmp_path, "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c", "a,10,5,1,12,6,1.5", "b,0,4,1,20,5,2", "c,9,4,1,9,5,2"
        )
    )
    assert cont.study == ("a", "c") and cont.notes[0].endswith("keep it): 'b'")
    assert _refused(_write(tmp_path, HEADER, "a,1,10,2,10", "b,0,10,0,0")) == (
        "F: has 1 study after dropping 1; a meta-analysis needs at least 2"
    )


def test_repeated_labels_are_kept_with_metafors_suffixes(tmp_path):
    got = read_study_file(_write(tmp_path, HEADER, "Guckin 1992,1,10,2,10", "b,3,20,4,20", "Guckin 1992,5,30,9,31"))
    assert got.study == ("Guckin 1992.1", "b", "Guckin 1992.2")
    assert got.notes == (
        "repeated study labels kept, made unique as metafor does: 'Guckin 1992' (rows 2, 4) as 'Guckin 1992.1', "
        "'Guckin 1992.2'",
    )
    clash = _write(tmp_path, HEADER, "a,1,10,2,10", "a,3,20,4,20", "a.1,5,30,9,31")
    assert _refused(clash) == (
        "F, row 4, column 'study': repeated labels cannot be made unique as metafor does ('a.1' would be there twice); "
        "rename the repeated studies"
    )


@pytest.mark.parametrize(
    ("label", "row"),
    [("Total", "Total,9,60,15,61"), ("Total (95% CI)", "Total (95% CI),9,60,15,61"), ("Subtotal", "Subtotal,9,60,1,1"),
     ("Sub-total (95% CI)", "Sub-total (95% CI),9,60,1,1"), ("Total events", "Total events,9,60,15,61"),
     ("OVERALL", "OVERALL,9,60,15,61"), ("total:", "total:,,,,")],
)  # fmt: skip
def test_a_totals_row_is_refused(tmp_path, label, row):
    path = _write(tmp_path, HEADER, *(",".join(map(str, r)) for r in ROWS), row)
    assert _refused(path) == f"F, row 5: row 5 looks like a totals row: its label is {label!r}; remove it"


def test_a_row_of_sums_is_refused_and_a_trial_called_total_is_not(tmp_path):
    sums = _write(tmp_path, HEADER, *(",".join(map(str, r)) for r in ROWS), "Pooled,9,60,15,61")
    assert _refused(sums) == (
        "F, row 5: row 5 looks like a totals row: its counts equal the sums of all the other rows; remove it"
    )
    assert read_study_file(_write(tmp_path, HEADER, "TOTAL 2015,1,10,2,10", "b,3,20,4,20")).k == 2
    assert read_study_file(_write(tmp_path, HEADER, "a,1,10,2,10", "b,1,10,2,10")).k == 2  # two equal rows: no total
    middle = _write(tmp_path, HEADER, "x,1,10,2,10", "x2,3,20,4,20", "y,2,10,2,10")  # row 3 = rows 2 + 4, by chance
    assert read_study_file(middle).k == 3  # only the last row is taken for a totals row


def test_double_zero_studies_are_left_out_of_the_effects_with_a_note(tmp_path):
    got = read_study_file(_write(tmp_path, HEADER, "a,1,10,2,10", "b,0,20,0,20", "c,5,30,9,31"))
    assert got.counts.k == 3 and got.effects.study == ("a", "c") and got.effects.dropped == ("b",)
    assert got.notes == (
        "1 study with no events in either arm (or events in everyone) left out of the per-study OR effects (no "
        "information on them; the binomial-normal model keeps them): 'b'",
    )
    expected = escalc(BinaryTable(("a", "b", "c"), [1, 0, 5], [10, 20, 30], [2, 0, 9], [10, 20, 31]), "OR")
    np.testing.assert_array_equal(got.effects.yi, expected.yi)
    assert _refused(_write(tmp_path, HEADER, "a,0,10,0,10", "b,0,20,0,20")) == (
        "F: every study is double-zero and was dropped: a, b"
    )


# -- optional columns and covariates -----------------------------------------------------------------------------------


def test_year_and_design(tmp_path):
    got = read_study_file(_write(tmp_path, HEADER + ",Year,design", "a,1,10,2,10,1999,RCT", "b,3,20,4,20,2004,NRS"))
    assert got.year == (1999, 2004) and got.design == ("RCT", "NRS")
    assert _refused(_write(tmp_path, HEADER + ",year", "a,1,10,2,10,1999", "b,3,20,4,20,99.5")) == (
        "F, row 3, column 'year': '99.5' is not a year (a whole number 1 to 9999)"
    )


def test_a_missing_covariate_leaves_the_study_out_of_the_regression_only(tmp_path):
    path = _write(tmp_path, HEADER + ",Dose", "a,1,10,2,10,1", "b,3,20,4,20,NA", "c,5,30,9,31,", "d,2,12,3,12,4")
    got = read_study_file(path, covariates=["dose"])
    assert got.k == 4 and got.covariates[0].name == "dose"
    np.testing.assert_array_equal(got.covariates[0].present, [True, False, False, True])
    assert got.notes == ("2 studies without a value of every covariate left out of the meta-regression only: 'b', 'c'",)
    np.testing.assert_allclose(got.covariates[0].standardised()[[0, 3]], [-1 / math.sqrt(2), 1 / math.sqrt(2)])


@pytest.mark.parametrize(
    ("covariate", "message"),
    [
        ("age", "F, row 1, column 'age': covariate 'age' is not a column of the file"),
        ("n_t", "F, row 1, column 'n_t': covariate 'n_t' is a data column, not a covariate"),
        ("year", "F, row 1, column 'year': covariate 'year' is a data column, not a covariate"),
        ("flat", "F, column 'flat': covariate 'flat' takes 1 value(s) over the 2 studies that have every covariate; a "
                 "slope cannot be estimated"),
        ("text", "F, row 2, column 'text': 'high' is not a finite number"),
    ],
)  # fmt: skip
def test_covariate_problems(tmp_path, covariate, message):
    path = _write(
        tmp_path, HEADER + ",year,flat,text", "a,1,10,2,10,1999,2,high", "b,3,20,4,20,2000,2,", "c,5,30,9,31,2001,,"
    )
    assert _refused(path, covariates=[covariate]) == message


def test_covariate_standardisation_needs_two_values():
    assert list(Covariate("x", (0.0, 1.0, math.nan)).standardised()[:2]) == [-0.5, 0.5]  # 0/1: centred only
    with pytest.raises(CovariateError, match="covariate 'x' takes one value only; a slope cannot be estimated"):
        Covariate("x", (3.0, 3.0, math.nan)).standardised()
