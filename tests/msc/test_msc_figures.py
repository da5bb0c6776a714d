"""The MSC job's figures (models/msc/figures.py; the file is named apart from tests/report/test_figures.py): each on
the measure its data carry, non-randomised studies named, randomised versions first, one copy of each figure, a
distinct text alternative for each, and forest plots whose rows all come from one model.

Figures are inspected as matplotlib objects (axis labels, legend and text entries), never as pixels. Set figures are
drawn on the real data through a run whose ``figure`` keeps the Figure objects instead of rendering them (a subclass,
no patching); whole-run checks read the session's one evidence-base run (tests/conftest.py, ``evidence_run`` and
``evidence_outputs``).
Numeric references are independent: the DerSimonian-Laird test for subgroup differences is recomputed here in closed
form (DerSimonian & Laird 1986; Cochran's Q between subgroup estimates as in RevMan), and the pooled row's numbers
are the posterior's own quantiles.
"""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from models.bayes.exact import exact_from_effects
from models.bayes.sampling import fit_binomial_normal
from models.effects import escalc
from models.msc import figures as figs
from models.msc.datasets import load_dataset
from models.msc.records import Subgroup
from models.msc.state import FigureEntry, Run, RunSettings, direction
from models.report.funnel import funnel_plot
from models.results import Context, Kind, Method, PublishedFigure, ResultKey
from models.results.summarise import summarise


class KeepingRun(Run):
    """A run whose figures are kept as Figure objects (section, figure, caption, kind) instead of rendered."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kept: list[tuple[str, Figure, FigureEntry]] = []

    def figure(self, section, fig, path, caption, kind="", *, alt="", studies=(), analysis=""):
        entry = self.result.add_figure(section, FigureEntry(path, caption, kind, alt or caption, studies, analysis))
        self.kept.append((section, fig, entry))
        return entry


def texts(fig: Figure) -> list[str]:
    """Every piece of text on a figure: title, axis labels, text entries, legend entries."""
    out = [fig.get_suptitle()]
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title(), *(t.get_text() for t in ax.texts)]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        out += [t.get_text() for t in legend.get_texts()]
    return [t for t in out if t]


def x_labels(fig: Figure) -> list[str]:
    return [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory, make_fake_sampler) -> dict:
    """Set figures of five real sets: two RR sets (mortality with NRS; clinical improvement, higher is benefit), an
    OR set with NRS, and two sets with the same studies and counts (SCRT 2026, then all studies)."""
    dataset = load_dataset()
    out = tmp_path_factory.mktemp("figures")
    run = KeepingRun(dataset, RunSettings(quick=True, only="tang2024"), out,
                     partial(fit_binomial_normal, sampler=make_fake_sampler()))  # fmt: skip
    tp, ep = run.primary()
    by_set = {}
    for key in ("tang2024/mortality", "tang2024/clinical_improvement_d7", "yao2022/mortality", "scrt2026/mortality",
                "evidence_base/all"):  # fmt: skip
        s = run.sets[key]
        before = len(run.kept)
        fit = run.policy.fit(s.table, tp, ep, label=key, name=s.file_stem, covariates=None, draws=200).fit
        nn = exact_from_effects(run.effects(s), tp, ep, n_draws=20_000)
        figs.set_figures(run, s, fit, nn)
        by_set[key] = {"figures": {entry.kind: fig for _, fig, entry in run.kept[before:]}, "nn": nn, "set": s}
    run.policy.wait()
    return {"run": run, "sets": by_set}


def test_a_risk_ratio_set_is_drawn_on_the_risk_ratio_scale_with_its_own_posterior(drawn):
    """Clinical improvement day 7 (Tang 2024, RR 1.46 published): the density shows the RR posterior (normal-normal
    on log RR) under a risk-ratio axis beside the published RR, not an odds ratio labelled RR."""
    d7 = drawn["sets"]["tang2024/clinical_improvement_d7"]
    for kind in ("forest", "density"):
        fig = d7["figures"][kind]
        assert all(label.startswith("Risk ratio") for label in x_labels(fig)), (kind, x_labels(fig))
        words = " ".join(texts(fig))
        assert "Odds ratio" not in words and "P(OR" not in words and not re.search(r"\bOR\b", words), kind
    legend = texts(d7["figures"]["density"])
    assert any(t.startswith("P(RR > 1)") or "P(RR > 1)" in t for t in legend)
    assert any(t.startswith("Published RR (tang2024): 1.46") for t in legend)
    median = float(re.search(r"Posterior: median ([0-9.]+)", " ".join(legend)).group(1))
    assert median == pytest.approx(d7["nn"].median(), abs=0.02)  # the RR posterior's median, not the OR's


def test_an_odds_ratio_set_never_names_a_risk_ratio(drawn):
    yao = drawn["sets"]["yao2022/mortality"]
    assert set(yao["figures"]) == {"forest", "density"}
    for kind, fig in yao["figures"].items():
        assert all(label.startswith("Odds ratio") for label in x_labels(fig)), (kind, x_labels(fig))
        words = " ".join(texts(fig))
        assert not re.search(r"\bRR\b", words) and "Risk ratio" not in words, kind
        assert "Published OR (yao2022)" in words  # Yao 2022 published an OR


def test_every_other_figure_kind_names_the_odds_ratio_its_data_carry(drawn):
    """Tau, subgroup (meta-regression), evidence over time, prior heat map and funnel plot: all binomial-normal or
    observed log ORs, so each axis and legend names the odds ratio."""
    run = drawn["run"]
    s = run.sets["yao2022/mortality"]
    tp, ep = run.primary()
    effects = escalc(s.table, "OR")
    results = []
    for k in (3, 6, 9):
        post = exact_from_effects(effects.subset(list(effects.study[:k])), tp, ep, n_draws=2000)
        context = Context(source="t", subject=str(2020 + k), published=PublishedFigure(0.5, 0.3, 0.8))
        results.append(summarise(post, ResultKey(f"t/{k}", "normal_normal_exact", tp.key, ep.key),
                                 direction("OR", False), method=Method.EXACT_QUADRATURE, k=k,
                                 kind=Kind.CUMULATIVE, context=context))  # fmt: skip
    grid = pd.DataFrame({"tau_prior": ["a", "a", "b", "b"], "effect_prior": ["x", "y", "x", "y"],
                         "p_benefit": [0.9, 0.8, 0.7, 0.95]}).pivot_table(index="tau_prior", columns="effect_prior",
                                                                           values="p_benefit")  # fmt: skip
    tau_fig = drawn["sets"]["evidence_base/all"]["figures"]["tau"]
    kinds = {
        "tau": (tau_fig, "log OR"),
        "subgroups": (figs.subgroups([Subgroup(r, r.k, "paper") for r in results], title="t"), "Odds ratio"),
        "over time": (figs.over_time(results, title="t"), "Pooled OR"),
        "prior heat map": (
            figs.sensitivity(grid, title="t: P(OR < 1) by prior", value_label="P(OR < 1)", labels={}),
            "P(OR < 1)",
        ),  # fmt: skip
        "funnel": (funnel_plot(effects, pooled=0.5, title="t"), "Odds ratio"),
    }
    for kind, (fig, measure) in kinds.items():
        words = " ".join(texts(fig))
        assert measure in words, (kind, words[:300])
        assert not re.search(r"\bRR\b", words) and "Risk ratio" not in words, kind


def test_figures_of_a_set_with_non_randomised_studies_say_so_in_title_and_caption(drawn):
    """The forest plot counts the non-randomised studies it lists (with or without counts), the density those whose
    counts enter the posterior."""
    run = drawn["run"]
    for key in ("tang2024/mortality", "yao2022/mortality"):
        entries = {e.kind: e for e in run.result.figures[key]}
        for kind, fig in drawn["sets"][key]["figures"].items():
            n = len(figs.non_randomised(run, entries[kind].studies))
            assert n > 0
            assert f"includes {n} non-randomised" in fig.get_suptitle().replace("\n", " "), (key, kind)
            assert f"Includes {n} non-randomised studies, pooled as if randomised." in entries[kind].caption


def test_a_set_with_the_same_studies_refers_to_the_first_sets_figures(drawn):
    """SCRT 2026's candidate set and all studies with known counts hold the same studies and counts: the second set's
    density is a 'same as' entry pointing at the first's file; its forest plot, which lists one more study never
    reported (Pochon 2023), and its tau figure are its own."""
    run = drawn["run"]
    scrt, every = run.result.figures["scrt2026/mortality"], run.result.figures["evidence_base/all"]
    assert run.sets["evidence_base/all"].missing != run.sets["scrt2026/mortality"].missing
    assert set(drawn["sets"]["evidence_base/all"]["figures"]) == {"forest", "tau"}
    same = [e for e in every if e.same_as]
    assert [(e.kind, e.path) for e in same] == [(e.kind, e.path) for e in scrt if e.kind == "density"]
    assert same[0].same_as == run.sets["scrt2026/mortality"].title


def test_forest_rows_name_studies_by_author_and_year_and_list_those_never_reported(drawn):
    run = drawn["run"]
    s = run.sets["tang2024/mortality"]
    words = texts(drawn["sets"]["tang2024/mortality"]["figures"]["forest"])
    for study in s.table.study + s.missing:
        assert run.dataset.label(study) in words
        assert study not in words or study == run.dataset.label(study)


def _dl_subgroup_test(yi: np.ndarray, vi: np.ndarray, groups: list[str]) -> tuple[float, int, float]:
    """Closed form: DerSimonian-Laird pooling within each subgroup, then Cochran's Q of the subgroup estimates."""
    est, var = [], []
    for g in dict.fromkeys(groups):
        y, v = yi[[x == g for x in groups]], vi[[x == g for x in groups]]
        w = 1 / v
        q = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
        tau2 = max(0.0, (q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))) if len(y) > 1 else 0.0
        w_star = 1 / (v + tau2)
        est.append(np.sum(w_star * y) / np.sum(w_star))
        var.append(1 / np.sum(w_star))
    est, w = np.array(est), 1 / np.array(var)
    q_between = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    df = len(est) - 1
    return q_between, df, float(stats.chi2.sf(q_between, df))


def test_forest_subgroup_test_total_row_and_heterogeneity_come_from_the_stated_models(drawn):
    """Tang 2024 mortality (RR; 3 non-randomised studies): design subgroups, the test for subgroup differences equals
    the closed-form DerSimonian-Laird recomputation, and the total row, tau and weights are the normal-normal RR
    posterior's own numbers."""
    run, entry = drawn["run"], drawn["sets"]["tang2024/mortality"]
    s, nn, fig = entry["set"], entry["nn"], entry["figures"]["forest"]
    effects = run.effects(s, "RR")
    design = run.dataset.studies["design"]
    q, df, p = _dl_subgroup_test(effects.yi, effects.vi, [str(design[x]) for x in effects.study])
    words = texts(fig)
    test_line = next(t for t in words if t.startswith("Test for subgroup differences"))
    assert f"Q = {q:.2f} (df = {df}), p = {p:.2f}" in test_line and "DerSimonian-Laird" in test_line
    assert "observed log RRs" in test_line  # the test runs on the measure of the data
    het = next(t for t in words if t.startswith("Heterogeneity"))
    assert f"\u03c4 = {nn.tau_median():.2f} (posterior median, the total row's model)" in het
    ci = nn.interval(0.95)
    assert f"{nn.median():.2f} [{ci.low:.2f}, {ci.high:.2f}]" in words  # the total row's posterior
    assert any(t.startswith("Subtotal (k = ") for t in words) and "Total (pooled RR)" in words
    n_t, n_c = int(s.table.n_t.sum()), int(s.table.n_c.sum())
    assert f"{int(s.table.e_t.sum())}/{n_t}" in words and f"{int(s.table.e_c.sum())}/{n_c}" in words


def test_every_figure_of_the_run_built_with_non_randomised_studies_says_so(evidence_run):
    result, _ = evidence_run
    design = result.dataset.studies["design"]
    entries = [(section, e) for section, found in result.figures.items() for e in found]
    assert entries and all(e.studies for _, e in entries)  # every figure names the studies it is built from
    for section, e in entries:
        n = sum(design.get(x) == "NRS" for x in e.studies)
        if n:
            assert f"Includes {n} non-randomised" in e.caption, (section, e.caption[:120])
        else:
            assert "non-randomised" not in e.caption.lower(), (section, e.caption[:120])


def test_randomised_versions_come_first_where_the_hierarchy_applies(evidence_run):
    """Funnel plot, meta-regressions and evidence over time: the randomised trials' figures before any that include
    non-randomised studies."""
    result, _ = evidence_run
    design = result.dataset.studies["design"]
    for section, n_randomised in (("small_study", 1), ("regression", 3), ("evidence", 1)):
        has_nrs = [any(design.get(x) == "NRS" for x in e.studies) for e in result.figures[section]]
        assert has_nrs[:n_randomised] == [False] * n_randomised and all(has_nrs[n_randomised:]), section


def test_summary_of_findings_has_one_forest_plot_per_row_in_order(evidence_run):
    from models.msc.findings import HIERARCHY

    found = evidence_run[0].figures[figs.FINDINGS]
    assert [e.analysis for e in found] == [t.analysis_id for t in HIERARCHY]
    assert all(e.kind == "forest" for e in found)


def test_every_figure_has_its_own_text_alternative(evidence_run):
    entries = [e for found in evidence_run[0].figures.values() for e in found if not e.same_as]
    alts = [e.alt for e in entries]
    assert all(alts) and len(set(alts)) == len(alts)
    assert len({e.path for e in entries}) == len(entries)  # and no figure is drawn twice


def test_report_shows_each_figure_once(evidence_outputs):
    html = (evidence_outputs / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert images and len(set(images)) == len(images)
    assert "the same studies and counts as Figure" in html  # the appendix refers to the summary's forest plots
