"""Which layout a study file has and what its columns may hold: the accepted spellings of every layout, the label
column, the measure policy, the header messages and the range of each data column (all stated in
:mod:`models.reader`)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from difflib import get_close_matches

from models.effects import BINARY_MEASURES, CONTINUOUS_MEASURES, MEASURES, RATIO_MEASURES
from models.reader.sheet import Limits, Rule, Sheet, StudyFileError, show

LAYOUTS: dict[str, tuple[str, ...]] = {
    "2x2": ("study", "e_t", "n_t", "e_c", "n_c"),
    "continuous": ("study", "n_t", "mean_t", "sd_t", "n_c", "mean_c", "sd_c"),
    "effects": ("study", "yi", "vi"),
    "effects_ci": ("study", "estimate", "ci_low", "ci_high"),
}
"""The project's own spelling of each layout (every accepted spelling: :data:`SPELLINGS`)."""

MEASURES_OF: dict[str, tuple[str, ...]] = {
    "2x2": BINARY_MEASURES,
    "continuous": CONTINUOUS_MEASURES,
    "effects": MEASURES,
    "effects_ci": MEASURES,
}
DEFAULT_MEASURE: dict[str, str] = {"2x2": "OR", "continuous": "SMD"}
"""The measure when none is given; the effects layouts have none (the measure must be given)."""

LABEL_COLUMNS = (
    "study", "studlab", "slab", "label", "author", "authors", "trial", "name", "id", "study_id", "source", "citation",
    "reference",
)  # fmt: skip
"""Names of the study label column, in order of preference (matched ignoring case)."""
OPTIONAL_COLUMNS = ("year", "design")
DESCRIPTION = {"2x2": "2x2", "continuous": "continuous", "effects": "effects", "effects_ci": "estimate-with-CI"}


@dataclass(frozen=True)
class Spelling:
    """One accepted set of column names of a layout: ``names`` in the file (lower case) hold ``roles``."""

    layout: str
    roles: tuple[str, ...]
    names: tuple[str, ...]
    origin: str


_CONTINUOUS = LAYOUTS["continuous"][1:]
SPELLINGS: tuple[Spelling, ...] = (
    Spelling("2x2", ("e_t", "n_t", "e_c", "n_c"), ("e_t", "n_t", "e_c", "n_c"), "this project"),
    Spelling("2x2", ("e_t", "n_t", "e_c", "n_c"), ("ai", "n1i", "ci", "n2i"), "metafor"),
    Spelling("2x2", ("e_t", "b_t", "e_c", "b_c"), ("ai", "bi", "ci", "di"), "metafor"),
    Spelling("2x2", ("e_t", "n_t", "e_c", "n_c"), ("event.e", "n.e", "event.c", "n.c"), "meta"),
    Spelling("continuous", _CONTINUOUS, _CONTINUOUS, "this project"),
    Spelling("continuous", _CONTINUOUS, ("n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i"), "metafor"),
    Spelling("continuous", _CONTINUOUS, ("n.e", "mean.e", "sd.e", "n.c", "mean.c", "sd.c"), "meta"),
    Spelling("effects", ("yi", "vi"), ("yi", "vi"), "this project, metafor"),
    Spelling("effects", ("yi", "sei"), ("yi", "sei"), "metafor"),
    Spelling("effects", ("yi", "sei"), ("te", "sete"), "meta"),
    Spelling("effects_ci", ("estimate", "ci_low", "ci_high"), ("estimate", "ci_low", "ci_high"), "this project"),
)
"""Every accepted spelling, in the order they are tried."""

_COUNTS = frozenset({"e_t", "n_t", "e_c", "n_c", "b_t", "b_c"})


_LAYOUTS_TEXT = (
    "2x2 study,e_t,n_t,e_c,n_c (metafor: ai,n1i,ci,n2i or ai,bi,ci,di); continuous "
    "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c (metafor: m1i,sd1i,n1i,m2i,sd2i,n2i); effects study,yi,vi (or yi,sei); "
    "estimate with 95% CI study,estimate,ci_low,ci_high"
)


def closest(columns: dict[str, int], sheet: Sheet) -> str:
    """What is close to a layout in a header that matches none: the spelling with most of its columns present."""
    if len(columns) <= 1:
        return (
            "the header has one column only (is the file separated by something other than commas, semicolons or "
            "tabs? Save it as CSV)"
        )
    best = max(SPELLINGS, key=lambda s: sum(n in columns for n in s.names) / len(s.names))
    if not any(n in columns for n in best.names):
        return "no column name of any layout is present"
    missing = [n for n in best.names if n not in columns]
    unused = {k: sheet.header[i] for k, i in columns.items() if k not in best.names and k not in LABEL_COLUMNS}
    guesses = []
    for name in missing:
        match = get_close_matches(name, list(unused), n=1, cutoff=0.6)
        if match:
            guesses.append(f"{show(unused[match[0]])} for {name}")
    did_you_mean = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    spelled = ",".join(best.names)
    return f"closest is {DESCRIPTION[best.layout]} ({spelled}), which lacks {', '.join(missing)}{did_you_mean}"


def detect(columns: dict[str, int], sheet: Sheet) -> tuple[Spelling, str]:
    """The spelling the header holds, and the name of its label column."""
    spelling = next((s for s in SPELLINGS if all(n in columns for n in s.names)), None)
    if spelling is None:
        raise sheet.error(1, None, f"the header matches no layout: {closest(columns, sheet)}; layouts: {_LAYOUTS_TEXT}")
    label = next((c for c in LABEL_COLUMNS if c in columns), None)
    if label is None:
        raise sheet.error(
            1, None, f"the header has the {DESCRIPTION[spelling.layout]} columns {','.join(spelling.names)} but no "
            f"study label column (name one of: {', '.join(LABEL_COLUMNS)})"
        )  # fmt: skip
    return spelling, label


def measure_of(layout: str, measure: str | None, name: str) -> str:
    allowed = MEASURES_OF[layout]
    kind = DESCRIPTION[layout]
    article = "an" if kind[0] in "ae" else "a"
    if measure is None:
        if layout in DEFAULT_MEASURE:
            return DEFAULT_MEASURE[layout]
        raise StudyFileError(
            name, None, None, f"{article} {kind} file does not say its measure: give one of {', '.join(allowed)} "
            "(fit, pool: --measure; batch: the manifest's measure column)"
        )  # fmt: skip
    if measure not in allowed:
        raise StudyFileError(
            name, None, None, f"measure {measure} does not fit {article} {kind} file (use {', '.join(allowed)})"
        )
    return measure


@functools.lru_cache(maxsize=64)
def rules_of(roles: tuple[str, ...], measure: str, limits: Limits) -> dict[str, Rule]:
    """The range of each data column for ``measure`` (stated in :mod:`models.reader`)."""
    bound, raw, effect = limits.effect_bound(measure), limits.max_raw, limits.max_effect
    vlo, vhi = limits.vi_bounds(measure)
    scale = f"on the {'log ' if measure in RATIO_MEASURES else ''}{measure} scale"
    if measure in RATIO_MEASURES:
        ci = Rule(False, math.exp(-effect), math.exp(effect), f"positive, |log| <= {effect:g}")
    else:
        ci = Rule(False, -bound, bound, f"|value| <= {bound:g}")
    mean, sd = Rule(False, -raw, raw, f"|mean| <= {raw:g}"), Rule(False, 0.0, raw, f"0 < SD <= {raw:g}", True)
    rules = {
        "mean_t": mean,
        "mean_c": mean,
        "sd_t": sd,
        "sd_c": sd,
        "yi": Rule(False, -bound, bound, f"|yi| <= {bound:g} {scale}"),
        "vi": Rule(False, vlo, vhi, f"{vlo:g} <= vi <= {vhi:g}"),
        "sei": Rule(False, math.sqrt(vlo), math.sqrt(vhi), f"{math.sqrt(vlo):g} <= sei <= {math.sqrt(vhi):g}"),
        "estimate": ci,
        "ci_low": ci,
        "ci_high": ci,
    }
    return {role: Rule(True) if role in _COUNTS else rules[role] for role in roles}
