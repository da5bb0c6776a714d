"""Report figures: structure (rows, labels, axes, scales), input checks, and closed-form numbers shown on them.

Numeric references are closed-form: the normal CDF for P(OR < threshold) of normally distributed log-OR
draws, and the half-normal density for the tau prior curve.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from models.report import (
    evidence_over_time,
    forest_plot,
    posterior_density,
    prior_sensitivity_heatmap,
    save_figure,
    subgroup_effects,
    tau_prior_posterior,
)
from models.report.forest import POOLED_LABEL, PREDICTIVE_LABEL, ROW_LABEL_GID

POOLED = {"median": 0.62, "low": 0.45, "high": 0.85}
PREDICTIVE = {"low": 0.30, "high": 1.30}
PUBLISHED = {"estimate": 0.55, "low": 0.40, "high": 0.76, "label": "Published (Kirkham 2022)"}


def _studies(n: int = 4) -> pd.DataFrame:
    est = np.linspace(0.4, 1.6, n)
    df = pd.DataFrame(
        {
            "study": [f"Study {i} et al. 2021" for i in range(n)],
            "observed": est,
            "obs_low": est / 3,
            "obs_high": est * 3,
            "shrunk": np.sqrt(est) * 0.8,
            "shrunk_low": np.sqrt(est) * 0.5,
            "shrunk_high": np.sqrt(est) * 1.2,
        }
    )
    df.loc[1, ["observed", "obs_low", "obs_high"]] = np.nan  # double-zero study: not estimable
    return df


def _normal_log_draws(mean: float, sd: float, n: int = 20000) -> np.ndarray:
    """Stratified 'draws' (normal quantiles): the share below any value equals the normal CDF to within 1/n."""
    return stats.norm.ppf((np.arange(n) + 0.5) / n, loc=mean, scale=sd)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _legend_texts(fig: Figure) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def _row_labels(fig: Figure) -> list:
    """The forest plot's row-label texts (study names, group headers, summary rows), top to bottom."""
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == ROW_LABEL_GID]


def _overlaps(boxes: list) -> bool:
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


# forest_plot


def test_forest_rows_are_studies_then_pooled_predictive_published():
    studies = _studies()
    fig = forest_plot(studies, POOLED, PREDICTIVE, PUBLISHED, measure="OR", title="Mortality")
    ax = fig.axes[0]
    labels = [t.get_text() for t in _row_labels(fig)]
    assert labels == [*studies["study"], POOLED_LABEL, PREDICTIVE_LABEL, PUBLISHED["label"]]
    assert ax.get_xscale() == "log"
    assert fig.get_suptitle() == "Mortality"


def test_forest_ratio_axis_has_plain_ticks_null_line_and_favours_labels():
    fig = forest_plot(_studies(), POOLED, PREDICTIVE, PUBLISHED, measure="OR", title="t", favours=("MSC", "control"))
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in ticks
    assert all("^" not in t and "e" not in t for t in ticks)  # no 10^x or 1e-1 notation
    assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.get_lines())
    assert "\u2190 favours MSC" in _texts(fig)
    assert "favours control \u2192" in _texts(fig)
    assert "95%" in ax.get_xlabel()
    assert all("95%" in t for t in _legend_texts(fig))


def test_forest_not_estimable_study_gets_no_observed_mark_but_a_text():
    fig = forest_plot(_studies(), POOLED, PREDICTIVE, None, measure="OR", title="t")
    assert "not estimable" in _texts(fig)
    black_squares = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "s"]
    assert len(black_squares) == 3  # four studies, one without an observed effect


def test_forest_text_column_shows_interval_of_each_row():
    fig = forest_plot(_studies(), POOLED, PREDICTIVE, PUBLISHED, measure="RR", title="t")
    texts = _texts(fig)
    assert "Observed RR\n[95% CI]" in texts
    assert "0.62 [0.45, 0.85]" in texts  # pooled
    assert "[0.30, 1.30]" in texts  # predictive without a median
    assert "0.55 [0.40, 0.76]" in texts  # published


def test_forest_omits_optional_rows_and_shrinkage():
    studies = _studies().drop(columns=["shrunk", "shrunk_low", "shrunk_high"])
    fig = forest_plot(studies, POOLED, None, None, measure="OR", title="t")
    labels = [t.get_text() for t in _row_labels(fig)]
    assert labels == [*studies["study"], POOLED_LABEL]
    assert not [t for t in _legend_texts(fig) if "Shrunken" in t]


def test_forest_difference_measure_is_linear_with_null_at_zero():
    studies = _studies()
    for col in ("observed", "obs_low", "obs_high", "shrunk", "shrunk_low", "shrunk_high"):
        studies[col] = np.log(studies[col])
    pooled = {"median": -0.5, "low": -0.8, "high": -0.2}
    fig = forest_plot(studies, pooled, None, None, measure="MD", title="t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    assert any(np.allclose(line.get_xdata(), 0.0) for line in ax.get_lines())


def test_forest_25_studies_labels_do_not_overlap():
    studies = _studies(25)
    studies["obs_low"] /= 20  # widest texts the column meets: '1.60 [0.03, 96.00]'
    studies["obs_high"] *= 20
    fig = forest_plot(studies, POOLED, PREDICTIVE, PUBLISHED, measure="OR", title="t")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax, ax_text = fig.axes[:2]
    assert not _overlaps([t.get_window_extent(renderer) for t in _row_labels(fig)])
    assert not _overlaps([t.get_window_extent(renderer) for t in ax_text.texts])
    # the text column sits right of the plotting area
    assert min(t.get_window_extent(renderer).x0 for t in ax_text.texts) >= ax.get_window_extent(renderer).x1


def test_forest_long_interval_is_clipped_with_an_arrow():
    studies = _studies()
    studies.loc[0, "obs_high"] = 5000.0
    fig = forest_plot(studies, POOLED, None, None, measure="OR", title="t")
    ax = fig.axes[0]
    assert ax.get_xlim()[1] <= 100.0
    assert any(ln.get_marker() == ">" for ln in ax.get_lines())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="obs_high"), "studies lacks column 'obs_high'"),
        (lambda d: d.assign(obs_low=[0.1, np.nan, -0.2, 0.5]), "column 'obs_low' row 'Study 2 et al. 2021'.*> 0"),
        (lambda d: d.assign(observed=["0.5", np.nan, "x", 1.0]), "column 'observed' row 'Study 2 et al. 2021'"),
    ],
)
def test_forest_bad_studies_named(change, message):
    with pytest.raises(ValueError, match=message):
        forest_plot(change(_studies()), POOLED, None, None, measure="OR", title="t")


def test_forest_bad_dicts_and_measure_named():
    with pytest.raises(ValueError, match="pooled lacks key 'high'"):
        forest_plot(_studies(), {"median": 0.6, "low": 0.4}, None, None, measure="OR", title="t")
    with pytest.raises(ValueError, match=r"published\['low'\].*> 0"):
        forest_plot(_studies(), POOLED, None, {**PUBLISHED, "low": 0.0}, measure="OR", title="t")
    with pytest.raises(ValueError, match="pooled: expected low <= median <= high"):
        forest_plot(_studies(), {"median": 0.3, "low": 0.4, "high": 0.9}, None, None, measure="OR", title="t")
    with pytest.raises(ValueError, match="measure must be one of .*got 'odds'"):
        forest_plot(_studies(), POOLED, None, None, measure="odds", title="t")


# posterior_density


def test_density_labels_probability_below_threshold_from_normal_cdf():
    mean, sd = np.log(0.7), 0.2
    fig = posterior_density(
        _normal_log_draws(mean, sd), measure="OR", published=PUBLISHED, title="t", reference_lines=(0.9, 0.8)
    )
    labels = _legend_texts(fig)
    for thr in (1, 0.9, 0.8):
        expected = stats.norm.cdf(np.log(thr), mean, sd)  # closed form
        assert any(t.endswith(f"P(OR < {thr:g}) = {expected:.2f}") for t in labels)
    assert any(t.startswith("Published (Kirkham 2022): 0.55 [0.40, 0.76]") and "95% CI" in t for t in labels)
    assert any("95% CrI" in t for t in labels)
    assert fig.axes[0].get_xscale() == "log"


def test_density_shades_only_below_threshold():
    fig = posterior_density(_normal_log_draws(np.log(0.8), 0.3), measure="RR", threshold=0.9, title="t")
    ax = fig.axes[0]
    shaded = [c for c in ax.collections if len(c.get_paths())]
    assert len(shaded) == 1
    xs = np.concatenate([p.vertices[:, 0] for p in shaded[0].get_paths()])
    assert xs.max() <= 0.9 + 1e-12
    p = stats.norm.cdf(np.log(0.9), np.log(0.8), 0.3)
    assert f"Benefit (shaded): P(RR < 0.9) = {p:.2f}" in _legend_texts(fig)


def test_density_difference_measure_uses_draws_as_is():
    fig = posterior_density(_normal_log_draws(-1.0, 1.0), measure="MD", title="t")
    assert fig.axes[0].get_xscale() == "linear"
    assert f"Benefit (shaded): P(MD < 0) = {stats.norm.cdf(0, -1, 1):.2f}" in _legend_texts(fig)


@pytest.mark.parametrize(
    ("draws", "kwargs", "message"),
    [
        (np.r_[np.zeros(20) + 0.1, np.nan], {}, "log_draws contains 1 non-finite"),
        (np.full(50, -0.2), {}, "log_draws has no spread"),
        (np.linspace(-1, 1, 5), {}, "log_draws needs at least 10 draws"),
        (np.linspace(-1, 1, 50), {"threshold": 0.0}, "threshold value 0.0 must be finite and > 0"),
    ],
)
def test_density_bad_input_named(draws, kwargs, message):
    with pytest.raises(ValueError, match=message):
        posterior_density(draws, measure="OR", title="t", **kwargs)


# tau_prior_posterior


def test_tau_prior_curve_is_the_prior_density_and_posterior_integrates_to_one():
    draws = np.abs(_normal_log_draws(0.0, 0.3))  # half-normal(0.3) posterior
    prior = stats.halfnorm(scale=0.5)
    fig = tau_prior_posterior(draws, prior.logpdf, prior_label="HalfNormal(0.5)", title="tau")
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0
    prior_line = next(ln for ln in ax.get_lines() if ln.get_linestyle() == "--")
    x, y = prior_line.get_xdata(), prior_line.get_ydata()
    assert y[0] == pytest.approx(np.sqrt(2 / np.pi) / 0.5)  # half-normal density at 0, closed form
    post_line = next(ln for ln in ax.get_lines() if ln.get_linestyle() == "-")
    px, py = post_line.get_xdata(), post_line.get_ydata()
    # reflected KDE: (almost) all mass on [0, upper], none lost below 0
    assert np.trapezoid(py, px) == pytest.approx(1.0, abs=0.02)
    assert "Prior: HalfNormal(0.5)" in _legend_texts(fig)
    assert "between-study SD of the log OR" in ax.get_xlabel()
    assert x[-1] == pytest.approx(ax.get_xlim()[1])


def test_tau_bad_input_named():
    prior = stats.halfnorm(scale=0.5).logpdf
    with pytest.raises(ValueError, match="tau_draws must be >= 0"):
        tau_prior_posterior(np.linspace(-0.1, 1, 50), prior, prior_label="p", title="t")
    with pytest.raises(ValueError, match="prior_logpdf must return one value per input"):
        tau_prior_posterior(np.linspace(0, 1, 50), lambda t: np.zeros(3), prior_label="p", title="t")


# prior_sensitivity_heatmap


def test_heatmap_annotates_each_cell_and_uses_readable_labels():
    values = np.array([[0.934, 0.5], [0.125, np.nan], [0.9996, 0.0004], [0.995, 0.02]])
    tau_names = ["turner2015_mortality_pharma", "halfnormal_0.5", "halfcauchy_1", "bartos2023_logor"]
    mu_names = ["weakly_informative", "sceptical"]
    table = pd.DataFrame(values, index=tau_names, columns=mu_names)
    labels = {"turner2015_mortality_pharma": "Turner 2015, pharmacological", "sceptical": "Sceptical"}
    fig = prior_sensitivity_heatmap(table, title="t", value_label="P(OR < 1)", labels=labels)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["0.93", "0.50", "0.12", "n/a", "> 0.999", "< 0.001", "0.995", "0.02"]
    assert [_unwrap(t.get_text()) for t in ax.get_yticklabels()] == [
        "Turner 2015, pharmacological", "halfnormal 0.5", "halfcauchy 1", "bartos2023 logor",
    ]  # fmt: skip
    assert [_unwrap(t.get_text()) for t in ax.get_xticklabels()] == ["weakly informative", "Sceptical"]
    assert fig.axes[1].get_ylabel().startswith("P(OR < 1)")  # colour bar


def test_heatmap_colour_limits_follow_the_data_range():
    values = np.array([[0.861, 0.97], [0.93, 0.999]])
    fig = prior_sensitivity_heatmap(pd.DataFrame(values, index=["a", "b"], columns=["c", "d"]), title="t")
    vmin, vmax = fig.axes[0].images[0].get_clim()
    assert 0.85 <= vmin <= 0.861 and 0.999 <= vmax <= 1.0  # not 0..1: the 0.86-1.00 spread uses the whole map
    flat = prior_sensitivity_heatmap(pd.DataFrame([[0.995, 0.996]], index=["a"], columns=["c", "d"]), title="t")
    vmin, vmax = flat.axes[0].images[0].get_clim()
    assert vmax - vmin == pytest.approx(0.02) and vmax <= 1.0  # a floor on the span: noise is not contrast


def _unwrap(label: str) -> str:
    return label.replace("\n", " ")


def test_heatmap_labels_do_not_overlap_with_long_preset_names():
    names = ["weakly_informative", "minimally_informative", "sceptical_spiegelhalter", "enthusiastic_goligher"]
    table = pd.DataFrame(
        np.full((2, 4), 0.9), index=["turner2015_mortality_nonpharma", "halfnormal_0.5"], columns=names
    )
    fig = prior_sensitivity_heatmap(table, title="t")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert not _overlaps([t.get_window_extent(renderer) for t in fig.axes[0].get_xticklabels()])


def test_heatmap_rejects_non_probabilities_by_cell():
    table = pd.DataFrame({"Normal(0, 1)": [0.5, 1.2]}, index=["A", "B"])
    with pytest.raises(ValueError, match="table row 'B' column 'Normal\\(0, 1\\)': 1.2 is not a probability"):
        prior_sensitivity_heatmap(table, title="t")


# subgroup_effects


def test_subgroups_rows_and_unreported_published():
    rows = pd.DataFrame(
        {
            "group": ["Intravenous", "Local"],
            "median": [0.6, 0.8],
            "low": [0.4, 0.5],
            "high": [0.9, 1.3],
            "published": [0.5, np.nan],
            "published_low": [0.3, np.nan],
            "published_high": [0.8, np.nan],
        }
    )
    fig = subgroup_effects(rows, measure="OR", title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intravenous", "Local"]
    assert ax.get_xscale() == "log"
    assert "not reported" in _texts(fig)
    assert "0.50 [0.30, 0.80]" in _texts(fig)


def test_subgroups_missing_posterior_named():
    rows = pd.DataFrame({"group": ["A", "B"], "median": [0.6, np.nan], "low": [0.4, 0.5], "high": [0.9, 1.3]})
    with pytest.raises(ValueError, match="rows column 'median' row 'B' is missing"):
        subgroup_effects(rows, measure="OR", title="t")


# evidence_over_time


def _cumulative(n: int = 5) -> pd.DataFrame:
    k = np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "year": 2020 + k // 3,
            "k": k,
            "median": 0.7 + 0.0 * k,
            "low": 0.7 / (1 + 2 / k),
            "high": 0.7 * (1 + 2 / k),
            "p_benefit": 1 - 0.4 / k,
        }
    )


def test_timeline_two_panels_log_effect_and_probability_with_095_line():
    rows = _cumulative()
    fig = evidence_over_time(rows, measure="OR", title="t")
    ax_eff, ax_p = fig.axes
    assert ax_eff.get_yscale() == "log"
    assert ax_p.get_ylim() == (0.0, 1.0)
    assert any(ln.get_linestyle() == "--" and np.allclose(ln.get_ydata(), 0.95) for ln in ax_p.get_lines())
    assert [t.get_text() for t in ax_p.get_xticklabels()] == [
        f"{y}\nk={k}" for y, k in zip(rows.year, rows.k, strict=True)
    ]
    assert ax_p.get_ylabel() == "P(OR < 1)"
    assert "95% CrI" in ax_eff.get_ylabel()


def test_timeline_many_steps_rotate_single_line_ticks_and_dates_work():
    rows = _cumulative(12).drop(columns="year")
    rows["date"] = pd.date_range("2020-05-01", periods=12, freq="MS")
    fig = evidence_over_time(rows, measure="RR", title="t")
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels[0] == "2020-05, k=1"
    assert fig.axes[1].get_xticklabels()[0].get_rotation() == 45


def test_timeline_bad_input_named():
    with pytest.raises(ValueError, match="rows column 'p_benefit' row '2021' is 1.5"):
        evidence_over_time(_cumulative().assign(p_benefit=[0.5, 0.6, 1.5, 0.7, 0.8]), measure="OR", title="t")
    with pytest.raises(ValueError, match="rows lacks a 'year' or 'date' column"):
        evidence_over_time(_cumulative().drop(columns="year"), measure="OR", title="t")


# save_figure


def test_save_figure_writes_png_atomically_and_closes(tmp_path):
    fig = plt.figure()
    number = fig.number
    path = save_figure(fig, tmp_path / "figures" / "forest.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["forest.png"]
    assert not plt.fignum_exists(number)


def test_save_figure_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="path .*forest.gif.* must end in one of .png"):
        save_figure(Figure(), tmp_path / "forest.gif")
    assert list(tmp_path.iterdir()) == []
