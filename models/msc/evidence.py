"""The analyses of the evidence base's hierarchy: randomised first, non-randomised studies only through a bias model,
the deaths the published totals imply for the studies without counts, absolute effects with Bayes factors, and
small-study effects. One function per kind, on the run's shared state (:class:`models.msc.state.Run`).
"""

from __future__ import annotations

from dataclasses import replace

from models.bayes.absolute import ControlRisk, crude_control_risk
from models.bayes.model_averaging import average_binomial
from models.bayes.small_study import KINDS, small_study_comparison
from models.effects import escalc
from models.frequentist.bias import egger_lm, harbord, peters
from models.msc import figures as figs
from models.msc.absolute import RECOVERY_OXYGEN, RECOVERY_VENTILATED
from models.msc.missing import missing_arm_sizes
from models.msc.priors import PRIMARY_BIAS_PRIOR, PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.records import Adjustment, BiasTest, SmallStudy
from models.msc.specs import BINARY_TAU_PRESETS, EFFECT_PRESETS_GRID, EVIDENCE_BASE, PRIMARY_ANALYSIS, StudySet
from models.msc.state import Run, crude_control, direction, set_context
from models.msc.totals import Allocation, ImpliedDeaths, TotalsScenario, allocations, implied_missing_deaths
from models.priors import BIAS_PRESETS, effect_prior, tau_prior
from models.report.funnel import funnel_plot
from models.results import Kind, McmcCheck, Method, ResultKey
from models.results.summarise import at_control_risk, evidence_of
from models.tables import BinaryTable

SCRT_TOTALS = {"risk_t": 0.264, "risk_c": 0.319, "n_published": 1080}
"""Crude mortality of all 24 studies printed in the SCRT 2026 abstract (data/published.csv, scrt2026 mortality note):
MSC 26.4% vs control 31.9%, n = 1,080."""


def design_bias(run: Run, base: StudySet) -> None:
    """RCT + NRS with each NRS's additive bias integrated out (:data:`models.priors.BIAS_PRESETS`), over the prior
    grid for the primary bias prior; and the control-arm parametrisation of the binomial-normal model."""
    context = set_context(base)
    for key, bias in BIAS_PRESETS.items():
        variant = replace(context, title=f"RCT + NRS, NRS through a bias model: {bias}")
        for tk in BINARY_TAU_PRESETS:
            for ek in EFFECT_PRESETS_GRID:
                if key != PRIMARY_BIAS_PRIOR and (tk, ek) != (PRIMARY_TAU_PRIOR, PRIMARY_EFFECT_PRIOR):
                    continue
                post = run.posterior(base.table, bias, tp=tau_prior(tk), ep=effect_prior(ek))
                run.add(post, ResultKey(f"{base.document}/{key}", "binomial_normal_exact", tk, ek), variant,
                        higher_is_benefit=base.higher_is_benefit, log_evidence=post.log_evidence)  # fmt: skip
    tp, ep = run.primary()
    for analysis in (PRIMARY_ANALYSIS, "all"):
        s = run.sets[f"{EVIDENCE_BASE}/{analysis}"]
        post = run.posterior(s.table, parametrisation="control")
        run.add(post, ResultKey(s.key, "binomial_normal_exact_control_arm", tp.key, ep.key), set_context(s),
                higher_is_benefit=s.higher_is_benefit)  # fmt: skip


def set_bias_model(run: Run, s: StudySet) -> None:
    """A published analysis's studies with known counts with its non-randomised studies through the bias model
    (exact, primary priors): the reading of its set that the pre-specified hierarchy puts first. Sets without
    non-randomised studies get none (the plain binomial-normal result is that reading)."""
    design = run.dataset.studies["design"]
    if not any(design.get(x) == "NRS" for x in s.table.study):
        return
    tp, ep = run.primary()
    post = run.posterior(s.table, BIAS_PRESETS[PRIMARY_BIAS_PRIOR])
    context = replace(set_context(s), title=f"{s.title}, non-randomised studies through the bias model")
    run.add(post, ResultKey(s.key, "binomial_normal_exact_nrs_bias", tp.key, ep.key), context,
            higher_is_benefit=s.higher_is_benefit, log_evidence=post.log_evidence)  # fmt: skip


def totals_spreads(run: Run, known: BinaryTable, missing: tuple[str, ...]) -> tuple[ImpliedDeaths, list[Allocation]]:
    """The deaths SCRT 2026's published crude totals imply for the studies ``missing`` (given the studies with counts
    ``known``), and their spreads over those studies (:func:`models.msc.totals.allocations`, proportional first)."""
    sizes = missing_arm_sizes(run.dataset, "mortality", missing)
    if sizes is None:
        raise ValueError(f"arm sizes unknown for some of {', '.join(missing)}")
    n_t, n_c = sizes
    implied = implied_missing_deaths(known, n_t, n_c, **SCRT_TOTALS)
    return implied, allocations(known, missing, n_t, n_c, implied.deaths_t, implied.deaths_c)


def published_totals(run: Run) -> None:
    """The deaths implied in the studies without counts by SCRT 2026's published crude totals, spread over those
    studies in several ways (:mod:`models.msc.totals`), each added to the studies with counts.

    The totals are SCRT 2026's, so the studies are its 24 candidates (``scrt2026/mortality``), not the evidence base,
    which may hold studies published since. The imputed deaths are recorded as imputed (``TotalsScenario.imputed``):
    they are not published deaths, and the certainty rules treat them so."""
    scrt = run.sets["scrt2026/mortality"]
    base = replace(run.sets[f"{EVIDENCE_BASE}/all"], table=scrt.table, missing=scrt.missing)
    if missing_arm_sizes(run.dataset, "mortality", base.missing) is None:
        return
    implied, spreads = totals_spreads(run, base.table, base.missing)
    tp, ep = run.primary()
    bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR]
    run.result.totals = TotalsScenario(implied, tuple(alloc.key for alloc in spreads), spreads[0].table, base.missing)
    context = replace(set_context(base), control=crude_control(scrt))
    for alloc in spreads:
        for model, b in (("binomial_normal_exact_nrs_bias", bias), ("binomial_normal_exact", None)):
            post = run.posterior(alloc.table, b)
            how = "NRS through the bias model" if b is not None else "all 24 exchangeable, as SCRT 2026 pooled"
            variant = replace(context, title=f"All 24 studies, published-totals scenario: {alloc.label} ({how})",
                              studies=tuple(alloc.table.study), missing=())  # fmt: skip
            run.add(post, ResultKey(f"{base.document}/published_totals/{alloc.key}", model, tp.key, ep.key), variant,
                    higher_is_benefit=base.higher_is_benefit, log_evidence=post.log_evidence)  # fmt: skip


def control_risks(run: Run) -> tuple[ControlRisk, ...]:
    """The stated control risks of the absolute effects: the randomised trials' crude control risk and two RECOVERY
    usual-care risks (on oxygen; ventilated)."""
    rct = run.sets[f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}"].table
    crude = crude_control_risk(
        rct.e_c.sum(), rct.n_c.sum(), key="rct_crude", label="crude control risk of the randomised trials",
        source=f"{int(rct.e_c.sum())} of {int(rct.n_c.sum())} control patients in the {rct.k} RCTs with counts",
    )  # fmt: skip
    return (crude, RECOVERY_OXYGEN, RECOVERY_VENTILATED)


def primary_summaries(run: Run) -> None:
    """Bayes factors and the model-averaged effect, and absolute effects at stated control risks, for the primary
    analysis and the analyses the bottom line quotes (each an ``ABSOLUTE`` result beside its pooled result)."""
    bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR]
    targets = [
        (f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}", "binomial_normal_exact", None, None),
        (f"{EVIDENCE_BASE}/rct_blinded", "binomial_normal_exact", None, None),
        (f"{EVIDENCE_BASE}/nrs_bias", "binomial_normal_exact", bias, None),
        (f"{EVIDENCE_BASE}/all", "binomial_normal_exact", None, None),
    ]
    if run.result.totals is not None:
        targets.append((f"{EVIDENCE_BASE}/published_totals/proportional", "binomial_normal_exact_nrs_bias", bias,
                        run.result.totals.proportional))  # fmt: skip
    tp, ep = run.primary()
    controls = control_risks(run)
    all_studies = run.sets[f"{EVIDENCE_BASE}/all"]
    for analysis, model, b, table in targets:
        pooled = run.results.get(analysis, model)
        if pooled is None:
            continue
        s = run.sets.get(analysis, all_studies)
        post = run.posterior(s.table if table is None else table, b)
        averaged = average_binomial(post.lik, tp, ep, random_effects=post)
        run.result.averaging[analysis] = averaged
        evidence = evidence_of(averaged, pooled.evidence.log_evidence, direction("OR", s.higher_is_benefit))
        pooled = run.results.update(pooled.key, evidence=evidence)
        for control in controls:
            key = ResultKey(f"{analysis}/absolute_at_{control.key}", model, tp.key, ep.key)
            title = (f"{pooled.context.title}: at a control risk of {1000 * control.risk:.0f} per 1,000 "
                     f"({control.label})")  # fmt: skip
            run.results.add(at_control_risk(pooled, post, control, key=key, title=title))


def small_study(run: Run) -> None:
    """Small-study effects: Egger (t form), Peters and Harbord tests, a contour-enhanced funnel plot, and the Bayesian
    PET/PEESE adjustment inside the binomial-normal model (MCMC; slope prior Normal(0, 1) per unit SE), for the
    randomised trials and for all studies with counts."""
    tp, ep = run.primary()
    for analysis in (PRIMARY_ANALYSIS, "all"):
        s = run.sets[f"{EVIDENCE_BASE}/{analysis}"]
        files: dict[str, str] = {}

        def fitter(table, tau_p, effect_p, *, seed: int, covariates=None, s: StudySet = s, files=files, **kw):
            kind = "unadjusted" if covariates is None else "_".join(covariates.columns)
            saved = run.policy.fit(table, tau_p, effect_p, covariates=covariates, label=f"{s.key} small-study {kind}",
                                   name=f"{s.file_stem}__small_study__{kind}", **kw)  # fmt: skip
            files[kind] = saved.path
            return saved.fit

        comp = small_study_comparison(s.table, tp, ep, fitter=fitter)
        adjustments = [Adjustment.of("unadjusted", comp.unadjusted.posterior())]
        for kind, f in comp.adjusted.items():
            adjustments.append(Adjustment.of(kind.upper(), f.posterior(), f.slope_summary()))
        run.result.small_study[analysis] = SmallStudy(_bias_tests(s), tuple(adjustments))
        for kind, fit in comp.adjusted.items():
            context = replace(set_context(s), title=f"{s.title}, adjusted for small-study effects ({kind.upper()})",
                              studies=tuple(fit.fit.study), parent=s.key, subject=kind)  # fmt: skip
            check = McmcCheck.of(fit.fit.diagnostics, files.get(KINDS[kind], ""))
            run.add(fit.posterior(seed=run.settings.seed), ResultKey(f"{s.key}/small_study_{kind}",
                    f"binomial_normal_{kind}", tp.key, ep.key), context, higher_is_benefit=s.higher_is_benefit,
                    kind=Kind.SMALL_STUDY, method=Method.MCMC, mcmc=check)  # fmt: skip
        _funnel(run, s)


def _bias_tests(s: StudySet) -> tuple[BiasTest, ...]:
    """Egger (t form, on the 0.5-corrected log OR), Peters and Harbord tests of the set; a note where one fails."""
    tests = []
    for test in (egger_lm, peters, harbord):
        try:
            r = test(escalc(s.table, "OR") if test is egger_lm else s.table)
        except ValueError as err:
            tests.append(BiasTest(test.__name__, note=str(err)))
            continue
        tests.append(BiasTest(r.method, r.statistic, r.df, r.p, r.k, r.underpowered, tuple(r.dropped)))
    return tuple(tests)


def _funnel(run: Run, s: StudySet) -> None:
    """Contour-enhanced funnel plot of a set: the randomised trials' first (the primary hierarchy), with the primary
    posterior median; then all studies with known counts, with the median of the bias-model posterior."""
    effects = escalc(s.table, "OR")
    design = run.dataset.studies["design"]
    n_nrs = len(figs.non_randomised(run, s.table.study))
    bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR] if n_nrs else None
    which = "randomised trials" if s.analysis == PRIMARY_ANALYSIS else "all studies with known counts"
    how = figs.THROUGH_BIAS_MODEL
    fig = funnel_plot(effects, design={x: str(design[x]) for x in effects.study},
                      pooled=run.posterior(s.table, bias).median(),
                      pooled_label="Posterior median OR" + (", NRS through the bias model" if bias else ""),
                      title=figs.with_nrs(f"Contour-enhanced funnel plot, {which}", n_nrs, how))  # fmt: skip
    caption = (f"Contour-enhanced funnel plot (Peters et al. 2008), {which}: each study's log OR (OR scale) against "
               "its standard error, shaded where its own test would give p < 0.01, 0.01-0.05 and 0.05-0.10; markers "
               "by design; the dashed line is the pooled posterior median.")  # fmt: skip
    run.figure("small_study", fig, run.fig_dir / f"funnel_{s.analysis}.png", figs.with_nrs(caption, n_nrs, how,
               sentence=True), kind="funnel", studies=tuple(s.table.study),
               alt=f"Funnel plot of the {effects.k} {which} with counts: log OR against its SE.")  # fmt: skip
