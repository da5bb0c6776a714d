"""What a paper's published crude totals say about the deaths in studies whose counts were never published.

A meta-analysis abstract that gives crude mortality for all its studies (e.g. "MSC 26.4% vs control 31.9%,
n = 1,080") fixes the *total* deaths over all arms. Subtracting the deaths of the studies with known counts leaves the
total deaths in the studies without counts: only the totals, not how they are spread over those studies.

:func:`implied_missing_deaths` does that arithmetic and shows it; :func:`allocations` spreads the totals over the
studies in several ways consistent with them (in proportion to arm size; as one pooled row; concentrated in the
studies with the largest or the smallest arms), so that the report can show how much the answer depends on the
spread, which nobody outside the paper's authors knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.msc.missing import split_counts
from models.tables import BinaryTable


@dataclass(frozen=True)
class ImpliedDeaths:
    """Deaths in the studies without counts implied by published crude risks (and the arithmetic behind them).

    ``risk_t``/``risk_c`` are the published crude risks (proportions) of the MSC and control arms; ``n_t_all``,
    ``n_c_all`` the arm totals over all studies *in the data* (which may differ from the paper's ``n_published``);
    ``known_t``/``known_c`` the deaths of the studies with counts; ``deaths_t``/``deaths_c`` the implied deaths in the
    studies without counts (rounded to whole deaths); ``range_t``/``range_c`` what they become when the published n
    is used instead of the data's arm sizes, and with the published percentages' rounding (+-0.05 points).
    """

    risk_t: float
    risk_c: float
    n_published: int
    n_t_all: int
    n_c_all: int
    known_t: int
    known_c: int
    missing_n_t: int
    missing_n_c: int
    deaths_t: int
    deaths_c: int
    range_t: tuple[int, int]
    range_c: tuple[int, int]

    def arithmetic(self) -> str:
        """The derivation in words and numbers, for the report."""
        total_t, total_c = self.risk_t * self.n_t_all, self.risk_c * self.n_c_all
        gap = self.n_t_all + self.n_c_all - self.n_published
        return (
            f"Published crude mortality {100 * self.risk_t:.1f}% (MSC) vs {100 * self.risk_c:.1f}% (control). The "
            f"data's arm sizes over all studies are {self.n_t_all} MSC and {self.n_c_all} control patients "
            f"({self.n_t_all + self.n_c_all} in all, {abs(gap)} {'more' if gap > 0 else 'fewer'} than the published "
            f"n = {self.n_published}; the paper's own arm sizes are not published). "
            f"{100 * self.risk_t:.1f}% of {self.n_t_all} = {total_t:.1f} and {100 * self.risk_c:.1f}% of "
            f"{self.n_c_all} = {total_c:.1f} deaths in all; the studies with known counts have {self.known_t} and "
            f"{self.known_c}, which leaves about {self.deaths_t} of {self.missing_n_t} MSC and {self.deaths_c} of "
            f"{self.missing_n_c} control patients dead in the studies without counts "
            f"({100 * self.deaths_t / self.missing_n_t:.0f}% vs {100 * self.deaths_c / self.missing_n_c:.0f}%: a "
            f"crude {'harm' if self.deaths_t / self.missing_n_t > self.deaths_c / self.missing_n_c else 'benefit'}). "
            f"With the published n in place of the data's arm sizes, and the percentages' rounding, the MSC deaths "
            f"range over {self.range_t[0]}-{self.range_t[1]} and the control deaths over "
            f"{self.range_c[0]}-{self.range_c[1]}."
        )


def implied_missing_deaths(
    known: BinaryTable, missing_n_t: np.ndarray, missing_n_c: np.ndarray, risk_t: float, risk_c: float, n_published: int
) -> ImpliedDeaths:
    """Deaths in the studies without counts implied by published crude risks ``risk_t``/``risk_c`` (proportions)."""
    for name, r in (("risk_t", risk_t), ("risk_c", risk_c)):
        if not 0.0 <= r <= 1.0:
            raise ValueError(f"{name} must be a proportion, got {r!r}")
    n_t_all = int(known.n_t.sum() + np.sum(missing_n_t))
    n_c_all = int(known.n_c.sum() + np.sum(missing_n_c))
    known_t, known_c = int(known.e_t.sum()), int(known.e_c.sum())
    m_t, m_c = int(np.sum(missing_n_t)), int(np.sum(missing_n_c))

    def implied(risk: float, n_arm: float, known_deaths: int, cap: int) -> int:
        return int(min(cap, max(0, round(risk * n_arm) - known_deaths)))

    share_t = n_t_all / (n_t_all + n_c_all)
    candidates_t, candidates_c = [], []
    for n_all in (n_t_all + n_c_all, n_published):
        for delta in (-0.0005, 0.0, 0.0005):
            candidates_t.append(implied(risk_t + delta, n_all * share_t, known_t, m_t))
            candidates_c.append(implied(risk_c + delta, n_all * (1 - share_t), known_c, m_c))
    return ImpliedDeaths(
        risk_t=risk_t,
        risk_c=risk_c,
        n_published=int(n_published),
        n_t_all=n_t_all,
        n_c_all=n_c_all,
        known_t=known_t,
        known_c=known_c,
        missing_n_t=m_t,
        missing_n_c=m_c,
        deaths_t=implied(risk_t, n_t_all, known_t, m_t),
        deaths_c=implied(risk_c, n_c_all, known_c, m_c),
        range_t=(min(candidates_t), max(candidates_t)),
        range_c=(min(candidates_c), max(candidates_c)),
    )


@dataclass(frozen=True)
class Allocation:
    """One way of spreading the implied deaths over the studies without counts."""

    key: str
    label: str
    table: BinaryTable


@dataclass(frozen=True)
class TotalsScenario:
    """The published-totals scenario of a run: the implied deaths, the spreads tried (keys, the proportional spread
    first), the proportional spread's full 24-study table (the one the hierarchy of analyses uses) and the studies
    whose deaths are imputed in it (not published deaths: the certainty rules keep their reporting-bias concern)."""

    implied: ImpliedDeaths
    spreads: tuple[str, ...]
    proportional: BinaryTable
    imputed: tuple[str, ...] = ()


def _fill(total: int, sizes: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Put ``total`` events into arms in ``order``, each filled up to its size before the next."""
    out = np.zeros_like(sizes)
    left = total
    for i in order:
        out[i] = min(sizes[i], left)
        left -= out[i]
    if left:
        raise ValueError(f"{total} events do not fit into arms of {int(sizes.sum())} patients")
    return out


def allocations(
    known: BinaryTable,
    labels: tuple[str, ...],
    missing_n_t: np.ndarray,
    missing_n_c: np.ndarray,
    deaths_t: int,
    deaths_c: int,
) -> list[Allocation]:
    """Spreads of ``deaths_t``/``deaths_c`` over the studies without counts, each appended to ``known``.

    * ``proportional`` -- in proportion to arm size (largest remainder): every study at the same crude risk;
    * ``one_row`` -- the studies without counts pooled into one row (what one gets by entering the totals alone);
    * ``concentrated_large`` / ``concentrated_small`` -- deaths piled into the studies with the largest (smallest)
      arms first, in both arms;
    * ``msc_large_control_small`` / ``msc_small_control_large`` -- MSC deaths piled into the largest studies and
      control deaths into the smallest (and the reverse): the most discordant spreads, as far from "every study at
      the same risk" as the totals allow.

    These are bounding spreads chosen by rule, not a search over every allocation: the report calls them so.
    """
    n_t, n_c = np.asarray(missing_n_t, dtype=int), np.asarray(missing_n_c, dtype=int)
    for arm, deaths, n in (("MSC", deaths_t, n_t.sum()), ("control", deaths_c, n_c.sum())):
        if not 0 <= deaths <= n:
            raise ValueError(f"{deaths} {arm} deaths do not fit into arms of {int(n)} patients")
    size = n_t + n_c

    def with_rows(study: tuple[str, ...], e_t, nt, e_c, nc) -> BinaryTable:
        return BinaryTable(
            known.study + study,
            np.concatenate([known.e_t, e_t]),
            np.concatenate([known.n_t, nt]),
            np.concatenate([known.e_c, e_c]),
            np.concatenate([known.n_c, nc]),
        )

    large_first, small_first = np.argsort(-size, kind="stable"), np.argsort(size, kind="stable")
    out = [
        Allocation(
            "proportional",
            "deaths spread in proportion to arm size",
            with_rows(labels, split_counts(deaths_t, n_t), n_t, split_counts(deaths_c, n_c), n_c),
        ),
        Allocation(
            "one_row",
            "the studies without counts entered as one pooled row",
            with_rows(("studies without counts",), [deaths_t], [n_t.sum()], [deaths_c], [n_c.sum()]),
        ),
    ]
    for key, label, order_t, order_c in (
        ("concentrated_large", "deaths concentrated in the largest studies", large_first, large_first),
        ("concentrated_small", "deaths concentrated in the smallest studies", small_first, small_first),
        ("msc_large_control_small", "MSC deaths in the largest, control deaths in the smallest studies",
         large_first, small_first),
        ("msc_small_control_large", "MSC deaths in the smallest, control deaths in the largest studies",
         small_first, large_first),
    ):  # fmt: skip
        out.append(Allocation(key, label, with_rows(labels, _fill(deaths_t, n_t, order_t), n_t,
                                                      _fill(deaths_c, n_c, order_c), n_c)))  # fmt: skip
    return out
