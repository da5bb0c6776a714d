"""What a reanalysis is about: one small frozen specification (a published estimate: models.toolkit.published).

A :class:`MetaAnalysisSpec` holds the study data (an effect table always; arm counts when the file had them), the
measure, which direction is a benefit and what the two arms are called, an optional published pooled estimate, and
optional per-study year, design and covariates. Nothing in it is specific to one clinical question: the labels come
from the user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.bayes.absolute import ControlRisk, crude_control_risk
from models.effects import MEASURES, RATIO_MEASURES, EffectTable
from models.priors import EffectPrior, TauPrior
from models.reader import Covariate
from models.results import Direction
from models.tables import BinaryTable
from models.toolkit.published import PublishedEstimate, SpecError


@dataclass(frozen=True)
class MetaAnalysisSpec:
    """One meta-analysis to reanalyse.

    Attributes
    ----------
    title : str
        Names the analysis in the report (e.g. the file name).
    effects : EffectTable
        Per-study effects on the analysis scale (log for OR/RR) with their variances.
    counts : BinaryTable or None
        Arm counts when the data were 2x2; the binomial-normal model is fitted on them.
    higher_is_benefit : bool
        False when an effect below the null (OR < 1, MD < 0) is a benefit (deaths, pain); True otherwise.
    arms : (str, str)
        What the experimental and the control arm are called (``--favours "MSC,control"``).
    tau_prior, effect_prior : TauPrior, EffectPrior
        The primary priors (the MCMC fits, the bottom line, leave-one-out and cumulative analyses use them).
    important : float or None
        The smallest important effect on the reported scale (e.g. OR 0.8): the report gives P(effect beyond it).
    published : PublishedEstimate or None
        The paper's pooled estimate, reanalysed at summary level and drawn on the figures.
    year, design : tuple or None
        Per study, in the order of :attr:`study`; ``year`` orders the cumulative analysis.
    covariates : tuple of Covariate
        Numeric study-level covariates for meta-regression (NaN where a study has no value: it is left out of the
        meta-regression only).
    published_fixed_effect : bool
        The published CI came from a fixed-effect model over the file's studies: the summary-level reanalysis is also
        run with the between-study variance added back (tau^2/k, tau from its prior).
    source : str
        Where the data come from (the study file's name), written in every result's ``source`` column.
    control_risks : tuple of ControlRisk
        Control-arm risks stated by the user (``--control-risk``) at which absolute effects are given, besides the
        crude control risk of the data (see :attr:`absolute_control_risks`).
    notes : tuple of str
        What the reader did to the data, one line each (:attr:`models.reader.StudyFile.notes`: how the file was
        read, studies renamed or dropped); the outputs print them.
    """

    title: str
    effects: EffectTable
    measure: str
    tau_prior: TauPrior
    effect_prior: EffectPrior
    counts: BinaryTable | None = None
    higher_is_benefit: bool = False
    arms: tuple[str, str] = ("treatment", "control")
    important: float | None = None
    published: PublishedEstimate | None = None
    year: tuple[int, ...] | None = None
    design: tuple[str, ...] | None = None
    covariates: tuple[Covariate, ...] = ()
    control_risks: tuple[ControlRisk, ...] = ()
    published_fixed_effect: bool = False
    notes: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise SpecError(f"measure {self.measure!r} is not one of {', '.join(MEASURES)}")
        if self.effects.measure != self.measure:
            raise SpecError(f"the effect table's measure {self.effects.measure} differs from measure {self.measure}")
        if len(self.arms) != 2 or not all(str(a).strip() for a in self.arms):
            raise SpecError(f"arms must be two non-empty names; got {self.arms!r}")
        for name in ("year", "design"):
            values = getattr(self, name)
            if values is not None and len(values) != self.k:
                raise SpecError(f"{name} has {len(values)} values for {self.k} studies")
        for cov in self.covariates:
            if len(cov.values) != self.k:
                raise SpecError(f"covariate {cov.name!r} has {len(cov.values)} values for {self.k} studies")
        if self.important is not None and (
            not math.isfinite(self.important) or (self.is_ratio and self.important <= 0)
        ):
            raise SpecError(
                f"important effect must be a finite number (positive for {self.measure}); got {self.important}"
            )
        if self.published_fixed_effect and self.published is None:
            raise SpecError("--published-fixed-effect needs --published (the estimate whose CI is fixed-effect)")
        if self.published is not None and self.published.measure != self.measure:
            raise SpecError(
                f"the published estimate is a {self.published.measure}, the analysis a {self.measure}; "
                f"give --measure {self.published.measure} or a published {self.measure}"
            )

    @property
    def k(self) -> int:
        """Number of studies (with counts: all of them, double-zero studies included)."""
        return len(self.study)

    @property
    def is_ratio(self) -> bool:
        return self.measure in RATIO_MEASURES

    @property
    def study(self) -> tuple[str, ...]:
        """Study labels: the count table's when there is one (it keeps double-zero studies), else the effects'."""
        return self.counts.study if self.counts is not None else self.effects.study

    @property
    def favours(self) -> tuple[str, str]:
        """Who an effect below / above the null favours (left, right of a forest plot's axis)."""
        treatment, control = self.arms
        return (control, treatment) if self.higher_is_benefit else (treatment, control)

    @property
    def absolute_control_risks(self) -> tuple[ControlRisk, ...]:
        """The control risks of the absolute effects: the crude risk of the pooled control arms (2x2 data), then the
        user's. None for continuous measures, and none when higher is benefit (the absolute effects count events
        avoided, so they are defined for harmful events such as deaths)."""
        if not self.is_ratio or self.higher_is_benefit:
            return ()
        crude: tuple[ControlRisk, ...] = ()
        if self.counts is not None and 0 < self.counts.e_c.sum() < self.counts.n_c.sum():
            e_c, n_c = float(self.counts.e_c.sum()), float(self.counts.n_c.sum())
            crude = (crude_control_risk(e_c, n_c, key="crude", label="crude risk of the pooled control arms",
                                        source=f"{e_c:,.0f} of {n_c:,.0f} control patients in the data"),)  # fmt: skip
        return crude + self.control_risks

    @property
    def direction(self) -> Direction:
        """The direction and important threshold of this analysis."""
        return Direction(self.measure, self.higher_is_benefit, self.important)
