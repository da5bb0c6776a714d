"""The result of one Bayesian fit, and its NetCDF file.

A :class:`Fit` bundles the draws (an ``xarray.DataTree`` with groups posterior, prior, observed_data,
constant_data, log_likelihood, sample_stats; padding already removed, studies labelled) with everything needed
to say what was fitted: model, measure, priors, sampler settings (with the convergence gates applied), a hash of the
input data and the convergence diagnostics. :meth:`Fit.save` writes it atomically to NetCDF (h5netcdf) with that
provenance in the root attrs, and the project version and git commit (:mod:`models.provenance`);
:func:`load_fit` reads the file back.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from models.bayes.diagnostics import Diagnostics
from models.priors import EffectPrior, TauPrior
from models.provenance import git_commit, package_versions, prior_attrs, project_version

if TYPE_CHECKING:
    from models.bayes.posterior import DrawsPosterior

MODELS = ("binomial_normal", "normal_normal")


@dataclass(frozen=True)
class Fit:
    """One fitted model.

    Attributes
    ----------
    idata : xarray.DataTree
        Draws and data; dims ``chain, draw`` plus ``study`` (real studies only, labelled) and ``covariate``.
        ``mu`` and ``theta`` are on the analysis scale of ``measure`` (log scale for OR/RR).
    model : str
        ``"binomial_normal"`` or ``"normal_normal"``.
    measure : str
        Effect measure of ``mu`` (``"OR"`` for the binomial-normal model; the effect table's measure otherwise).
    study : tuple of str
        Study labels, in model order.
    tau_prior, effect_prior : TauPrior, EffectPrior
        The priors used.
    settings : dict
        Sampler and model settings (draws, tune, chains, seed, target_accept, n_slots, baseline_sd, beta_sd, ...).
    data_hash : str
        SHA-256 of the model inputs (labels, counts or effects, covariates); equal hashes mean equal data.
    diagnostics : Diagnostics
        R-hat, ESS and divergences with the gate verdict.
    label : str
        Free-text name of the analysis (e.g. ``"tang2024 mortality, leave out shu2020"``).
    """

    idata: xr.DataTree
    model: str
    measure: str
    study: tuple[str, ...]
    tau_prior: TauPrior
    effect_prior: EffectPrior
    settings: dict[str, Any]
    data_hash: str
    diagnostics: Diagnostics
    label: str = ""

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")

    def posterior(self, seed: int = 0) -> DrawsPosterior:
        """The posterior draws as a queryable :class:`~models.bayes.posterior.DrawsPosterior`."""
        from models.bayes.posterior import DrawsPosterior

        return DrawsPosterior(self.idata["posterior"].to_dataset(), self.measure, seed=seed)

    def attrs(self) -> dict[str, str | int | float]:
        """Provenance written to the root of the NetCDF file (NetCDF-safe scalars and JSON strings)."""
        return {
            "model": self.model,
            "measure": self.measure,
            "label": self.label,
            "study": json.dumps(list(self.study)),
            **prior_attrs(self.tau_prior, self.effect_prior),
            "settings": json.dumps(self.settings, sort_keys=True),
            "gates": json.dumps(self.settings.get("gates"), sort_keys=True),
            "seed": int(self.settings.get("seed", -1)),
            "data_hash": self.data_hash,
            "package_versions": json.dumps(package_versions(), sort_keys=True),
            "project_version": project_version(),
            "git_commit": git_commit() or "",
            "diagnostics_passed": int(self.diagnostics.passed),
            "diagnostics_failures": json.dumps(list(self.diagnostics.failures)),
            "divergences": int(self.diagnostics.divergences),
            "diagnostics_table": self.diagnostics.table.to_json(orient="index"),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fit to NetCDF (h5netcdf) at ``path`` atomically; return the path.

        The file is written to a temporary name in the same folder and moved into place with ``os.replace``, so
        ``path`` holds either the previous file or the complete new one, never a partial write.
        """
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"path: folder {str(path.parent)!r} does not exist")
        tree = self.idata.copy()
        tree.attrs = {**tree.attrs, **self.attrs()}
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tree.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path


def load_fit(path: str | os.PathLike[str]) -> xr.DataTree:
    """Read a fit written by :meth:`Fit.save` (fully loaded into memory, file closed); provenance in ``.attrs``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no fit file at {str(path)!r}")
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        return tree.load().copy()
