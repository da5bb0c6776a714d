"""The inclusion rules of the evidence base, applied to the data: which studies enter, and why the others do not.

Rules (stated in ``data/README.md``; each reads a column, none is a hand-made list):

* **cell product** -- a study whose product (``studies.csv`` ``product``) is not ``cells`` (extracellular
  vesicles, secretome, exosomes) tested a cell-free product derived from MSCs, not MSCs: excluded.
* **COVID-19 population** -- a study that enrolled ARDS of any cause (``population`` = ``ards-any-cause``) enters
  only with death counts of its COVID-19 subgroup (its primary mortality rows have ``population`` = ``covid-19``);
  without them it is excluded. Whole-trial counts of mixed populations are never pooled with COVID-19 trials.
* **multi-arm trials** are not an exclusion: the loader requires the primary MSC arm of every cell study to have
  received cells alone (``msc_arm_product`` = ``cells``); an arm that adds a cell-free product enters only a named
  sensitivity variant (zarrabi2023's MSC + vesicle arm).

Follow-up reports (``reports.csv``) are never studies, so never excluded: their counts are time points of their trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CELLS = "cells"
COVID = "covid-19"
RULE_CELL_PRODUCT = "cell product"
RULE_COVID_POPULATION = "COVID-19 population"
RULES = (RULE_CELL_PRODUCT, RULE_COVID_POPULATION)
POPULATION_WORDS = {"ards-any-cause": "patients with ARDS of any cause (COVID-19 and other causes)"}


@dataclass(frozen=True)
class Exclusion:
    """A study left out of every evidence-base set: which rule and why, in words a reader can check."""

    study_id: str
    label: str
    rule: str
    reason: str


def exclusions(studies: pd.DataFrame, outcomes: pd.DataFrame, labels: dict[str, str]) -> tuple[Exclusion, ...]:
    """The excluded studies of ``studies`` (indexed by study_id), in file order; ``labels`` maps id -> 'Author Year'.

    A study broken by both rules is listed once, under the first rule that excludes it.
    """
    primary_mortality = outcomes[(outcomes["outcome"] == "mortality") & (outcomes["variant"] == "primary")]
    counted = primary_mortality.groupby("study_id")["population"].agg(lambda p: set(p))
    out = []
    for sid, study in studies.iterrows():
        product, population = str(study["product"]), str(study["population"])
        if product != CELLS:
            reason = f"tested {product} derived from MSCs, a cell-free product, not MSC cells"
            out.append(Exclusion(sid, labels[sid], RULE_CELL_PRODUCT, reason))
        elif population != COVID and counted.get(sid, set()) != {COVID}:
            reason = (f"enrolled {POPULATION_WORDS.get(population, population)}; no death counts of its COVID-19 "
                      "patients were found")  # fmt: skip
            out.append(Exclusion(sid, labels[sid], RULE_COVID_POPULATION, reason))
    return tuple(out)
