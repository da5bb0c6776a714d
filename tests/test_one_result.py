"""One result model (issue 18): the same CSV through ``reanalyse fit``'s analyses and through ``reanalyse batch``
gives identical Bayesian and frequentist numbers, in every layout, under the same prior pair.

The two commands' default prior pairs still differ (``fit``: Turner 2015 general; batch: the MSC job's
HalfNormal(0.5)) until the one prior policy lands, so both are run here under batch's primary pair; ``fit``'s analyses
are called as its pipeline calls them (:func:`models.toolkit.analyses.prior_grid_results` with the REML result of
:func:`models.results.summarise.random_effects`). Reference: each command's own result for the other (no numbers are
computed here); the engines are checked against metafor and brute-force integration in their own tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models.batch.analyse import Options, analyse_entry
from models.batch.corpus import Entry
from models.results import to_record
from models.results.summarise import random_effects
from models.toolkit.analyses import prior_grid_results
from models.toolkit.cli import build_spec, fit_parser

FILES = {
    "2x2": "study,e_t,n_t,e_c,n_c\na,1,10,2,10\nb,3,20,4,20\nc,5,30,9,31\nd,0,15,3,14\n",
    "continuous": "study,n_t,mean_t,sd_t,n_c,mean_c,sd_c\na,10,5,1,12,6,1.5\nb,20,4,2,20,5,2\nc,9,3.5,1,9,4,1.2\n",
    "effects": "study,yi,vi\na,0.1,0.04\nb,-0.3,0.09\nc,0.2,0.05\n",
    "effects_ci": "study,estimate,ci_low,ci_high\na,0.5,0.25,1\nb,2,1,4\nc,1.1,0.9,1.4\n",
}
CASES = [
    ("2x2", None),
    ("2x2", "RR"),
    ("continuous", None),
    ("effects", "OR"),
    ("effects", "SMD"),
    ("effects_ci", "RR"),
]
SAME = ("model", "measure", "scale", "method", "k", "studies", "effect_median", "effect_low", "effect_high",
        "p_below_null", "p_benefit", "tau_median", "tau_low", "tau_high", "pred_low", "pred_high", "p_new_benefit",
        "freq_method", "freq_measure", "freq_k", "freq_estimate", "freq_ci_low", "freq_ci_high", "freq_p",
        "freq_tau2", "freq_i2", "freq_q", "freq_q_p", "gate", "status")  # fmt: skip


@pytest.mark.parametrize(("layout", "measure"), CASES, ids=[f"{lay}-{m}" for lay, m in CASES])
def test_fit_and_batch_give_identical_numbers(tmp_path: Path, layout: str, measure: str | None) -> None:
    path = tmp_path / f"{layout}.csv"
    path.write_text(FILES[layout])
    batch = analyse_entry(Entry("x", str(path), measure, False, None), Options())
    tau, effect = batch[0].key.tau_prior, batch[0].key.effect_prior
    argv = [str(path), "--tau-prior", tau, "--effect-prior", effect] + (["--measure", measure] if measure else [])
    spec = build_spec(fit_parser().parse_args(argv))
    frequentist, _ = random_effects(spec.effects)
    fit = list(prior_grid_results(spec, (spec.tau_prior,), (spec.effect_prior,), lambda: None, frequentist))
    assert sorted(r.key.model for r in fit) == sorted(r.key.model for r in batch)
    for b in batch:
        (f,) = [r for r in fit if r.key.model == b.key.model]
        got, want = to_record(f), to_record(b)
        assert {c: got[c] for c in SAME} == {c: want[c] for c in SAME}, b.key.model
