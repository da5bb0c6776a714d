"""The row type of the results table (one row per meta-analysis x model x prior pair) and its Arrow schema.

Scales: ``median``, ``cri_*``, ``pred_*``, ``freq_estimate``, ``freq_ci_*``, ``threshold`` and
``published_estimate`` are on the reported scale (ratio for OR/RR, raw SMD); ``tau_median`` and ``freq_tau2`` on the
analysis scale (log ratio or SMD). ``prob_benefit`` is P(effect on the benefit side of no effect),
``prob_important`` P(effect beyond ``threshold`` on the benefit side); the benefit side follows
``higher_is_benefit``. Bayes factors are inclusion Bayes factors over the four models {fixed, random} x {null,
effect} with equal prior probabilities (:mod:`models.bayes.model_averaging`). A row with ``status == "error"`` has
NaN numbers and says why in ``message``; an ``ok`` row's ``message`` holds caveats (or is empty).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import pyarrow as pa

from models.batch.corpus import Entry

STATUSES = ("ok", "error")
MODELS = ("binomial-normal", "normal-normal")

NAN = math.nan


@dataclass(frozen=True)
class ResultRow:
    """One meta-analysis under one model and one prior pair (see the module docstring for scales)."""

    ma_id: str
    path: str
    model: str
    measure: str
    tau_prior: str
    effect_prior: str
    primary_priors: bool
    higher_is_benefit: bool
    k: int
    threshold: float = NAN
    prob_benefit: float = NAN
    prob_important: float = NAN
    median: float = NAN
    cri_low: float = NAN
    cri_high: float = NAN
    tau_median: float = NAN
    pred_low: float = NAN
    pred_high: float = NAN
    bf10_effect: float = NAN
    bf10_heterogeneity: float = NAN
    freq_estimate: float = NAN
    freq_ci_low: float = NAN
    freq_ci_high: float = NAN
    freq_p: float = NAN
    freq_tau2: float = NAN
    freq_i2: float = NAN
    published_estimate: float = NAN
    status: str = "ok"
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")


def error_row(entry: Entry, message: str, model: str = "", measure: str = "", tau: str = "", effect: str = "",
              primary: bool = True, k: int = 0) -> ResultRow:  # fmt: skip
    """The ``error`` row of a meta-analysis (or of one model x prior of it) that could not be analysed."""
    published = NAN if entry.published_estimate is None else entry.published_estimate
    return ResultRow(
        ma_id=entry.id, path=entry.path, model=model, measure=measure or (entry.measure or ""), tau_prior=tau,
        effect_prior=effect, primary_priors=primary, higher_is_benefit=entry.higher_is_benefit, k=k,
        published_estimate=published, status="error", message=" ".join(message.split()) or "error",
    )  # fmt: skip


_ARROW = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
_TYPES = {"str": str, "int": int, "float": float, "bool": bool}

SCHEMA = pa.schema([pa.field(f.name, _ARROW[_TYPES[f.type]], nullable=False) for f in fields(ResultRow)])
"""Arrow schema of the results table, in the field order of :class:`ResultRow`."""


def to_table(rows: list[ResultRow], metadata: dict[str, str] | None = None) -> pa.Table:
    """Rows as an Arrow table with :data:`SCHEMA` (and optional schema metadata)."""
    columns = {f.name: [] for f in fields(ResultRow)}
    for row in rows:
        for name, value in asdict(row).items():
            columns[name].append(value)
    schema = SCHEMA.with_metadata(metadata) if metadata else SCHEMA
    return pa.Table.from_pydict(columns, schema=schema)
