"""The bottom line: the whole answer in at most :data:`MAX_WORDS` words, every sentence made from the run's numbers.

It gives the GRADE plain-language statement for the certainty the rules reached (:mod:`models.msc.grade`), the
primary randomised estimate with P(any benefit) and the absolute effect at the trials' own control risk (with the
caveat that carrying it to other patients assumes the same odds ratio), and, in the same paragraph, the readings of
the same trials that disagree most: the Bayes factor for an effect with the model-averaged probability, the 95%
prediction interval for a new setting, the small-study (PET) adjustment, and the published-totals scenario with its
stated spread and the range across spreads; and whether the later evidence moved the primary answer.

:func:`gather` looks every number up in the run's results by key; :func:`bottom_line` words them. Each number printed
is a field of one ``summary.csv`` row (the test reads it back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.bayes.absolute import IMPORTANT_ARR, AbsoluteEffect
from models.msc.findings import HIERARCHY, Row, fmt_p
from models.msc.grade import plain_language
from models.msc.results import Results
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS
from models.results import Kind, Result

MAX_WORDS = 150

PET = (f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}/small_study_pet", "binomial_normal_pet")
"""The PET-adjusted randomised analysis (analysis, model)."""

TOTALS_PREFIX = f"{EVIDENCE_BASE}/published_totals/"
TOTALS_MODELS = ("binomial_normal_exact_nrs_bias", "binomial_normal_exact")
"""The published-totals scenario's rows: every spread, NRS through the bias model and all pooled as exchangeable."""

BEFORE_PRIMARY = f"{EVIDENCE_BASE}/before_update/{PRIMARY_ANALYSIS}"
"""The primary analysis on the data as the extraction had them (:mod:`models.msc.update`)."""


@dataclass(frozen=True)
class BottomLine:
    """The numbers the bottom line quotes, each a result of the run (absolute effects at the trials' crude control
    risk; ``totals_range`` is P(any benefit) over every spread and model of the published-totals scenario)."""

    primary: Row
    pet: Result | None
    totals: Result | None
    totals_range: tuple[float, float] | None
    n_imputed: int
    before: Result | None

    @property
    def absolute(self) -> AbsoluteEffect:
        return self.primary.absolute


def gather(rows: list[Row], results: Results, n_imputed: int) -> BottomLine | None:
    """The bottom line's numbers from the summary-of-findings rows and the results store (None without the
    primary row)."""
    primary = next((r for r in rows if r.tier == HIERARCHY[0]), None)
    if primary is None:
        return None
    totals = results.get(HIERARCHY[3].analysis_id, HIERARCHY[3].model)
    spread = [r.effect.p_benefit for r in results.select(kinds=(Kind.POOLED,), primary_priors=True)
              if r.key.analysis.startswith(TOTALS_PREFIX) and r.key.model in TOTALS_MODELS]  # fmt: skip
    return BottomLine(primary, results.get(*PET), totals, (min(spread), max(spread)) if spread else None, n_imputed,
                      results.get(BEFORE_PRIMARY, HIERARCHY[0].model))  # fmt: skip


def bayes_factor_words(bf: float) -> str:
    """A Bayes factor for an effect in words a clinician reads correctly (bands of Jeffreys 1961 as in Lee and
    Wagenmakers 2013: 1/3 to 3 is no real evidence either way)."""
    if bf >= 3:
        return f"the data are {bf:.2g} times as likely with an effect as with none (Bayes factor {bf:.2g})"
    if bf > 1 / 3:
        return f"the data are about as likely with no effect as with an effect (Bayes factor {bf:.2g})"
    return f"the data are {1 / bf:.2g} times as likely with no effect as with one (Bayes factor {bf:.2g})"


def _signed(x: float) -> str:
    """'84 fewer' / '22 more' for a difference per 1,000 (rounded to whole deaths)."""
    return f"{abs(x):.0f} {'fewer' if x < 0 else 'more'}"


def bottom_line(line: BottomLine) -> str:
    """The bottom line in words (at most :data:`MAX_WORDS`; see the module docstring)."""
    row, eff = line.primary, line.absolute
    r = row.result
    statement = plain_language(row.certainty.level, eff.difference_median, 1000 * IMPORTANT_ARR)
    text = (
        f"{statement[:-1]} (GRADE: {row.certainty.level} certainty). In {r.k} randomised trials reporting "
        f"deaths ({row.body.participants:,} patients) the odds ratio is {r.effect.median:.2f} (95% CrI "
        f"{r.effect.low:.2f} to {r.effect.high:.2f}), probability of any benefit {fmt_p(r.effect.p_benefit)}: "
        f"{_signed(eff.difference_median)} deaths per 1,000 ({_signed(eff.difference_low)} to "
        f"{_signed(eff.difference_high)}) at the trials' control risk, {eff.control_per_1000:.0f} per 1,000 (other "
        "risks assume the same odds ratio, untested). Readings that disagree:"
    )
    readings = []
    evidence = r.evidence
    if evidence is not None and evidence.bf10_effect is not None:
        averaged = evidence.p_benefit_model_averaged
        words = bayes_factor_words(evidence.bf10_effect)
        if averaged is not None:
            words = words[:-1] + f"; probability of benefit {fmt_p(averaged)} allowing for no effect)"
        readings.append(words)
    if r.prediction is not None and not math.isnan(r.prediction.low):
        readings.append(
            f"the true odds ratio in a new setting could be {r.prediction.low:.2f} to {r.prediction.high:.2f} "
            f"(probability below 1: {fmt_p(r.prediction.p_new_benefit)})"
        )
    if line.pet is not None:
        readings.append(f"after small-study adjustment, probability of benefit {fmt_p(line.pet.effect.p_benefit)}")
    if line.totals is not None and line.totals_range is not None:
        low, high = line.totals_range
        readings.append(
            f"with deaths for the {line.n_imputed} studies without counts imputed from SCRT 2026's totals in "
            f"proportion to arm size, {fmt_p(line.totals.effect.p_benefit)} ({fmt_p(low)} to {fmt_p(high)} across "
            "other spreads)"
        )
    if readings:
        text += " " + "; ".join(readings) + "."
    if line.before is not None:
        before = line.before
        text += (
            f" Later evidence moved it from {before.effect.median:.2f} ({fmt_p(before.effect.p_benefit)})."
            if _moved(before, r)
            else " Later evidence left the randomised result unchanged."
        )
    return text


def _moved(before: Result, now: Result) -> bool:
    """True when the printed numbers differ (OR to 2 decimals, P(any benefit) as printed)."""
    return (f"{before.effect.median:.2f}", fmt_p(before.effect.p_benefit)) != (
        f"{now.effect.median:.2f}", fmt_p(now.effect.p_benefit))  # fmt: skip
