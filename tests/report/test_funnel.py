"""Contour-enhanced funnel plot (Peters et al. 2008): structure of the figure and the contour geometry.

The contour edges are checked against the closed form: a study at standard error ``s`` is on the p = alpha contour
when ``|log OR| = z_(1 - alpha/2) s`` (scipy's normal quantile).
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D
from scipy import stats

from models.effects import EffectTable
from models.report.funnel import BAND_GID, BAND_LABELS, POINTS_GID, funnel_plot

STUDIES = ("a", "b", "c", "d", "e", "f")
YI = np.array([-1.2, -0.3, 0.4, -2.5, 0.1, 1.0])
VI = np.array([0.8, 0.1, 0.3, 1.9, 0.02, 0.5])
DESIGN = {"a": "RCT", "b": "RCT", "c": "NRS", "d": "NRS", "e": "RCT", "f": "Registry"}


def _effects(dropped: tuple[str, ...] = (), corrected: tuple[bool, ...] | None = None) -> EffectTable:
    flags = np.zeros(len(STUDIES), dtype=bool) if corrected is None else np.array(corrected)
    return EffectTable(STUDIES, YI, VI, "OR", "only0", flags, dropped)


def _points(fig) -> dict[str, np.ndarray]:
    ax = fig.axes[0]
    return {
        line.get_gid().split(":", 1)[1]: np.column_stack(line.get_data())
        for line in ax.lines
        if isinstance(line, Line2D) and str(line.get_gid()).startswith(POINTS_GID)
    }


def _bands(fig) -> dict[str, PolyCollection]:
    ax = fig.axes[0]
    return {str(c.get_gid()).split(":", 1)[1]: c for c in ax.collections if str(c.get_gid()).startswith(BAND_GID)}


def test_every_study_plotted_once_by_design() -> None:
    fig = funnel_plot(_effects(), design=DESIGN, title="t")
    points = _points(fig)
    assert set(points) == {"RCT", "NRS", "Registry"}
    xy = np.vstack(list(points.values()))
    assert xy.shape == (len(STUDIES), 2)
    expected = np.column_stack([np.exp(YI), np.sqrt(VI)])
    np.testing.assert_allclose(xy[np.argsort(xy[:, 0])], expected[np.argsort(expected[:, 0])], rtol=1e-12)
    assert points["NRS"].shape[0] == 2
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "RCT (k = 3)" in labels and "NRS (k = 2)" in labels and "Registry (k = 1)" in labels


def test_contour_polygons_follow_closed_form() -> None:
    """Six polygons (three bands, both sides); the inner edge of the p < 0.05 band is exp(+/-1.96 se)."""
    fig = funnel_plot(_effects(), title="t")
    bands = _bands(fig)
    assert set(bands) == {f"{label}:{side}" for label in BAND_LABELS for side in ("left", "right")}
    right_05 = bands[f"{BAND_LABELS[1]}:right"].get_paths()[0].vertices
    se, x = right_05[:, 1], right_05[:, 0]
    z05, z01 = stats.norm.isf(0.025), stats.norm.isf(0.005)
    inner = np.isclose(x, np.exp(z05 * se))
    outer = np.isclose(x, np.exp(z01 * se))
    assert inner.sum() >= 10 and outer.sum() >= 10
    assert (inner | outer).all()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert all(label in legend for label in BAND_LABELS)


def test_axes_inverted_and_cover_every_point() -> None:
    fig = funnel_plot(_effects(), design=DESIGN, pooled=0.8, title="t")
    ax = fig.axes[0]
    assert ax.yaxis_inverted()
    assert ax.get_ylim()[1] == 0.0
    assert ax.get_xscale() == "log"
    xlo, xhi = ax.get_xlim()
    ybottom, ytop = ax.get_ylim()
    assert xlo < np.exp(YI).min() and np.exp(YI).max() < xhi
    assert ytop <= np.sqrt(VI).min() and np.sqrt(VI).max() < ybottom
    assert xlo < 0.8 < xhi and xlo < 1.0 < xhi
    assert ax.get_xlabel() == "Odds ratio (log scale)"
    assert ax.get_ylabel() == "Standard error of the log OR"


def test_pooled_line_and_notes() -> None:
    eff = _effects(dropped=("z00",), corrected=(True, False, False, False, False, False))
    fig = funnel_plot(eff, pooled=0.62, title="MSC")
    ax = fig.axes[0]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(0.62)
    note = fig.get_supxlabel()
    assert "double-zero): z00." in note and "0.5 added to every cell of: a." in note
    assert fig.get_suptitle() == "MSC"


def test_no_note_and_no_pooled_line_when_not_needed() -> None:
    fig = funnel_plot(_effects(), title="t")
    assert [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--"] == []
    assert fig.get_supxlabel() == ""


def test_study_labels_written_when_asked() -> None:
    fig = funnel_plot(_effects(), label_studies=True, title="t")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(STUDIES)


def test_difference_measure_has_linear_axis_around_zero() -> None:
    eff = EffectTable(STUDIES, YI, VI, "MD", "none", np.zeros(len(STUDIES), dtype=bool))
    fig = funnel_plot(eff, title="t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    xlo, xhi = ax.get_xlim()
    assert xlo == pytest.approx(-xhi) and xhi > np.abs(YI).max()


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="design has no label for study 'f'"):
        funnel_plot(_effects(), design={s: "RCT" for s in STUDIES[:-1]}, title="t")
    with pytest.raises(ValueError, match="pooled must be a finite positive ratio"):
        funnel_plot(_effects(), pooled=0.0, title="t")
    with pytest.raises(TypeError, match="effects must be an EffectTable"):
        funnel_plot({"yi": YI}, title="t")
