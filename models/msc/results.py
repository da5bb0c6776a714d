"""The MSC job's store of typed results: :class:`models.results.Result` objects looked up by key and kind.

Every analysis of the job adds :class:`~models.results.Result` objects (the one result model of every client) to
one :class:`Results` store; the report and the figures look them up by key (analysis, model, priors) or select them
by kind, parent and document, and ``summary.csv`` is :func:`models.results.frame` of the store, in computation order.
Keys are unique: a second result under one key is an error (two analyses would share a row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from models.msc.priors import PRIMARY_EFFECT_PRIOR, PRIMARY_TAU_PRIOR
from models.results import Kind, Result, ResultKey, frame


@dataclass
class Results:
    """The job's results in the order they were computed, looked up by key and kind."""

    _by_key: dict[ResultKey, Result] = field(default_factory=dict)

    def add(self, result: Result) -> Result:
        """Store a new result; a second result under the same key is an error."""
        if result.key in self._by_key:
            raise ValueError(f"two results under one key: {result.key}")
        self._by_key[result.key] = result
        return result

    def extend(self, results: Iterable[Result]) -> None:
        for result in results:
            self.add(result)

    def update(self, key: ResultKey, **changes: Any) -> Result:
        """Replace the result under ``key`` by a copy with ``changes`` (e.g. its evidence, once computed)."""
        self._by_key[key] = replace(self._by_key[key], **changes)
        return self._by_key[key]

    def __iter__(self) -> Iterator[Result]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def get(
        self,
        analysis: str,
        model: str,
        tau_prior: str = PRIMARY_TAU_PRIOR,
        effect_prior: str = PRIMARY_EFFECT_PRIOR,
    ) -> Result | None:
        """The result of ``analysis`` x ``model`` under the given priors (the job's primary pair by default)."""
        return self._by_key.get(ResultKey(analysis, model, tau_prior, effect_prior))

    def select(
        self,
        *,
        kinds: tuple[Kind, ...] | None = None,
        analysis: str | None = None,
        model: str | None = None,
        parent: str | None = None,
        document: str | None = None,
        primary_priors: bool = False,
    ) -> list[Result]:
        """Results matching every given field exactly (``kinds``: any of them), in computation order; ``document``
        is the result's source."""
        return [
            r
            for r in self._by_key.values()
            if (kinds is None or r.kind in kinds)
            and (analysis is None or r.key.analysis == analysis)
            and (model is None or r.key.model == model)
            and (parent is None or r.context.parent == parent)
            and (document is None or r.context.source == document)
            and (not primary_priors or r.primary_priors)
        ]

    def has_document(self, document: str) -> bool:
        """True when any result belongs to ``document``."""
        return any(r.context.source == document for r in self._by_key.values())

    def frame(self) -> pd.DataFrame:
        """summary.csv: one row per result in computation order, in the one column vocabulary."""
        return frame(self._by_key.values())
