"""One table of test tolerances, by kind of quantity, each with the reason for its size.

Tests import :data:`TOLERANCE` and name the kind they compare (``TOLERANCE["metafor"]``), so a reader sees in one
place how close each kind of reference is expected to be, and a tolerance is never loosened in one test alone.
"""

TOLERANCE = {
    "metafor": 1e-6,
    # relative: R metafor 3.8-1 results stored to full double precision (tests/reference/*.json); same estimators
    "same_computation": 1e-6,
    # relative: one posterior computed by two routes of the same code (the fit command vs the library call)
    "closed_form": 1e-9,
    # absolute: an analytic result (conjugate normal, fixed tau) against the quadrature engine
    "brute_force": 1e-7,
    # absolute: exact normal-normal posterior against scipy adaptive quadrature at epsrel 1e-10
    "brute_force_binomial": 1e-3,
    # absolute on probabilities, quantiles (log scale) and log evidence: exact binomial-normal grids against brute-force
    # nested integration (largest difference measured 4.2e-4)
    "grid_refinement": 1e-4,
    # absolute: doubling every grid of a quadrature moves its answers by less than this
    "mcse": 3.0,
    # in Monte Carlo standard errors: an MCMC estimate against the exact value (about 1 failure in 370 per statistic
    # if the sampler is right)
}
TOLERANCE.update(
    {
        "pubbias_brute_force": 3.5e-3,
        # absolute on the log evidence (and probabilities) of one RoBMA model: the publication-bias quadrature against
        # scipy adaptive quadrature (its grid-refinement error on real data sets measured at most 3.4e-3)
        "robma_printed_2dp": 0.02,
        # absolute on a log marginal likelihood printed by RoBMA 3.x to 2 decimals: rounding (0.005) plus RoBMA's
        # bridge-sampling error, plus our quadrature's
    }
)
