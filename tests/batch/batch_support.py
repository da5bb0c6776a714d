"""Constants and helpers shared by the batch tests (imported by name; fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

N_GOOD, N_BROKEN, CHUNK = 20, 4, 5
SEED = 20260


def read_results(out: Path) -> pd.DataFrame:
    """The final table of a run."""
    return pq.read_table(out / "results.parquet").to_pandas()
