"""The evidence published after the extraction, and what it changes: mortality by time point, and the hierarchy's
rows on the data as the extraction had them ("before the update").

The extraction (data/README.md) held SCRT 2026's 24 candidate studies. The later evidence added three studies
(Pochon 2023 without death counts; the STAT trial and Lightner 2023, both excluded by the inclusion rules), Qin
2024's pooled risk ratios at days 28, 60 and 90, structured time points, and death counts for one study that had
none (:data:`LATER_COUNTS`). "Before the update" is therefore computed, not remembered: the evidence base restricted to
the extraction's studies, with the later counts unknown again.
"""

from __future__ import annotations

from dataclasses import replace

from models.msc.evidence import totals_spreads
from models.msc.priors import PRIMARY_BIAS_PRIOR
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS, StudySet, timepoint_sets
from models.msc.state import Run, set_context
from models.priors import BIAS_PRESETS
from models.results import ResultKey

LATER_COUNTS = ("gregoire2022",)
"""Studies of the extraction whose death counts came with the later evidence (data/README.md, "Later evidence":
Grégoire 2022's deaths at days 28 and 60 from its abstract's survival percentages). Every other death count of the
extraction's studies is unchanged."""

BEFORE = f"{EVIDENCE_BASE}/before_update"
"""Prefix of the results computed on the data as the extraction had them."""

BEFORE_ROWS = (
    (PRIMARY_ANALYSIS, f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact", False),
    ("all", f"{EVIDENCE_BASE}/all", "binomial_normal_exact", False),
    ("nrs_bias", f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact", True),
)
"""(name, the analysis now, model, with the bias model) of each row recomputed before the update; the published-totals
row is recomputed with its totals (:func:`before_update`)."""


def extraction_studies(run: Run) -> tuple[str, ...]:
    """The studies the extraction held: SCRT 2026's 24 candidates."""
    return run.dataset.analysis_set("scrt2026", "mortality").best_studies


def new_studies(run: Run) -> tuple[str, ...]:
    """Studies of the data that the extraction did not hold (added with the later evidence), in studies.csv order."""
    held = set(extraction_studies(run))
    return tuple(s for s in run.dataset.studies.index if s not in held)


def by_timepoint(run: Run) -> None:
    """The primary randomised set with each trial's deaths at day 28 or the nearest time point, and at its longest
    follow-up (:func:`models.msc.specs.timepoint_sets`), exact binomial-normal under the primary priors.

    The published comparison (Qin 2024's risk ratios) is reported beside them, not attached to these odds-ratio
    results."""
    tp, ep = run.primary()
    for s in timepoint_sets(run.dataset):
        run.result.timepoints[s.key] = s
        post = run.posterior(s.table)
        run.add(post, ResultKey(s.key, "binomial_normal_exact", tp.key, ep.key),
                replace(set_context(s), published=None), higher_is_benefit=s.higher_is_benefit,
                log_evidence=post.log_evidence)  # fmt: skip


def _before(s: StudySet, held: set[str]) -> StudySet:
    keep = [x for x in s.table.study if x in held and x not in LATER_COUNTS]
    unknown = tuple(x for x in s.missing if x in held) + tuple(x for x in s.table.study if x in LATER_COUNTS)
    return replace(s, key=f"{BEFORE}/{s.analysis}", table=s.table.subset(keep), missing=unknown,
                   title=f"Before the later evidence: {s.title}")  # fmt: skip


def before_update(run: Run) -> None:
    """The primary, all-studies, bias-model and published-totals rows on the data as the extraction had them (its
    studies only, :data:`LATER_COUNTS` unknown), exact binomial-normal under the primary priors, stored under
    ``evidence_base/before_update/...`` beside the rows computed on today's data."""
    tp, ep = run.primary()
    held = set(extraction_studies(run))
    bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR]
    for name, now, model, with_bias in BEFORE_ROWS:
        s = _before(run.sets[now if not with_bias else f"{EVIDENCE_BASE}/all"], held)
        post = run.posterior(s.table, bias if with_bias else None)
        context = replace(set_context(s), title=s.title + (" (NRS through the bias model)" if with_bias else ""),
                          parent=now)  # fmt: skip
        run.add(post, ResultKey(f"{BEFORE}/{name}", model, tp.key, ep.key), context, higher_is_benefit=False,
                log_evidence=post.log_evidence)  # fmt: skip
    scrt = _before(run.sets["scrt2026/mortality"], held)
    _, spreads = totals_spreads(run, scrt.table, scrt.missing)
    post = run.posterior(spreads[0].table, bias)
    context = replace(set_context(scrt), title="Before the later evidence: all SCRT 2026 candidates, deaths in "
                      "proportion to arm size from its totals", studies=tuple(spreads[0].table.study), missing=(),
                      parent=f"{EVIDENCE_BASE}/published_totals/proportional")  # fmt: skip
    run.add(post, ResultKey(f"{BEFORE}/published_totals", "binomial_normal_exact_nrs_bias", tp.key, ep.key), context,
            higher_is_benefit=False, log_evidence=post.log_evidence)  # fmt: skip
