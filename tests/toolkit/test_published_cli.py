"""``reanalyse published`` against the conjugate normal closed form (posterior of mu given one published estimate)."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats

from models.priors import EFFECT_PRESETS
from models.toolkit.cli import main
from models.toolkit.spec import PublishedEstimate


def test_published_or_equals_conjugate_normal(capsys) -> None:
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    se = (math.log(0.99) - math.log(0.55)) / (2 * stats.norm.ppf(0.975))
    y = math.log(0.74)
    assert len({r["effect_prior"] for r in payload["results"]}) == 4
    assert len({r["tau_prior"] for r in payload["results"]}) == 8
    for row in payload["results"]:
        prior = EFFECT_PRESETS[row["effect_prior"]]
        precision = 1 / se**2 + 1 / prior.sd**2
        mean, sd = (y / se**2 + prior.mean / prior.sd**2) / precision, precision**-0.5
        assert row["effect_median"] == pytest.approx(math.exp(mean), rel=1e-9)
        assert row["effect_low"] == pytest.approx(math.exp(mean - stats.norm.ppf(0.975) * sd), rel=1e-9)
        assert row["p_below_null"] == pytest.approx(stats.norm.cdf(0, mean, sd), rel=1e-9)
        assert row["p_important"] == pytest.approx(stats.norm.cdf(math.log(0.8), mean, sd), rel=1e-9)


def test_fixed_effect_k_widens_the_interval(capsys) -> None:
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["results"][0]
    assert main(["published", "OR 0.74 [0.55, 0.99]", "--fixed-effect-k", "5", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)["results"][0]
    assert (fixed["model"], fixed["k"]) == ("summary_level_re", 5)
    assert fixed["effect_high"] / fixed["effect_low"] > plain["effect_high"] / plain["effect_low"]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("OR 0.74 [0.55, 0.99]", ("OR", 0.74, 0.55, 0.99)), ("rr 0.8 (0.6-0.95)", ("RR", 0.8, 0.6, 0.95)),
     ("MD -1.5 [-2.5 to -0.5]", ("MD", -1.5, -2.5, -0.5))],
)  # fmt: skip
def test_published_text_forms(text, parsed) -> None:
    p = PublishedEstimate.parse(text)
    assert (p.measure, p.estimate, p.ci_low, p.ci_high) == parsed
