"""Seeded synthetic corpora of binary-outcome meta-analyses, of any size, for scale tests and benchmarks.

Each meta-analysis has k ~ Uniform{3..30} studies; study i has arms of Uniform{20..400} patients, a control risk
with logit ~ Normal(logit 0.2, 0.6^2), and a true log-OR ``mu + tau z_i`` with ``mu ~ Normal(-0.15, 0.25^2)`` and
``tau ~ |Normal(0, 0.25^2)|``; events are binomial. Everything is drawn from one ``numpy`` Generator seeded by
``seed``, so the same seed writes byte-identical files. ``malformed`` adds that many broken meta-analyses (a count
above its arm size, a non-numeric cell, a single study, a missing column) in rotation, for fault tests.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

_BROKEN = ("events_exceed", "not_numeric", "single_study", "missing_column")


def _study_rows(rng: np.random.Generator, k: int) -> list[list[object]]:
    mu, tau = rng.normal(-0.15, 0.25), abs(rng.normal(0.0, 0.25))
    rows = []
    for i in range(k):
        n_t, n_c = (int(x) for x in rng.integers(20, 401, size=2))
        base = rng.normal(np.log(0.2 / 0.8), 0.6)
        theta = mu + tau * rng.normal()
        p_c, p_t = 1 / (1 + np.exp(-(base - theta / 2))), 1 / (1 + np.exp(-(base + theta / 2)))
        rows.append([f"study {i + 1}", int(rng.binomial(n_t, p_t)), n_t, int(rng.binomial(n_c, p_c)), n_c])
    return rows


def _break(rows: list[list[object]], kind: str) -> tuple[list[str], list[list[object]]]:
    header = ["study", "e_t", "n_t", "e_c", "n_c"]
    if kind == "events_exceed":
        rows[1][1] = int(rows[1][2]) + 5
    elif kind == "not_numeric":
        rows[0][3] = "twelve"
    elif kind == "single_study":
        rows = rows[:1]
    else:
        header, rows = header[:4], [r[:4] for r in rows]
    return header, rows


def write_corpus(folder: str | Path, n: int, seed: int, malformed: int = 0) -> Path:
    """Write ``n`` good and ``malformed`` broken meta-analyses (``ma00001.csv``, ...) and ``manifest.csv`` into
    ``folder``; returns the manifest's path. Broken ones are spread evenly through the corpus."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    total = n + malformed
    broken_at = {int(i) for i in np.linspace(0, total - 1, malformed + 2)[1:-1]} if malformed else set()
    width = max(5, len(str(total)))
    manifest = [["id", "path", "measure", "higher_is_benefit"]]
    b = 0
    for i in range(total):
        ma_id = f"ma{i + 1:0{width}d}"
        header, rows = ["study", "e_t", "n_t", "e_c", "n_c"], _study_rows(rng, int(rng.integers(3, 31)))
        if i in broken_at:
            header, rows = _break(rows, _BROKEN[b % len(_BROKEN)])
            b += 1
        with open(folder / f"{ma_id}.csv", "w", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle)
            w.writerow(header)
            w.writerows(rows)
        manifest.append([ma_id, f"{ma_id}.csv", "OR", "false"])
    path = folder / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(manifest)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python scripts/synthetic_corpus.py N FOLDER [--seed S] [--malformed M]``: write a synthetic corpus and print
    its manifest's path (exit 2 with one line for bad options or a folder that is not empty)."""

    from models.cli import OneLineParser, error, int_at_least, seed_value

    parser = OneLineParser(prog="synthetic_corpus", description="Write a seeded synthetic corpus of binary "
                           "meta-analyses (k 3..30) with a manifest for `reanalyse batch`.")  # fmt: skip
    parser.add_argument("n", type=int_at_least(1), help="number of meta-analyses")
    parser.add_argument("folder", help="output folder (created; must be empty)")
    parser.add_argument("--seed", type=seed_value, default=1, help="seed (default: %(default)s)")
    parser.add_argument("--malformed", type=int_at_least(0), default=0, help="broken meta-analyses to add (default 0)")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        return error(f"{args.folder}: exists and is not an empty folder")
    print(write_corpus(folder, args.n, args.seed, args.malformed))
    return 0
