"""The MSC job's own prior choice and its reasons (the toolkit's default for a user's data is
:mod:`models.prior_policy`; the presets themselves, with their sources, are in :mod:`models.priors`).

The job reports every tau preset x effect preset of the ratio grid (:data:`models.prior_policy.RATIO_TAU_GRID` x
:data:`models.prior_policy.RATIO_EFFECT_GRID`); the primary pair below is the one its bottom line, hierarchy of
analyses and MCMC fits use.
"""

from __future__ import annotations

PRIMARY_TAU_PRIOR: str = "halfnormal_0.5"
"""Primary heterogeneity prior: ``tau ~ HalfNormal(0.5)`` on the log-OR scale (median 0.34, 95% range 0.02-1.12).

Why not Turner 2015's pharmacological-vs-control mortality prior (median tau 0.14, P(tau > 0.5) about 3%)? It was
derived from Cochrane meta-analyses of one drug against placebo or control. The MSC studies pool cell products from
five tissues, doses spanning a ten-fold range, one to three infusions, patients from moderate disease to ventilated
ARDS, and trial designs from open-label pilots to sham-controlled trials: more between-study variation is expected
than among trials of one drug, and a prior that rules most of it out would make the pooled estimate look more
certain than the studies allow. HalfNormal(0.5) (Friede, Röver et al. 2017; Röver et al. 2021) is the weakly
informative default for log-OR: it allows substantial heterogeneity (P(tau > 0.5) = 0.32) while giving little mass to
values above 1.2. Turner's priors (pharmacological, non-pharmacological, general), HalfNormal(1), HalfCauchy(1) and
the RoBMA inverse-gamma are sensitivity analyses, reported with tau's median and the prediction interval under
each. Applied to log-RR it is the same weakly informative statement on that scale."""

PRIMARY_EFFECT_PRIOR: str = "weakly_informative"
"""Primary effect prior: ``mu ~ Normal(0, 1)`` on the log-OR/log-RR scale."""

PRIMARY_BIAS_PRIOR: str = "nrs_bias"
"""Primary bias model of the randomised + non-randomised analysis: bias of unknown direction,
``Normal(0, 0.5^2)`` on log-OR per non-randomised study. ``nrs_bias_optimistic`` (non-randomised studies overstate
the benefit, ratio of odds ratios 0.8) is the sensitivity analysis; its direction is the one the job's own design
meta-regression shows (the non-randomised studies' pooled OR below the trials'; see the report)."""
