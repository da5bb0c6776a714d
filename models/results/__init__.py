"""THE result model of every client (layer 7: above ``bayes/`` and ``frequentist/``, below ``report/`` and the
clients).

:mod:`~models.results.model` -- the typed, frozen :class:`Result` and its parts; :mod:`~models.results.columns` --
the one output column vocabulary (CSV, JSON, Parquet); :mod:`~models.results.summarise` -- posteriors to results.
"""

from models.results.columns import COLUMN_NAMES, COLUMNS, arrow_schema, frame, to_arrow, to_record
from models.results.model import (
    ALL_STUDIES,
    Context,
    Direction,
    EffectSummary,
    Evidence,
    Frequentist,
    Gate,
    Kind,
    McmcCheck,
    Method,
    Prediction,
    PublishedFigure,
    Result,
    ResultKey,
    Scale,
    Status,
    TauSummary,
    error_result,
    find,
    with_failure,
)

__all__ = [
    "ALL_STUDIES", "COLUMNS", "COLUMN_NAMES", "Context", "Direction", "EffectSummary", "Evidence", "Frequentist",
    "Gate", "Kind", "McmcCheck", "Method", "Prediction", "PublishedFigure", "Result", "ResultKey", "Scale", "Status",
    "TauSummary", "arrow_schema", "error_result", "find", "frame", "to_arrow", "to_record", "with_failure",
]  # fmt: skip
