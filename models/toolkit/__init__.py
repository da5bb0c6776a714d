"""A generic Bayesian reanalysis of any meta-analysis: ``reanalyse fit``, ``published`` and ``pool``.

Layers, one job each: :mod:`~models.toolkit.published` (a published estimate read from text),
:mod:`~models.toolkit.spec` (what is analysed: one frozen specification; a user's CSV is read by the one study-file
reader, :mod:`models.reader`, as for every command), :mod:`~models.toolkit.analyses` (exact posteriors: grid,
leave-one-out, cumulative, published, as :class:`models.results.Result` objects), :mod:`~models.toolkit.draws` (the
ArviZ file from exact draws), :mod:`~models.toolkit.mcmc` (sampled fits: ``--mcmc`` and meta-regression),
:mod:`~models.toolkit.pipeline` (runs them all), :mod:`~models.toolkit.figures` and :mod:`~models.toolkit.report`
(output), :mod:`~models.toolkit.cli` (the ``fit`` and ``published`` commands) and :mod:`~models.toolkit.pool`
(``pool``). The priors come from :mod:`models.prior_policy`; the ``reanalyse`` dispatcher above every client is
:mod:`models.command`.
"""
