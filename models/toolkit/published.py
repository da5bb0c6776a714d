"""A published pooled estimate with its 95% interval, read from the ways papers print one.

Accepted (case, spaces and the measure's place do not matter; the measure may instead come from ``--measure``)::

    OR 0.74 [0.55, 0.99]          OR 0.74 (0.55-0.99)          OR 0.74 (95% CI 0.55 to 0.99)
    0.74 (0.55–0.99)              HR = 0.74; 95% CI: 0.55, 0.99    MD −1.2 (−2.0 to −0.4)

Separators between the bounds: a comma, a semicolon, "to", a hyphen or an en/em dash (a hyphen or dash before a
negative bound is read as the separator, then the sign); a Unicode minus sign is a minus. The interval must be a 95%
interval ("95% CI", "95% CrI" or no label); another level is refused rather than misread. Standard library only, so
that a malformed estimate is refused before the numerical stack loads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from models.measures import LOG_SCALE_MEASURES, PUBLISHED_MEASURES, SUMMARY_ONLY_MEASURES

EXAMPLES = "'OR 0.74 [0.55, 0.99]', 'OR 0.74 (95% CI 0.55 to 0.99)' or '0.74 (0.55-0.99)' with --measure OR"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_LEVEL = r"(?P<level>\d+(?:\.\d+)?)\s*%\s*(?:c\.?\s*i\.?|cri|confidence\s+interval|credible\s+interval)?"
_ESTIMATE = re.compile(
    rf"^(?P<measure>[a-z]{{2,3}})?\s*[:=]?\s*(?P<est>{_NUMBER})\s*[,;]?\s*[\[(]?\s*(?:{_LEVEL}\s*[:,]?\s*)?"
    rf"(?P<lo>{_NUMBER})\s*(?:,|;|\bto\b|–|—|-(?=\s*[-+]?[\d.]))\s*(?P<hi>{_NUMBER})\s*[\])]?$",
    re.IGNORECASE,
)
_UNICODE = str.maketrans({"−": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " "})


class SpecError(ValueError):
    """A specification or an option is not usable; the message names it."""


@dataclass(frozen=True)
class PublishedEstimate:
    """A published pooled estimate with its 95% CI, on the reported scale (ratio scale for OR, RR and HR)."""

    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    label: str = "Published"

    def __post_init__(self) -> None:
        if self.measure not in PUBLISHED_MEASURES:
            raise SpecError(f"published measure {self.measure!r} is not one of {', '.join(PUBLISHED_MEASURES)}")
        values = (self.estimate, self.ci_low, self.ci_high)
        if not all(math.isfinite(v) for v in values):
            raise SpecError(f"published estimate and interval must be finite numbers; got {values}")
        if self.is_ratio and min(values) <= 0:
            raise SpecError(f"a published {self.measure} and its interval must be positive; got {values}")
        if not self.ci_low < self.estimate < self.ci_high:
            raise SpecError(f"published interval must hold the estimate: need low < estimate < high; got {values}")

    @property
    def is_ratio(self) -> bool:
        """OR, RR and HR: analysed on the log scale."""
        return self.measure in LOG_SCALE_MEASURES

    @property
    def summary_only(self) -> bool:
        """A measure no study file gives (HR): reanalysed at summary level only."""
        return self.measure in SUMMARY_ONLY_MEASURES

    @classmethod
    def parse(cls, text: str, measure: str | None = None, label: str = "Published") -> PublishedEstimate:
        """Read a published estimate (module docstring); ``measure`` is ``--measure`` (None when not given).

        Raises :class:`SpecError` naming the problem: an unreadable form, a level other than 95%, no measure, or a
        measure in the text that differs from ``measure``.
        """
        cleaned = " ".join(str(text).translate(_UNICODE).split())
        match = _ESTIMATE.match(cleaned)
        if match is None:
            comma = " (decimal commas: write 0.74, not 0,74)" if re.search(r"\d,\d", cleaned) else ""
            raise SpecError(f"published estimate {text!r} is not of a form read here{comma}, e.g. {EXAMPLES}")
        if match["level"] is not None and float(match["level"]) != 95:
            raise SpecError(f"published estimate {text!r}: a {match['level']}% interval; give the 95% interval")
        written = match["measure"].upper() if match["measure"] else None
        if written is not None and written not in PUBLISHED_MEASURES:
            raise SpecError(f"published estimate {text!r}: {written} is not one of {', '.join(PUBLISHED_MEASURES)}")
        if written is not None and measure is not None and written != measure:
            raise SpecError(f"published estimate {text!r} is an {written}, but --measure is {measure}")
        chosen = written or measure
        if chosen is None:
            raise SpecError(f"published estimate {text!r} names no measure: write it first (e.g. 'OR 0.74 "
                            "(0.55-0.99)') or give --measure")  # fmt: skip
        return cls(chosen, float(match["est"]), float(match["lo"]), float(match["hi"]), label)

    def __str__(self) -> str:
        return f"{self.measure} {self.estimate:g} [{self.ci_low:g}, {self.ci_high:g}]"
