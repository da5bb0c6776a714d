"""The rules of ``outcomes_binary.csv`` added with the later evidence: structured time points, what each variant is,
whom a row counts and what the MSC arm received (the multi-arm rule), checked on load.

Each check raises :class:`~models.validation.DataValidationError` at the first offending cell (file, row, column).
The vocabularies are stated in ``data/README.md``.
"""

from __future__ import annotations

import pandas as pd

from models.validation import check_grades, check_labels, fail_where, parse_integers

OUTCOMES = "outcomes_binary.csv"
ARMS = ("msc", "control")
PRIMARY = "primary"
PRODUCTS = ("cells", "extracellular vesicles", "secretome", "exosomes")
POPULATIONS = ("covid-19", "ards-any-cause")
TIMEPOINT_CLASSES = ("day", "in-hospital", "icu", "end of follow-up", "not stated")
VARIANT_KINDS = ("primary", "time point", "conflicting value", "arm choice")
MSC_ARM_PRODUCTS = ("cells", "cells + vesicles", "cells with or without vesicles", "vesicles")
PRIMARY_ARM_OF_PRODUCT = {"cells": "cells", "extracellular vesicles": "vesicles"}
"""What the primary MSC arm must have received, by the study's product (multi-arm rule: cells alone)."""


def check_timepoints(raw: pd.DataFrame) -> pd.Series:
    """The structured time point: required on every mortality row, optional elsewhere, and consistent when given.

    ``day`` needs its days; ``not stated`` has no days and grade NF; every other class may give days; a class has a
    grade and a grade has a class. Returns ``timepoint_days`` as numbers (NaN where empty).
    """
    f = OUTCOMES
    days = parse_integers(raw, f, "timepoint_days", minimum=1)
    klass, grade = raw["timepoint_class"], raw["timepoint_grade"]
    mortality = raw["outcome"] == "mortality"
    fail_where(mortality & klass.isna(), f, "timepoint_class",
               lambda _: "every mortality row needs a structured time point (day, in-hospital, icu, "
                         "end of follow-up or not stated)")  # fmt: skip
    check_labels(raw, f, "timepoint_class", TIMEPOINT_CLASSES, required=False)
    fail_where((klass == "day") & days.isna(), f, "timepoint_days",
               lambda _: "timepoint_class 'day' needs timepoint_days")  # fmt: skip
    fail_where((klass == "not stated") & days.notna(), f, "timepoint_days",
               lambda _: "a time point that is not stated has no days")  # fmt: skip
    fail_where(klass.isna() & days.notna(), f, "timepoint_class",
               lambda _: "timepoint_days is given without a timepoint_class")  # fmt: skip
    fail_where(klass.notna() != grade.notna(), f, "timepoint_grade",
               lambda _: "a structured time point and its grade are given together or not at all")  # fmt: skip
    check_grades(raw, f, "timepoint_grade", required=False)
    not_found = grade.notna() & grade.fillna("").str.match(r"NF\b")
    fail_where(not_found != (klass == "not stated"), f, "timepoint_grade",
               lambda i: "timepoint_grade is NF exactly when the time point is 'not stated'")  # fmt: skip
    return days


def check_variant_kinds(raw: pd.DataFrame) -> None:
    """``variant_kind`` says what a variant is; ``primary`` exactly for the primary rows; a ``time point`` variant is
    counted at another time point than its study's primary row."""
    f = OUTCOMES
    check_labels(raw, f, "variant_kind", VARIANT_KINDS)
    is_primary = raw["variant"] == PRIMARY
    fail_where(is_primary != (raw["variant_kind"] == PRIMARY), f, "variant_kind",
               lambda i: f"variant_kind is 'primary' exactly for the primary variant (variant "
                         f"{raw['variant'].iloc[i]!r}, kind {raw['variant_kind'].iloc[i]!r})")  # fmt: skip
    primary_label = raw[is_primary].groupby(["study_id", "outcome"])["timepoint"].agg(set)
    same = pd.Series([
        k == "time point" and t in primary_label.get((s, o), set())
        for s, o, t, k in raw[["study_id", "outcome", "timepoint", "variant_kind"]].to_numpy()
    ])  # fmt: skip
    fail_where(same, f, "timepoint",
               lambda i: f"a 'time point' variant must be counted at another time point than the primary row "
                         f"({raw['timepoint'].iloc[i]!r})")  # fmt: skip


def check_rows_population_and_arm(raw: pd.DataFrame) -> None:
    """``population`` is a known label on every row; ``msc_arm_product`` is given on msc rows, empty on control rows."""
    f = OUTCOMES
    check_labels(raw, f, "population", POPULATIONS)
    check_labels(raw, f, "msc_arm_product", MSC_ARM_PRODUCTS, required=False)
    is_msc = raw["arm"] == "msc"
    fail_where(is_msc & raw["msc_arm_product"].isna(), f, "msc_arm_product",
               lambda _: "the msc arm must say what it received (cells, cells + vesicles, ...)")  # fmt: skip
    fail_where(~is_msc & raw["msc_arm_product"].notna(), f, "msc_arm_product",
               lambda _: "only the msc arm has an msc_arm_product; leave it empty on the control arm")  # fmt: skip


def check_outcomes_against_studies(outcomes: pd.DataFrame, studies: pd.DataFrame) -> None:
    """Rules that join the two files: what the primary MSC arm received, and whom a row counts.

    * multi-arm rule: the primary MSC arm of a cell study received cells alone (``msc_arm_product`` = ``cells``); of a
      vesicle study, vesicles; other arms enter only as named variants;
    * a row counts the study's population, or the COVID-19 subgroup of a study of ARDS of any cause.
    """
    f = OUTCOMES
    product = outcomes["study_id"].map(studies["product"])
    needed = product.map(PRIMARY_ARM_OF_PRODUCT)
    primary_msc = (outcomes["variant"] == PRIMARY) & (outcomes["arm"] == "msc")
    fail_where(
        primary_msc & needed.notna() & (outcomes["msc_arm_product"] != needed),
        f,
        "msc_arm_product",
        lambda i: (
            f"the primary msc arm of {outcomes['study_id'].iloc[i]!r} (product {product.iloc[i]}) must be "
            f"{needed.iloc[i]!r}, not {outcomes['msc_arm_product'].iloc[i]!r}: an arm adding another product enters "
            "as a named variant"
        ),
    )
    enrolled = outcomes["study_id"].map(studies["population"])
    fail_where(
        (outcomes["population"] != enrolled) & (outcomes["population"] != "covid-19"),
        f,
        "population",
        lambda i: (
            f"{outcomes['study_id'].iloc[i]!r} enrolled {enrolled.iloc[i]}: a row counts that population or its "
            f"covid-19 subgroup, not {outcomes['population'].iloc[i]!r}"
        ),
    )
