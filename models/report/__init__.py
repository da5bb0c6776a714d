"""Report output: clinical figures (matplotlib) and the Markdown/HTML report writer.

Figure functions take plain numpy arrays, DataFrames and dicts (ratio measures on the ratio scale unless
a name says ``log_``), return a :class:`matplotlib.figure.Figure`, and leave saving to :func:`save_figure`.
"""

from models.report.densities import posterior_density, tau_prior_posterior
from models.report.document import Report
from models.report.files import save_figure
from models.report.forest import Heterogeneity, forest_plot, subgroup_effects
from models.report.sensitivity import prior_sensitivity_heatmap, prior_sensitivity_table_figure
from models.report.timeline import evidence_over_time
from models.report.tipping import tipping_map

__all__ = [
    "Heterogeneity",
    "Report",
    "evidence_over_time",
    "forest_plot",
    "posterior_density",
    "prior_sensitivity_heatmap",
    "prior_sensitivity_table_figure",
    "save_figure",
    "subgroup_effects",
    "tau_prior_posterior",
    "tipping_map",
]
