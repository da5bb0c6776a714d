"""Reanalyse a corpus of meta-analyses at once: exact posteriors, REML and Bayes factors per meta-analysis, on Dask.

Layers, one job each: :mod:`corpus` (what to analyse: a folder or a manifest, validated), :mod:`priors` (the stated
prior sets), :mod:`analyse` (one meta-analysis to :class:`models.results.Result` objects, written in the one column
vocabulary of every command; faults become ``error`` results), :mod:`chunks` (chunk files written atomically,
resume, streaming combine), :mod:`runner` (in-process or ``dask.distributed`` execution with progress),
:mod:`report` (corpus report), :mod:`synthetic` (seeded synthetic corpora) and :mod:`cli` (the ``batch`` command).
"""
