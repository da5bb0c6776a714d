"""What the browser checks count as a word or number broken inside itself (no browser needed)."""

from __future__ import annotations

import pytest

from models.report.browser import is_mid_token, is_number


@pytest.mark.parametrize(
    ("before", "after", "inside"),
    [
        ("0.94", "7", True),  # the "0.94 / 7"
        ("0.", "947", True),
        ("42/", "112", True),
        ("mortali", "ty", True),
        ("Randomi", "sed", True),
        ("placebo/sham-", "controlled", False),  # after a hyphen: between the parts of a compound
        ("fits/", "evidence", False),  # after a slash between words (file names)
        ("binomial_", "normal", False),
        ("[", "0.35,", False),
    ],
)
def test_a_break_is_inside_a_token_only_between_letters_digits_or_a_numbers_parts(before, after, inside):
    assert is_mid_token(before, after) is inside


@pytest.mark.parametrize(
    ("token", "number"),
    [("0.947", True), ("[-170,", True), ("1,095", True), ("42/112", True), ("12%", True), ("1.11])", True),
     ("tang2024", False), ("sf36", False), ("OR", False)],
)  # fmt: skip
def test_numbers_are_told_from_identifiers_with_digits(token, number):
    assert is_number(token) is number
