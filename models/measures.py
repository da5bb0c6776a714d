"""Effect measures and pooling methods by name: which exist, which are ratios (log scale), which need arm counts.

A module of names only (no imports), so that a command can check ``--measure`` before it loads numpy or pandas.
``HR`` (hazard ratio) is a ratio a paper can report; the toolkit reanalyses it at summary level only (no study-level
layout gives one).
"""

from __future__ import annotations

BINARY_MEASURES = ("OR", "RR", "RD")
"""Measures computed from 2x2 counts: odds ratio, risk ratio, risk difference."""
CONTINUOUS_MEASURES = ("MD", "SMD")
"""Measures computed from means and SDs: mean difference (outcome's units), standardised mean difference (Hedges' g)."""
MEASURES = BINARY_MEASURES + CONTINUOUS_MEASURES
"""Every measure a study file can be analysed in."""
RATIO_MEASURES = ("OR", "RR")
"""Study-level measures analysed on the log scale (log OR, log RR) and reported as ratios."""
SUMMARY_ONLY_MEASURES = ("HR",)
"""Measures a published pooled estimate can be given in but no study file (summary-level reanalysis only)."""
PUBLISHED_MEASURES = MEASURES + SUMMARY_ONLY_MEASURES
"""Measures a published pooled estimate can be given in."""
LOG_SCALE_MEASURES = RATIO_MEASURES + SUMMARY_ONLY_MEASURES
"""Every ratio: analysed on the log scale, reported on the ratio scale."""


def is_ratio(measure: str) -> bool:
    """Whether ``measure`` is a ratio (log scale for the analysis, ratio scale in reports)."""
    return measure in LOG_SCALE_MEASURES


POOLING_METHODS = ("MH", "MH-RevMan", "Peto", "IV", "EE", "DL", "REML", "PM")
"""Frequentist pooling methods (:mod:`models.frequentist.pooling`); ``IV`` is an alias of ``EE``."""
