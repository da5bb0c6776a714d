"""The ArviZ file of a reanalysis, from its exact posterior: independent draws by inverse-cdf sampling, no MCMC.

``fit`` answers every question from the exact (quadrature) posteriors and writes the primary one as ArviZ NetCDF
(``fits/<model>__primary.nc``, group ``posterior``) so that it opens like any fit (``az.from_netcdf``,
``az.summary``, ``az.plot_forest``). Each quantity is drawn from its own exact marginal posterior:

* ``mu`` (pooled effect), ``tau`` (between-study SD), ``theta`` (dim ``study``: each study's shrunken effect) and
  ``theta_new`` (the effect in a new study: the predictive distribution); ``mu``, ``theta`` and ``theta_new`` on the
  analysis scale (log OR / log RR for ratios), as in the MCMC files.
* Inverse-cdf sampling: a uniform ``u`` per draw, and the quantile function at ``u``. The quantile function is
  computed exactly at :data:`NODES` levels equally spaced in ``z = Phi^-1(q)`` over ``[-Z_MAX, Z_MAX]`` and
  interpolated monotonically (PCHIP) in ``z`` between them; the tails beyond ``|z| = Z_MAX`` (probability 4e-8) take
  the end nodes.
* The draws are independent, so no R-hat or effective sample size is needed (the ``chain`` dimension holds
  :data:`CHAINS` independent sets, so tools that expect chains work and report R-hat 1.00 and ESS about the number
  of draws). The variables are drawn independently of one another: the file holds each quantity's exact marginal
  posterior, not their joint distribution (``--mcmc`` writes joint MCMC draws). The root attributes say so.

Until the exact engines expose their own draws, this module asks the posterior protocol of
:class:`models.bayes.posterior.Posterior` for its quantile functions; :func:`exact_draws` is the one place to switch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from scipy import special
from scipy.interpolate import PchipInterpolator

from models.atomic import write_atomic
from models.bayes.posterior import Posterior
from models.provenance import package_versions, prior_attrs, project_version
from models.toolkit.spec import MetaAnalysisSpec

CHAINS = 4
DRAWS_PER_CHAIN = 5000
NODES = 65
Z_MAX = 5.5
METHOD = (
    "exact independent draws: each variable from its own exact marginal posterior (quadrature) by inverse-cdf "
    f"sampling, the quantile function computed at {NODES} levels equally spaced in Phi^-1(q) over +-{Z_MAX} and "
    "interpolated monotonically (PCHIP) between them; no MCMC"
)
RHAT = (
    "not needed: the draws are independent (no autocorrelation); the chain dimension holds independent sets, so R-hat "
    "is 1.00 and ESS about the number of draws"
)
JOINT = "variables are drawn independently of one another: marginals exact, their joint distribution not represented"


def _quantile_sampler(quantile, rng: np.random.Generator, n: int) -> np.ndarray:  # noqa: ANN001 (q -> values)
    """``n`` draws (shape ``(n,) + value shape``) from the quantile function ``quantile(q)`` (module docstring)."""
    z = np.linspace(-Z_MAX, Z_MAX, NODES)
    values = np.array([quantile(float(q)) for q in special.ndtr(z)], dtype=float)
    u = np.clip(special.ndtri(rng.uniform(size=n)), -Z_MAX, Z_MAX)
    return PchipInterpolator(z, values, axis=0)(u)


def exact_draws(post: Posterior, *, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` independent draws of ``mu``, ``tau``, ``theta`` (shape ``(n, k)``) and ``theta_new`` from ``post``
    (analysis scale; module docstring). One seeded stream per variable, in that order."""
    streams = np.random.SeedSequence(seed).spawn(4)
    rngs = [np.random.default_rng(s) for s in streams]
    return {
        "mu": _quantile_sampler(post._mu_ppf, rngs[0], n),
        "tau": _quantile_sampler(post._tau_ppf, rngs[1], n),
        "theta": _quantile_sampler(post._theta_ppf, rngs[2], n),
        "theta_new": _quantile_sampler(post._pred_ppf, rngs[3], n),
    }


def data_hash(spec: MetaAnalysisSpec) -> str:
    """SHA-256 of what the primary model saw: study labels and arm counts, or effects and variances."""
    if spec.counts is not None and spec.is_ratio:
        c = spec.counts
        payload = [list(c.study), *(getattr(c, a).tolist() for a in ("e_t", "n_t", "e_c", "n_c"))]
    else:
        e = spec.effects
        payload = [list(e.study), np.round(e.yi, 12).tolist(), np.round(e.vi, 12).tolist(), e.measure]
    return hashlib.sha256(repr(payload).encode()).hexdigest()


def write_exact_draws(draws: dict[str, np.ndarray], post: Posterior, spec: MetaAnalysisSpec, model: str, path: Path,
                      *, seed: int) -> Path:  # fmt: skip
    """Write ``draws`` (:func:`exact_draws` of ``post``, :data:`CHAINS` x :data:`DRAWS_PER_CHAIN` of them, drawn with
    ``seed``), the primary model ``model`` of ``spec``, as ArviZ NetCDF at ``path`` atomically; returns the path.

    Written with h5netcdf directly (the NetCDF-4 layout xarray writes: a ``posterior`` group with dimension
    coordinates ``chain``, ``draw``, ``study``), not through xarray, whose writer imports Dask to look for a
    scheduler: about half a second of a first answer."""
    study = list(post._study_labels())
    shape = (CHAINS, DRAWS_PER_CHAIN)
    variables = {
        "mu": (("chain", "draw"), draws["mu"].reshape(shape)),
        "tau": (("chain", "draw"), draws["tau"].reshape(shape)),
        "theta": (("chain", "draw", "study"), draws["theta"].reshape(*shape, len(study))),
        "theta_new": (("chain", "draw"), draws["theta_new"].reshape(shape)),
    }
    attrs = {
        "model": model,
        "measure": post.measure,
        "draws": METHOD,
        "rhat": RHAT,
        "joint": JOINT,
        "scale": f"mu, theta, theta_new on the {'log ' + post.measure if post.is_ratio else post.measure} scale",
        "study": json.dumps(study),
        **prior_attrs(spec.tau_prior, spec.effect_prior),
        "seed": int(seed),
        "data_hash": data_hash(spec),
        "project_version": project_version(),
        "package_versions": json.dumps(package_versions(), sort_keys=True),
    }

    def write(tmp: Path) -> None:
        import h5netcdf
        import h5py

        with h5netcdf.File(tmp, "w") as root:
            root.attrs.update(attrs)
            group = root.create_group("posterior")
            group.dimensions = {"chain": CHAINS, "draw": DRAWS_PER_CHAIN, "study": len(study)}
            group.create_variable("chain", ("chain",), data=np.arange(CHAINS))
            group.create_variable("draw", ("draw",), data=np.arange(DRAWS_PER_CHAIN))
            group.create_variable("study", ("study",), data=np.array(study, dtype=object), dtype=h5py.string_dtype())
            for name, (dims, values) in variables.items():
                group.create_variable(name, dims, data=values)

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, write)
