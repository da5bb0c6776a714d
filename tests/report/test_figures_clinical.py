"""Report figures as a clinician reads them: benefit direction, fitted colour scales, tipping-point maps without
blank strips, and forest plots in the Cochrane layout (arm counts, weights, design subgroups, heterogeneity line).

Each test holds one defect from the issue "The report a clinician reads in five minutes". Numeric references are
closed form (normal CDF of stratified normal draws).
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from scipy import stats

import models.report as report
from models.msc import figures as adapters
from models.report import Heterogeneity, forest_plot, posterior_density, prior_sensitivity_table_figure, tipping_map
from models.report._common import BLUE
from models.report.forest import HETEROGENEITY_GID, NOT_REPORTED, ROW_LABEL_GID, SubgroupTest
from models.report.tipping import EQUAL_RISK_GID, FLAT_GID


def _draws(mean: float, sd: float, n: int = 20000) -> np.ndarray:
    return stats.norm.ppf((np.arange(n) + 0.5) / n, loc=mean, scale=sd)


def _legend_texts(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# 1. Outcome direction


def test_density_higher_is_benefit_shades_and_names_the_upper_tail():
    mean, sd = np.log(1.3), 0.1
    fig = posterior_density(_draws(mean, sd), measure="RR", title="t", higher_is_benefit=True, reference_lines=(1.25,))
    shaded = [c for c in fig.axes[0].collections if len(c.get_paths())]
    xs = np.concatenate([p.vertices[:, 0] for p in shaded[0].get_paths()])
    assert xs.min() >= 1.0 - 1e-12  # the shaded area is RR > 1, not RR < 1
    labels = _legend_texts(fig)
    assert f"Benefit (shaded): P(RR > 1) = {1 - stats.norm.cdf(0, mean, sd):.2f}" in labels
    assert f"P(RR > 1.25) = {1 - stats.norm.cdf(np.log(1.25), mean, sd):.2f}" in labels
    assert not any("<" in t for t in labels if t.startswith("P(") or t.startswith("Benefit"))


def test_density_default_keeps_lower_tail_for_harmful_outcomes():
    fig = posterior_density(_draws(np.log(0.7), 0.2), measure="OR", title="t")
    shaded = [c for c in fig.axes[0].collections if len(c.get_paths())]
    xs = np.concatenate([p.vertices[:, 0] for p in shaded[0].get_paths()])
    assert xs.max() <= 1.0 + 1e-12


# 2. Prior sensitivity table


def _prior_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tau_prior": ["turner2015_mortality_pharma", "halfnormal_0.5"],
            "effect_prior": ["weakly_informative", "sceptical"],
            "p_benefit": [0.9995, 0.93],
            "p_important": [0.81, 0.62],
            "tau_median": [0.12, 0.31],
            "pred_low": [0.35, 0.28],
            "pred_high": [1.10, 1.45],
        }
    )


def test_prior_table_shows_probabilities_tau_median_and_prediction_interval_per_prior():
    labels = {"turner2015_mortality_pharma": "Turner 2015, pharmacological"}
    fig = prior_sensitivity_table_figure(_prior_frame(), title="t", measure="OR", labels=labels)
    texts = [t.replace("\n", " ") for t in _texts(fig)]
    for expected in ("Turner 2015, pharmacological", "halfnormal 0.5", "> 0.999", "0.93", "0.81", "0.12", "0.31"):
        assert expected in texts
    assert "[0.35, 1.10]" in texts and "[0.28, 1.45]" in texts
    ax_pi = fig.axes[1]
    assert ax_pi.get_xscale() == "log"
    intervals = [ln for ln in ax_pi.get_lines() if ln.get_color() == BLUE and len(ln.get_xdata()) == 2]
    assert len(intervals) == 2  # one interval per prior


def test_prior_table_names_missing_column():
    with pytest.raises(ValueError, match="frame lacks column 'tau_median'"):
        prior_sensitivity_table_figure(_prior_frame().drop(columns="tau_median"), title="t")


# 3. Tipping-point maps


def _grid(step: int = 4, n_t: int = 31, n_c: int = 29, flat: bool = False) -> pd.DataFrame:
    rows = []
    for d_t in range(0, n_t + 1, step):
        for d_c in range(0, n_c + 1, step):
            z = 8 * (d_c / n_c - d_t / n_t) + 1.0
            p = 0.995 + 0.004 * d_c / n_c if flat else stats.norm.cdf(z)
            rows.append({"events_t": d_t, "events_c": d_c, "risk_t": d_t / n_t, "risk_c": d_c / n_c,
                         "p_benefit": p, "p_important": p if flat else stats.norm.cdf(z - 1)})  # fmt: skip
    return pd.DataFrame(rows)


def _panels(fig: Figure) -> list:
    """Map panels (not the colour bar) that draw a colour field."""
    return [
        ax for ax in fig.axes if ax.get_label() != "<colorbar>" and any(isinstance(c, QuadMesh) for c in ax.collections)
    ]


def test_tipping_map_cells_end_half_a_step_beyond_the_grid_no_blank_strip():
    grid = _grid(step=4)  # 0, 4, ..., 28 of 31: the old map left a blank strip from 28 to 31
    fig = tipping_map(grid, title="t")
    panels = _panels(fig)
    assert len(panels) == 2  # P(benefit) and P(important benefit) side by side
    for ax in panels:
        mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
        coords = mesh.get_coordinates()
        x_edges, y_edges = coords[0, :, 0], coords[:, 0, 1]
        assert (x_edges.min(), x_edges.max()) == (-2.0, 30.0)  # data 0..28, half step 2
        assert (y_edges.min(), y_edges.max()) == (-2.0, 30.0)  # data 0..28
        assert ax.get_xlim() == (-2.0, 30.0) and ax.get_ylim() == (-2.0, 30.0)


def test_tipping_map_has_equal_risk_line_contours_and_labelled_scenarios():
    fig = tipping_map(
        _grid(step=1), title="t", scenarios=[("implied by published totals", 10, 20), ("all survive", 0, 0)],
        value_labels={"p_benefit": "P(OR < 1)", "p_important": "P(OR < 0.8)"}, arms=("cell therapy", "control"),
        events="deaths",
    )  # fmt: skip
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == ["P(OR < 1)", "P(OR < 0.8)"]
    for ax in panels:
        ref = [ln for ln in ax.get_lines() if ln.get_gid() == EQUAL_RISK_GID]
        assert len(ref) == 1 and ref[0].get_color() == "black"
        assert np.allclose(ref[0].get_xdata(), [0, 31]) and np.allclose(ref[0].get_ydata(), [0, 29])
        assert [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")] == [
            "implied by published totals", "all survive",
        ]  # fmt: skip
        contours = [c for c in ax.collections if isinstance(c, ContourSet)]
        assert set(contours[0].levels) <= {0.5, 0.9, 0.95} and len(contours[0].levels) >= 2
    legend = _legend_texts(fig)
    assert "implied by published totals" in legend and any("equal risk" in t for t in legend)
    assert panels[0].get_xlabel().startswith("deaths among the 31 cell therapy patients")
    assert panels[0].get_ylabel().startswith("deaths among the 29 control patients")


def test_tipping_map_says_so_when_the_probability_hardly_varies():
    fig = tipping_map(_grid(flat=True), title="t", second=None)
    ax = fig.axes[0]
    assert not any(isinstance(c, QuadMesh) for c in ax.collections)  # no flat yellow field
    notes = [t.get_text() for t in ax.texts if t.get_gid() == FLAT_GID]
    assert len(notes) == 1 and "hardly varies" in notes[0] and "0.99" in notes[0]


def test_tipping_adapter_labels_odds_ratio_thresholds():
    fig = adapters.tipping_map(_grid(), title="t", scenarios=[("published totals", 8, 16)])
    titles = [ax.get_title() for ax in _panels(fig)]
    assert titles == ["P(benefit) = P(OR < 1)", "P(important benefit) = P(OR < 0.8)"]


# 4. Forest plot in the Cochrane layout


def _studies() -> pd.DataFrame:
    est = np.array([0.5, 0.9, 2.7, 0.2])
    return pd.DataFrame(
        {
            "study": ["A 2021", "B 2022", "C 2022", "D 2023"],
            "observed": est,
            "obs_low": est / 3,
            "obs_high": est * [7, 7, 25, 7],  # C runs to 67.5
            "shrunk": [0.7, 0.8, 0.75, 0.7],
            "shrunk_low": [0.45, 0.6, 0.5, 0.4],
            "shrunk_high": [1.05, 1.05, 1.2, 1.1],
            "events_treat": [3, 40, 4, 0],
            "total_treat": [10, 110, 7, 7],
            "events_control": [6, 44, 1, 2],
            "total_control": [10, 112, 7, 4],
        }
    )


def _forest(**kwargs) -> Figure:
    return forest_plot(
        _studies(), {"median": 0.72, "low": 0.51, "high": 0.97}, {"low": 0.42, "high": 1.16},
        {"estimate": 0.76, "low": 0.6, "high": 0.96, "label": "Published (paper)"}, measure="OR", title="t",
        **kwargs,
    )  # fmt: skip


def test_forest_shows_arm_counts_and_weights_in_percent():
    fig = _forest(arms=("Cells", "Placebo"), weights={"A 2021": 1, "B 2022": 6, "C 2022": 1, "D 2023": 2})
    texts = _texts(fig)
    for expected in ("3/10", "6/10", "40/110", "44/112", "0/7", "2/4", "Cells\nevents/N", "Placebo\nevents/N"):
        assert expected in texts
    assert ["10.0", "60.0", "10.0", "20.0"] == [t for t in texts if t in {"10.0", "60.0", "20.0"}]
    squares = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "s"]
    sizes = [ln.get_markersize() for ln in squares]
    assert sizes[1] == max(sizes) and sizes[0] == min(sizes)  # square grows with weight


def test_forest_groups_rows_by_design_with_headers():
    design = {"A 2021": "NRS", "B 2022": "RCT", "C 2022": "RCT", "D 2023": "NRS"}
    fig = _forest(design=design, pooled_label="Pooled OR, binomial-normal")
    labels = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == ROW_LABEL_GID]
    assert labels[:6] == ["Randomised controlled trials", "B 2022", "C 2022", "Non-randomised studies", "A 2021",
                          "D 2023"]  # fmt: skip
    assert "Pooled OR, binomial-normal" in labels


def test_forest_prints_heterogeneity_and_lists_unreported_studies_at_the_bottom():
    het = {"tau": 0.214, "i2": 12.3, "q": 9.1, "df": 8, "p": 0.334, "tau_note": "posterior median"}
    fig = _forest(heterogeneity=het, not_reported=[("E 2021", 12, 10), "F 2024"])
    line = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == HETEROGENEITY_GID]
    assert line == ["Heterogeneity: \u03c4 = 0.21 (posterior median); I\u00b2 = 12%; Q = 9.10 (df = 8), p = 0.33"]
    labels = [t for ax in fig.axes for t in ax.texts if t.get_gid() == ROW_LABEL_GID]
    assert [t.get_text() for t in labels[-2:]] == ["E 2021", "F 2024"]  # last rows
    texts = _texts(fig)
    assert texts.count(NOT_REPORTED) == 2 and "\u2013/12" in texts and "\u2013/10" in texts
    assert Heterogeneity.coerce(het).p == pytest.approx(0.334)


def test_forest_draws_subgroup_diamonds_the_subgroup_test_and_a_total_row_with_summed_counts():
    design = {"A 2021": "NRS", "B 2022": "RCT", "C 2022": "RCT", "D 2023": "NRS"}
    summaries = {"RCT": {"median": 0.9, "low": 0.7, "high": 1.2}, "NRS": {"median": 0.4, "low": 0.2, "high": 0.8}}
    test = SubgroupTest(q=4.2, df=1, p=0.0404, method="random effects within subgroups")
    fig = _forest(design=design, group_summaries=summaries, subgroup_test=test, pooled_label="Total (pooled OR)",
                  footnotes=("Weights: approximate.",))  # fmt: skip
    labels = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == ROW_LABEL_GID]
    assert labels[:8] == ["Randomised controlled trials", "B 2022", "C 2022", "Subtotal (k = 2)",
                          "Non-randomised studies", "A 2021", "D 2023", "Subtotal (k = 2)"]  # fmt: skip
    texts = _texts(fig)
    assert "44/117" in texts and "45/119" in texts  # B + C: 40 + 4 of 110 + 7 treated; 44 + 1 of 112 + 7 control
    assert "3/17" in texts and "8/14" in texts  # A + D
    assert "47/134" in texts and "53/133" in texts  # the total row sums every study
    assert "0.90 [0.70, 1.20]" in texts and "0.40 [0.20, 0.80]" in texts
    lines = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == HETEROGENEITY_GID]
    assert lines == ["Test for subgroup differences: Q = 4.20 (df = 1), p = 0.04 (random effects within subgroups)",
                     "Weights: approximate."]  # fmt: skip
    diamonds = [p for p in fig.axes[0].patches if isinstance(p, Polygon)]
    assert len(diamonds) == 4 and sum(p.get_facecolor()[:3] == (1.0, 1.0, 1.0) for p in diamonds) == 3
    with pytest.raises(ValueError, match="group_summaries needs design"):
        _forest(group_summaries=summaries)


def test_heterogeneity_names_what_tau_and_q_come_from():
    het = Heterogeneity(0.39, 24.0, 9.19, 7, 0.24, tau_note="posterior median, the total row's model",
                        q_note="inverse variance, observed log ORs")  # fmt: skip
    assert het.text() == (
        "Heterogeneity: \u03c4 = 0.39 (posterior median, the total row's model); I\u00b2 = 24%; "
        "Q = 9.19 (df = 7), p = 0.24 (inverse variance, observed log ORs)"
    )


def test_long_titles_wrap_between_words_never_inside_them():
    long = (
        "All 24, unpublished deaths from SCRT 2026's totals: pooled OR (binomial-normal, exact, NRS through "
        "the bias model) (includes 11 non-randomised studies, through the bias model)"
    )
    fig = posterior_density(np.linspace(-1, 1, 200), measure="OR", title=long)
    lines = fig.get_suptitle().split("\n")
    assert len(lines) >= 2 and " ".join(lines) == long


def test_forest_axis_is_fitted_symmetric_with_plain_ticks_and_arrows():
    fig = _forest()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert (lo, hi) == pytest.approx((0.1, 10.0))  # not 0.01..100 for one CI reaching 67.5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.2", "0.5", "1", "2", "5", "10"]
    assert any(ln.get_marker() == ">" for ln in ax.get_lines())  # C's interval runs off with an arrow


# Generic plotting code knows nothing of its first client


def test_report_functions_have_no_msc_defaults():
    for name in report.__all__:
        obj = getattr(report, name)
        if not callable(obj):
            continue
        for param in inspect.signature(obj).parameters.values():
            assert "MSC" not in repr(param.default), f"{name}({param.name}=...) defaults to MSC"
