"""A generic Bayesian reanalysis of any meta-analysis, and the ``reanalyse`` command.

Layers, one job each: :mod:`~models.toolkit.spec` (what is analysed: one frozen specification),
(a user's CSV is read by the one study-file reader, :mod:`models.reader`, as for every command),
:mod:`~models.toolkit.prior_grid` (which priors), :mod:`~models.toolkit.analyses` (exact posteriors: grid,
leave-one-out, cumulative, published, as :class:`models.results.Result` objects), :mod:`~models.toolkit.mcmc`
(sampled fits saved as ArviZ NetCDF), :mod:`~models.toolkit.pipeline` (runs them all), :mod:`~models.toolkit.figures`
and :mod:`~models.toolkit.report` (output), :mod:`~models.toolkit.cli` (the command).
The shipped MSC reanalysis is one client (:mod:`~models.msc.command`).
"""
