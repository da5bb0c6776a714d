"""Published Cochrane meta-research figures: Turner et al. 2015 Table IV entries against the presets and the
median and 95% range the paper prints for the general setting (Turner 2015 Stat Med 34:984, p. 993)."""

from __future__ import annotations

import pytest

from models.cochrane_references import (
    COMPARISON_TYPES,
    OUTCOME_TYPES,
    TURNER2015,
    TURNER2015_GENERAL,
    lognormal_tau_quantile,
    turner2015_prior,
)
from models.priors import tau_prior


def test_table_iv_has_every_outcome_and_comparison() -> None:
    assert len(OUTCOME_TYPES) == 16 and len(COMPARISON_TYPES) == 5 and len(TURNER2015) == 80


@pytest.mark.parametrize(
    ("comparison", "preset"),
    [("pharma_vs_placebo", "turner2015_mortality_pharma"), ("nonpharma_vs_placebo", "turner2015_mortality_nonpharma")],
)
def test_mortality_entries_equal_the_presets_from_the_paper(comparison: str, preset: str) -> None:
    prior = turner2015_prior("all_cause_mortality", comparison)
    assert prior.params == tau_prior(preset).params
    assert prior.median() == pytest.approx(tau_prior(preset).median(), rel=1e-12)


def test_general_setting_median_and_range_as_published() -> None:
    """Turner 2015 p. 993: log tau^2 ~ N(-2.56, 1.74^2): median tau 0.278, 95% range 0.051-1.53."""
    m, s = TURNER2015_GENERAL
    assert lognormal_tau_quantile(m, s, 0.5) == pytest.approx(0.278, abs=5e-4)
    assert lognormal_tau_quantile(m, s, 0.025) == pytest.approx(0.051, abs=5e-4)
    assert lognormal_tau_quantile(m, s, 0.975) == pytest.approx(1.53, abs=5e-3)


def test_unknown_type_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="all_cause_mortality"):
        turner2015_prior("death", "pharma_vs_placebo")
