"""Reanalyse a corpus of meta-analyses at once: exact posteriors, REML and Bayes factors per meta-analysis, on Dask.

Layers, one job each: :mod:`corpus` (what to analyse: a folder or a manifest, validated), :mod:`analyse` (one
meta-analysis to :class:`models.results.Result` objects under the priors of :mod:`models.prior_policy`, written in
the one column vocabulary of every command; faults become ``error`` results), :mod:`chunks` (chunk files written
atomically, resume, streaming combine), :mod:`runner` (in-process or ``dask.distributed`` execution with progress),
:mod:`report` (corpus report), :mod:`synthetic` (seeded synthetic corpora) and :mod:`cli` (the ``batch`` command).

Dask, ``distributed`` and pyarrow are the ``batch`` extra (``pip install '.[batch]'``); importing this package itself
loads nothing.
"""

MEASURES = ("OR", "RR", "SMD")
"""Measures the batch analyses: those its file layouts give and the prior policy has defaults for."""
PRIOR_SETS = ("primary", "grid", "bartos2023")
"""``--priors``: the policy's primary pair, its whole sensitivity grid, or Bartoš et al.'s empirical pair for each
row's measure (:mod:`models.prior_policy`)."""
