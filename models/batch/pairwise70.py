"""Import the public Pairwise70 R data package (Cochrane review analyses) from a local copy into a batch corpus.

Pairwise70 (https://github.com/mahmood789/Pairwise70; MIT-licensed code, data derived from Cochrane reviews under
their own terms) holds one R data file per Cochrane review (``data/CD000028_pub4_data.rda``, ...), each a data frame
with one row per study and analysis: ``Analysis.group`` (the comparison's number), ``Analysis.number`` (the outcome's
number in it), ``Analysis.name`` (the outcome), ``Subgroup``, ``Applicability``, ``Study`` and the arm data. The
import reads a user's local copy (never downloads, never writes into it) and writes a new folder::

    python scripts/import_pairwise70.py PATH/TO/Pairwise70 --out pairwise70_corpus [--min-studies 5]
    reanalyse batch pairwise70_corpus/manifest.csv --results pairwise70_batch

``manifest.csv`` (one row per imported meta-analysis: ``id, path, measure, title, outcome_type`` for the batch, and
``review, review_doi, analysis, outcome, k, subgroups, repeated_studies, dropped_studies, review_measure`` for the
reader), ``studies/<id>.csv`` (``study, e_t, n_t, e_c, n_c``: experimental arm first), ``skipped.csv`` (every
analysis not imported, with the reason) and ``README.md`` (source, rules and counts).

Rules (each stated in the written README, so that a corpus says how it was made):

* **Binary analyses only**: every row of the analysis has both arms' events and participants, and no row has a
  standard deviation, a generic-inverse-variance standard error or a Peto variance above 0 (Cochrane's exports fill
  the unused columns with 0). Continuous, generic inverse variance and O-E analyses are skipped with that reason.
* **The overall analysis**: rows marked ``SUBGROUP_ONLY`` (they enter a subgroup's total, not the overall one) are
  left out. **A study listed in two subgroups counts once**: rows with the same study label (whitespace-normalised)
  are one study; when their counts differ (subgroups that split a study's participants, outcomes or time points) the
  first-listed row, in the review's order, is kept and the number of such studies is ``repeated_studies``.
* A study with an arm of 0 participants is left out (``dropped_studies``); an analysis with events above
  participants or negative counts, or with no event in any arm of any study (nothing to estimate), is skipped; so is
  one with fewer than ``--min-studies`` studies left (default 5).
* **Measure** OR for every analysis (the models' scale); ``review_measure`` is the measure the review itself used
  (OR, RR, RD or Peto OR) where its per-study estimates (``Mean``) match one of them computed from the counts
  within 0.2% on every study with events and non-events in both arms, else empty.
* **Direction**: the export does not say whether an event is good or bad, so ``higher_is_benefit`` is left empty
  (the batch's default, false): "benefit" is then fewer events with the experimental intervention (OR < 1).
* **Outcome type**: Turner et al. 2015's outcome type of ``Analysis.name`` by the keyword rules of
  :mod:`models.batch.outcome_types` (empty when none matches); the comparison's type (pharmacological or not) is not
  in the export.

R data files are read with the ``rdata`` package (MIT; part of the ``batch`` extra), without R.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.atomic import OutputFolderError, check_output_folder, commit_staging, open_staging, write_text
from models.batch.outcome_types import outcome_type
from models.cli import USAGE_ERROR, OneLineParser, int_at_least, stage

PROG = "import_pairwise70.py"
SOURCE_URL = "https://github.com/mahmood789/Pairwise70"
REQUIRED = ("Analysis.group", "Analysis.number", "Analysis.name", "Study", "Experimental.cases", "Experimental.N",
            "Control.cases", "Control.N")  # fmt: skip
"""Columns every data frame must have (the others are optional: absent means empty)."""
UNUSED_IF_BINARY = ("Experimental.SD", "Control.SD", "GIV.SE", "Variance")
"""Columns whose positive values mark a continuous, generic-inverse-variance or O-E analysis."""
MANIFEST_FIELDS = ("id", "path", "measure", "title", "outcome_type", "review", "review_doi", "analysis", "outcome",
                   "k", "subgroups", "repeated_studies", "dropped_studies", "review_measure")  # fmt: skip
MEASURE_TOLERANCE = 2e-3
"""Relative agreement of a review's per-study estimates with a measure computed from the counts (``review_measure``:
Cochrane prints estimates to about 6 significant digits)."""


class Pairwise70Error(ValueError):
    """The local copy cannot be imported: names the file (and column) and what is wrong."""


@dataclass(frozen=True)
class Study:
    """One study of an analysis: label and counts (experimental arm first)."""

    label: str
    e_t: int
    n_t: int
    e_c: int
    n_c: int


@dataclass(frozen=True)
class Analysis:
    """One imported meta-analysis (see the module docstring for the rules behind each field)."""

    id: str
    review: str
    review_doi: str
    analysis: str
    outcome: str
    outcome_type: str | None
    studies: tuple[Study, ...]
    subgroups: int
    repeated_studies: int
    dropped_studies: int
    review_measure: str | None

    @property
    def title(self) -> str:
        return f"{self.review} {self.analysis}: {self.outcome}"


@dataclass(frozen=True)
class Skipped:
    """An analysis that was not imported: why (``reason``) and the kind of reason (``cause``, for the counts)."""

    id: str
    outcome: str
    reason: str
    cause: str


# -- reading the R data files ----------------------------------------------------------------------------------------


def _rdata():
    try:
        import rdata
    except ModuleNotFoundError:
        raise Pairwise70Error("reading R data files needs the rdata package: pip install '.[batch]'") from None
    return rdata


def data_files(source: Path) -> list[Path]:
    """The R data files of a local copy: ``source/data/*.rda`` for the package's folder, else ``source/*.rda`` (and
    ``.RData``, ``.rds``), sorted by name."""
    if not source.is_dir():
        raise Pairwise70Error(f"{str(source)!r} is not a folder (give the Pairwise70 folder or its data/ folder)")
    folder = source / "data" if (source / "data").is_dir() else source
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".rda", ".rdata", ".rds") and p.is_file())
    if not files:
        raise Pairwise70Error(f"{str(folder)!r} holds no .rda, .RData or .rds files")
    return files


def read_frame(path: Path) -> tuple[str, pd.DataFrame]:
    """The data set's name and its data frame (the one object of a Pairwise70 file)."""
    rdata = _rdata()
    try:
        if path.suffix.lower() == ".rds":
            objects = {path.stem: rdata.read_rds(path)}
        else:
            objects = rdata.read_rda(path)
    except Exception as err:  # noqa: BLE001 - any parser failure is a file that cannot be read
        raise Pairwise70Error(f"{path}: not a readable R data file ({type(err).__name__}: {err})") from None
    frames = [(name, obj) for name, obj in objects.items() if isinstance(obj, pd.DataFrame)]
    if len(frames) != 1:
        raise Pairwise70Error(f"{path}: expected one data frame, found {len(frames)}")
    name, frame = frames[0]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        have = ", ".join(REQUIRED)
        raise Pairwise70Error(f"{path}: column {missing[0]!r} is missing (a Pairwise70 data frame has {have})")
    return name, frame


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats (NaN for missing or non-numeric; a column R stored as all-NA logical is all NaN)."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column].astype(object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return [""] * len(frame)
    return [" ".join(str(v).split()) if not pd.isna(v) else "" for v in frame[column].astype(object)]


# -- one analysis ----------------------------------------------------------------------------------------------------


def _kind(frame: pd.DataFrame) -> str | None:
    """Why ``frame`` (one analysis's rows) is not a binary analysis, or None when it is."""
    whats = ("continuous (standard deviations)",) * 2 + ("generic inverse variance", "O-E and variance")
    for column, what in zip(UNUSED_IF_BINARY, whats, strict=True):
        if np.nan_to_num(_numbers(frame, column)).max(initial=0.0) > 0:
            return what
    counts = np.column_stack([_numbers(frame, c) for c in REQUIRED[4:]])
    if np.isnan(counts).any():
        return "not binary (events or participants missing)"
    return None


def _peto(e_t: np.ndarray, n_t: np.ndarray, e_c: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    n = n_t + n_c
    events = e_t + e_c
    expected = n_t * events / n
    var = n_t * n_c * events * (n - events) / (n * n * (n - 1.0))
    return np.exp((e_t - expected) / var)


def review_measure(estimates: np.ndarray, e_t: np.ndarray, n_t: np.ndarray, e_c: np.ndarray,
                   n_c: np.ndarray) -> str | None:  # fmt: skip
    """The measure of the review's per-study ``estimates`` (OR, RR, RD or PETO_OR; None when none or several match
    within :data:`MEASURE_TOLERANCE` on the studies with events and non-events in both arms)."""
    ok = (e_t > 0) & (e_c > 0) & (e_t < n_t) & (e_c < n_c) & np.isfinite(estimates)
    if not ok.any():
        return None
    a, n1, c, n2, m = e_t[ok], n_t[ok], e_c[ok], n_c[ok], estimates[ok]
    candidates = {
        "OR": a * (n2 - c) / ((n1 - a) * c),
        "RR": (a / n1) / (c / n2),
        "RD": a / n1 - c / n2,
        "PETO_OR": _peto(a, n1, c, n2),
    }
    hits = [name for name, value in candidates.items()
            if np.allclose(value, m, rtol=MEASURE_TOLERANCE, atol=1e-4 if name == "RD" else 0.0)]  # fmt: skip
    return hits[0] if len(hits) == 1 else None


def _label(text: str) -> str:
    """A study label the reader accepts: whitespace collapsed, control characters dropped, at most 200 characters."""
    text = "".join(ch for ch in text if ch.isprintable())
    return " ".join(text.split())[:200] or "unnamed study"


def analyse_rows(review: str, review_doi: str, analysis: str, frame: pd.DataFrame,
                 min_studies: int) -> Analysis | Skipped:  # fmt: skip
    """One analysis's rows (the review's order) to an :class:`Analysis` or the reason it is :class:`Skipped`."""
    ident = f"{review}_{analysis.replace('.', '_')}"
    outcome = _texts(frame, "Analysis.name")[0] or "(no outcome label)"
    kind = _kind(frame)
    if kind is not None:
        return Skipped(ident, outcome, kind, kind)
    applicability = _texts(frame, "Applicability")
    keep = np.array([a != "SUBGROUP_ONLY" for a in applicability])
    rows = frame[keep]
    e_t, n_t, e_c, n_c = (_numbers(rows, c) for c in REQUIRED[4:])
    counts = np.column_stack([e_t, n_t, e_c, n_c])
    labels = [_label(s) for s in _texts(rows, "Study")]
    bad = (counts < 0).any(axis=1) | (counts != np.round(counts)).any(axis=1) | (e_t > n_t) | (e_c > n_c)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return Skipped(ident, outcome, f"invalid counts in study {labels[i]!r} (events above participants, negative "
                                       "or fractional)", "invalid counts")  # fmt: skip
    first: dict[str, int] = {}
    repeated: set[str] = set()
    for i, label in enumerate(labels):
        if label not in first:
            first[label] = i
        elif not np.array_equal(counts[first[label]], counts[i]):
            repeated.add(label)
    kept = sorted(first.values())
    empty = [i for i in kept if n_t[i] == 0 or n_c[i] == 0]
    studies = tuple(Study(labels[i], *(int(x) for x in counts[i])) for i in kept if i not in empty)
    if sum(s.e_t + s.e_c for s in studies) == 0:
        return Skipped(ident, outcome, "no event in any arm of any study (nothing to estimate)", "no events")
    if len(studies) < min_studies:
        return Skipped(
            ident,
            outcome,
            f"{len(studies)} studies (fewer than --min-studies {min_studies})",
            f"fewer than {min_studies} studies",
        )
    subgroups = len({s for s in _texts(rows, "Subgroup") if s})
    all_counts = [_numbers(frame, c) for c in REQUIRED[4:]]
    measure = review_measure(_numbers(frame, "Mean"), *all_counts)
    return Analysis(ident, review, review_doi, analysis, outcome, outcome_type(outcome), studies, subgroups,
                    len(repeated), len(empty), measure)  # fmt: skip


def analyses_of(name: str, frame: pd.DataFrame, min_studies: int) -> Iterator[Analysis | Skipped]:
    """Every analysis of one review's data frame, in the review's order (comparison, then outcome)."""
    review = re.sub(r"_data$", "", name)
    dois = [d for d in _texts(frame, "review_doi") if d]
    doi = dois[0] if dois else ""
    group, number = _numbers(frame, "Analysis.group"), _numbers(frame, "Analysis.number")
    keys = pd.DataFrame({"g": group, "n": number})
    if keys.isna().any(axis=None):
        raise Pairwise70Error(f"{name}: a row has no Analysis.group or Analysis.number")
    for (g, n), index in keys.groupby(["g", "n"], sort=True).groups.items():
        yield analyse_rows(review, doi, f"{int(g)}.{int(n)}", frame.iloc[np.asarray(index)], min_studies)


# -- writing the corpus ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: files read, analyses seen, imported and skipped (by reason)."""

    files: int
    analyses: int
    imported: int
    skipped: dict[str, int]
    repeated_studies: int
    dropped_studies: int


def _csv(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _readme(summary: ImportSummary, min_studies: int) -> str:
    lines = [
        "# Pairwise70 corpus (imported)",
        "",
        f"Imported from a local copy of the Pairwise70 R data package ({SOURCE_URL}; code MIT, data derived from "
        "Cochrane reviews: cite each review by its DOI in `manifest.csv`, and check the review's licence before "
        "reuse) by `scripts/import_pairwise70.py` (`models/batch/pairwise70.py`, whose docstring states every rule).",
        "",
        f"- R data files read: {summary.files}; analyses seen: {summary.analyses}; imported: {summary.imported} "
        f"binary meta-analyses with at least {min_studies} studies (measure OR).",
        f"- Studies listed in more than one subgroup with different counts (first-listed row kept): "
        f"{summary.repeated_studies}; studies left out for an arm of 0 participants: {summary.dropped_studies}.",
        "- Skipped analyses by reason (each listed in `skipped.csv`):",
        *(f"  - {reason}: {n}" for reason, n in sorted(summary.skipped.items(), key=lambda x: -x[1])),
        "",
        "Direction: the export does not say whether an event is good or bad; `higher_is_benefit` is empty (false), so "
        "'benefit' means fewer events with the experimental intervention. `outcome_type` is Turner et al. 2015's "
        "outcome type by keyword rules on the outcome label (`models/batch/outcome_types.py`), empty when none "
        "matches. `review_measure` is the measure the review used, where its per-study estimates identify it.",
        "",
    ]
    return "\n".join(lines)


def import_corpus(source: Path, out: Path, min_studies: int = 5) -> ImportSummary:
    """Read every R data file of ``source`` and write the corpus into the new or owned folder ``out`` (staged, then
    swapped in: ``out`` holds the old corpus or the complete new one). Raises :class:`Pairwise70Error` for a local copy
    that cannot be read (before anything is written) and OutputFolderError for a folder that cannot be used."""
    files = data_files(source)
    imported: list[Analysis] = []
    skipped: list[Skipped] = []
    for path in files:
        stage.at("reading the R data files", path)
        name, frame = read_frame(path)
        for item in analyses_of(name, frame, min_studies):
            (imported if isinstance(item, Analysis) else skipped).append(item)
    ids = [a.id for a in imported]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise Pairwise70Error(f"{source}: two reviews give the analysis id {dup!r}")
    summary = ImportSummary(
        files=len(files),
        analyses=len(imported) + len(skipped),
        imported=len(imported),
        skipped=_count(s.cause for s in skipped),
        repeated_studies=sum(a.repeated_studies for a in imported),
        dropped_studies=sum(a.dropped_studies for a in imported),
    )
    stage.at("writing the corpus", out)
    staging = open_staging(out)
    (staging / "studies").mkdir()
    manifest: list[list[object]] = [list(MANIFEST_FIELDS)]
    for a in imported:
        rows: list[list[object]] = [["study", "e_t", "n_t", "e_c", "n_c"]]
        rows += [[s.label, s.e_t, s.n_t, s.e_c, s.n_c] for s in a.studies]
        write_text(staging / "studies" / f"{a.id}.csv", _csv(rows))
        manifest.append([a.id, f"studies/{a.id}.csv", "OR", a.title, a.outcome_type or "", a.review, a.review_doi,
                         a.analysis, a.outcome, len(a.studies), a.subgroups, a.repeated_studies, a.dropped_studies,
                         a.review_measure or ""])  # fmt: skip
    write_text(staging / "manifest.csv", _csv(manifest))
    write_text(staging / "skipped.csv", _csv([["id", "outcome", "reason"]] + [[s.id, s.outcome, s.reason]
                                                                             for s in skipped]))  # fmt: skip
    write_text(staging / "README.md", _readme(summary, min_studies))
    commit_staging(staging, out)
    return summary


def _count(items: Iterator[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def build_parser() -> argparse.ArgumentParser:
    about = (f"Import the Pairwise70 R data package (a local copy) into a batch corpus: binary Cochrane analyses as "
             f"study CSVs and a manifest. Source: {SOURCE_URL}")  # fmt: skip
    p = OneLineParser(prog=PROG, description=about)
    p.add_argument("source", help="the local copy: the package's folder (with data/*.rda) or a folder of .rda files")
    p.add_argument("--out", required=True, help="new folder for the corpus (manifest.csv, studies/, skipped.csv)")
    p.add_argument("--min-studies", type=int_at_least(2), default=5,
                   help="import analyses with at least this many studies (default 5)")  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the import on ``argv``; returns the exit code (0 done, 2 bad input: one line, nothing written)."""
    args = build_parser().parse_args(argv)
    try:
        out = check_output_folder(args.out, "--out")
        summary = import_corpus(Path(args.source), out, args.min_studies)
    except (Pairwise70Error, OutputFolderError) as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return USAGE_ERROR
    skipped = sum(summary.skipped.values())
    print(f"{PROG}: {summary.imported} binary meta-analyses (>= {args.min_studies} studies) from {summary.files} "
          f"files into {out / 'manifest.csv'}; {skipped} analyses skipped (see skipped.csv)",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
