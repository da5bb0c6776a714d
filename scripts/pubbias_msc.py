"""Robust Bayesian model averaging over publication-bias models on the MSC mortality data (binomial likelihood).

Run from the repository root: ``.venv/bin/python scripts/pubbias_msc.py``. Prints, for the randomised trials with
known counts and for all studies with known counts with the non-randomised ones through the additive bias model
(``nrs_bias``, Turner et al. 2009): the model-averaged OR (median, 95% CrI, P(OR < 1), P(OR < 0.8)), the inclusion
Bayes factors, each bias component's posterior probability and conditional answer, and the most probable models.
Priors: the MSC primary pair (tau ~ HalfNormal(0.5), mu ~ Normal(0, 1), which are also RoBMA 4.0's log-OR defaults)
and the RoBMA-PSMA bias components for log OR; expected direction of the effect: negative (benefit lowers mortality).
Double-zero trials are left out, as in the existing PET/PEESE rows. The probability of publication of each trial
comes from the tables its arms can produce (the default); the key numbers with RoBMA's normal approximation follow
each block, to show what the approximation moves.
"""

from __future__ import annotations

import numpy as np

from models.bayes.publication_bias import PublicationBiasAverage, robust_bma_binomial
from models.msc.datasets import load_dataset
from models.msc.priors import PRIMARY_BIAS_PRIOR, PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.msc.specs import EVIDENCE_BASE, PRIMARY_ANALYSIS, evidence_base_sets
from models.priors import BIAS_PRESETS, effect_prior
from models.priors import tau_prior as tau_preset


def show(title: str, r: PublicationBiasAverage) -> None:
    a = r.averaged
    print(f"\n== {title} (k = {r.k}; left out: {', '.join(r.excluded) or 'none'}) ==")
    print(f"model-averaged OR {a.median:.3f} (95% CrI {a.low:.3f}-{a.high:.3f}); P(OR < 1) = {a.prob_below_null:.3f}; "
          f"P(OR < {a.threshold:g}) = {a.prob_below_threshold:.3f}; P(no effect) = {a.p_null:.3f}")  # fmt: skip
    c = r.conditional
    print(f"given an effect: OR {c.median:.3f} ({c.low:.3f}-{c.high:.3f}); P(OR < 1) = {c.prob_below_null:.3f}")
    for inc in (r.effect, r.heterogeneity, r.bias):
        print(f"inclusion BF {inc.component:17s} {inc.bf:8.3f} (log {inc.log_bf:+.3f}); "
              f"P {inc.prior_prob:.2f} -> {inc.posterior_prob:.3f}")  # fmt: skip
    print("bias component                      prior  post     BF   OR|effect (95% CrI)      P(OR<1)|effect")
    for b in r.bias_models:
        e = b.effect
        print(f"  {b.key:32s} {b.prior_prob:.3f} {b.posterior_prob:.3f} {b.bf:6.3f}   {e.median:.3f} "
              f"({e.low:.3f}-{e.high:.3f})   {e.prob_below_null:.3f}")  # fmt: skip
    order = np.argsort([-m.posterior_prob for m in r.models])
    top = "; ".join(f"{r.models[i].key} {r.models[i].posterior_prob:.3f}" for i in order[:8])
    print(f"most probable models: {top}")
    print(f"all quadratures settled: {r.settled}")


def main() -> None:
    ds = load_dataset()
    sets = {s.analysis: s for s in evidence_base_sets(ds)}
    tp, ep = tau_preset(PRIMARY_TAU_PRIOR), effect_prior(PRIMARY_EFFECT_PRIOR)
    rct = sets[PRIMARY_ANALYSIS]
    both = sets["all"]
    bias = BIAS_PRESETS[PRIMARY_BIAS_PRIOR]
    nrs = np.array([ds.studies.loc[s, "design"] == "NRS" for s in both.table.study])
    runs = {
        f"{EVIDENCE_BASE}/{PRIMARY_ANALYSIS}: {rct.title}": (rct.table, {}),
        f"{EVIDENCE_BASE}/nrs_bias: RCT + NRS through the bias model ({bias.key})": (
            both.table, {"bias_mean": np.where(nrs, bias.mean, 0.0), "bias_sd": np.where(nrs, bias.sd, 0.0)}),
    }  # fmt: skip
    for title, (table, kw) in runs.items():
        show(title, robust_bma_binomial(table, tp, ep, direction="negative", **kw))
        approx = robust_bma_binomial(table, tp, ep, direction="negative", selection="normal", **kw)
        a = approx.averaged
        print(f"with the normal approximation of the probability of publication instead: P(OR < 1) = "
              f"{a.prob_below_null:.3f}, P(OR < 0.8) = {a.prob_below_threshold:.3f}, inclusion BF bias "
              f"{approx.bias.bf:.3f}, effect {approx.effect.bf:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
