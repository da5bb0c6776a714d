"""What a study file holds: the studies kept, their tables and effects, and notes on what was done to them.

The metafor-like handling of repeated labels, empty arms, missing covariates, double-zero studies and totals rows is
stated in :mod:`models.reader`; the text itself (file checks, separator, cells) is :mod:`models.reader.sheet`, the
layouts, measures and column ranges :mod:`models.reader.layouts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.effects import EffectError, EffectTable, escalc, escalc_continuous
from models.reader.layouts import LAYOUTS, OPTIONAL_COLUMNS, Spelling, detect, measure_of, rules_of
from models.reader.sheet import LIMITS, Limits, Rule, Sheet, StudyFileError, read_sheet, show
from models.tables import BinaryTable, ContinuousTable, TableError

_CONTINUOUS = LAYOUTS["continuous"][1:]
_TOTAL_LABEL = re.compile(r"(?:sub-?\s?)?totals?(?:\s*\(.*\)|\s+events)?:?|overall", re.IGNORECASE)


class CovariateError(ValueError):
    """A covariate cannot be used for a meta-regression (it takes one value only)."""


@dataclass(frozen=True)
class Covariate:
    """A numeric study-level covariate, one value per study in the order of the study table (NaN = missing: that
    study is left out of a meta-regression only)."""

    name: str
    values: tuple[float, ...]

    @property
    def present(self) -> np.ndarray:
        """Which studies have a value."""
        return ~np.isnan(np.asarray(self.values, dtype=float))

    def standardised(self) -> np.ndarray:
        """Centred and scaled to SD 1 over the studies with a value (0/1 columns only centred), so a slope is per SD
        of the covariate; missing values stay NaN."""
        x = np.asarray(self.values, dtype=float)
        have = x[~np.isnan(x)]
        sd = float(np.std(have, ddof=1)) if have.size > 1 else 0.0
        if sd == 0:
            raise CovariateError(f"covariate {self.name!r} takes one value only; a slope cannot be estimated")
        binary = set(np.unique(have)) <= {0.0, 1.0}
        return x - have.mean() if binary else (x - have.mean()) / sd


@dataclass(frozen=True)
class StudyFile:
    """A study CSV as read: layout, measure, the studies kept (file order), their data and what was done to them.

    ``counts`` (2x2) or ``arms`` (continuous) hold the arm data of the kept studies; ``effects`` always holds the
    per-study effects on the analysis scale (log OR / log RR for ratios; 2x2 effects with 0.5 added to the cells of
    zero-cell studies and double-zero studies left out, as metafor's ``escalc``). ``rows`` are the spreadsheet rows
    of the kept studies. ``notes`` say, one line each, how the file was read and which studies were renamed, dropped
    or left out of an analysis; every output should print them.
    """

    path: str
    layout: str
    spelling: Spelling
    measure: str
    study: tuple[str, ...]
    rows: tuple[int, ...]
    counts: BinaryTable | None
    arms: ContinuousTable | None
    effects: EffectTable
    year: tuple[int, ...] | None
    design: tuple[str, ...] | None
    covariates: tuple[Covariate, ...]
    notes: tuple[str, ...]

    @property
    def k(self) -> int:
        """Number of studies kept (double-zero studies included; ``effects.k`` counts those with an effect)."""
        return len(self.study)

    @property
    def table(self) -> BinaryTable | ContinuousTable | EffectTable:
        """The data as given: arm counts, arm summaries, or the effects."""
        return self.counts if self.counts is not None else self.arms if self.arms is not None else self.effects


def _studies(n: int) -> str:
    return f"{n:,} stud{'y' if n == 1 else 'ies'}"


def _named(labels: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(show(s) for s in labels[:most])
    return shown + (f" and {len(labels) - most:,} more" if len(labels) > most else "")


# -- the rows -------------------------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """The cells of the used columns, one entry per data row (file order)."""

    rows: list[int]
    labels: list[str]
    values: dict[str, list]
    year: list[int] | None
    design: list[str] | None
    covariates: dict[str, list[float]]


def _totals_row(sheet: Sheet, row: int, why: str) -> StudyFileError:
    return sheet.error(row, None, f"row {row} looks like a totals row: {why}; remove it")


def _parse(sheet: Sheet, columns: dict[str, int], used: dict[str, str], label: str, rules: dict[str, Rule],
           covariates: dict[str, str]) -> _Parsed:  # fmt: skip
    """Every used cell of every row, checked cell by cell in file order (the first bad cell is the one named)."""
    width = len(sheet.header)
    out = _Parsed([], [], {role: [] for role in used}, None, None, {cov: [] for cov in covariates})
    cells_of = [(columns[n], sheet.header[columns[n]], rules[r], out.values[r]) for r, n in used.items()]
    lab, lab_name = columns[label], sheet.header[columns[label]]
    extra = {key: (columns[key], sheet.header[columns[key]]) for key in OPTIONAL_COLUMNS if key in columns}
    covs = [(columns[key], sheet.header[columns[key]], out.covariates[cov]) for cov, key in covariates.items()]
    out.year = [] if "year" in extra else None
    out.design = [] if "design" in extra else None
    fast = sheet.limits.max_count >= 999_999_999
    for row, fields in sheet.rows:
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            raise sheet.error(
                row, None, f"has {len(fields)} fields, the header {width} (an unquoted comma in a label, or "
                "decimal commas in a comma-separated file? Write 0.5, or save with ';' as separator)"
            )  # fmt: skip
        cells = [f.strip() for f in fields] + [""] * (width - len(fields))
        study = sheet.label(cells[lab], row, lab_name)
        if _TOTAL_LABEL.fullmatch(study):
            raise _totals_row(sheet, row, f"its label is {show(study)}")
        out.rows.append(row)
        out.labels.append(study)
        for i, name, rule, values in cells_of:
            cell = cells[i]
            if rule.count and fast and cell.isdigit() and cell.isascii() and len(cell) <= 9:
                values.append(int(cell))  # the common case, at most 999,999,999 <= max_count
            elif not cell:
                raise sheet.error(row, name, "value is required but empty")
            else:
                values.append(sheet.count(cell, row, name) if rule.count else sheet.number(cell, rule, row, name))
        if out.year is not None:
            out.year.append(sheet.year(cells[extra["year"][0]], row, extra["year"][1]))
        if out.design is not None:
            out.design.append(sheet.label(cells[extra["design"][0]], row, extra["design"][1]))
        for i, name, values in covs:
            values.append(sheet.covariate(cells[i], row, name))
    return out


def _arm_totals(values: dict[str, list], arm: str) -> list[int]:
    n = values.get(f"n_{arm}")
    return n if n is not None else [e + b for e, b in zip(values[f"e_{arm}"], values[f"b_{arm}"], strict=True)]


def _cross_checks(parsed: _Parsed, layout: str, name: dict[str, str], sheet: Sheet) -> None:
    """Rules between the cells of a row: events within the arm and arms within the count limit (2x2), n >= 2
    (continuous), ci_low < estimate < ci_high."""
    v, rows = parsed.values, parsed.rows
    if layout == "2x2":
        for arm in ("t", "c"):
            e, b, n = v[f"e_{arm}"], v.get(f"b_{arm}"), v.get(f"n_{arm}")
            e_name, b_name, n_name = name[f"e_{arm}"], name.get(f"b_{arm}"), name.get(f"n_{arm}")
            for i, (events, total) in enumerate(zip(e, _arm_totals(v, arm), strict=True)):
                if b is not None and n is not None and events + b[i] != total:
                    raise sheet.error(rows[i], b_name, f"{e_name} + {b_name} ({events + b[i]:,}) differs from "
                                      f"{n_name} ({total:,})")  # fmt: skip
                if n is None and total > sheet.limits.max_count:
                    raise sheet.error(rows[i], b_name, f"{e_name} + {b_name} = {total:,} is too large (an arm has at "
                                      f"most {sheet.limits.max_count:,} patients)")  # fmt: skip
                if events > total:
                    raise sheet.error(rows[i], e_name, f"{e_name} ({events}) exceeds {n_name} ({total})")
    elif layout == "continuous":
        for arm in ("t", "c"):
            pos = next((i for i, n in enumerate(v[f"n_{arm}"]) if n == 1), None)
            if pos is not None:
                raise sheet.error(rows[pos], name[f"n_{arm}"], f"{name[f'n_{arm}']} must be at least 2; got 1")
    elif layout == "effects_ci":
        for i, (low, est, high) in enumerate(zip(v["ci_low"], v["estimate"], v["ci_high"], strict=True)):
            if low >= est:
                raise sheet.error(rows[i], name["ci_low"], f"{name['ci_low']} ({low:g}) must be below the estimate "
                                  f"({est:g})")  # fmt: skip
            if high <= est:
                raise sheet.error(rows[i], name["ci_high"], f"{name['ci_high']} ({high:g}) must be above the "
                                  f"estimate ({est:g})")  # fmt: skip


def _sum_row(parsed: _Parsed, spelling: Spelling) -> bool:
    """Whether the last row of a 2x2 file (of three or more rows) holds the sums of all the other rows, as the totals
    row of a RevMan export does (only the last row: a middle row can equal the sum of the others by chance)."""
    if spelling.layout != "2x2" or len(parsed.labels) < 3:
        return False
    cols = [parsed.values[r] for r in spelling.roles]
    return all(2 * c[-1] == sum(c) for c in cols)


def _unique_labels(labels: list[str], sheet: Sheet, column: str, rows: list[int]) -> tuple[list[str], list[str]]:
    """metafor's ``.make.unique``: every copy of a repeated label gets ``.1``, ``.2``, ... in file order."""
    where: dict[str, list[int]] = {}
    for i, s in enumerate(labels):
        where.setdefault(s, []).append(i)
    repeated = {s: pos for s, pos in where.items() if len(pos) > 1}
    if not repeated:
        return labels, []
    out = list(labels)
    for s, pos in repeated.items():
        for j, i in enumerate(pos, start=1):
            out[i] = f"{s}.{j}"
    seen: set[str] = set()
    for i, s in enumerate(out):
        if s in seen:
            raise sheet.error(
                rows[i], column, f"repeated labels cannot be made unique as metafor does ({show(s)} would be there "
                "twice); rename the repeated studies"
            )  # fmt: skip
        seen.add(s)
    renamed = "; ".join(
        f"{show(s)} (rows {', '.join(str(rows[i]) for i in pos)}) as {', '.join(show(out[i]) for i in pos)}"
        for s, pos in list(repeated.items())[:5]
    )
    more = f"; and {len(repeated) - 5:,} more" if len(repeated) > 5 else ""
    return out, [f"repeated study labels kept, made unique as metafor does: {renamed}{more}"]


def _empty_arms(parsed: _Parsed, layout: str) -> list[bool]:
    """Per row, whether an arm has no patients (such a study compares nothing and is dropped)."""
    if layout not in ("2x2", "continuous"):
        return [False] * len(parsed.labels)
    n_t, n_c = (_arm_totals(parsed.values, arm) for arm in ("t", "c"))
    return [a == 0 or b == 0 for a, b in zip(n_t, n_c, strict=True)]


def _pick(values: list, keep: list[bool] | None) -> list:
    return values if keep is None else [v for v, k in zip(values, keep, strict=True) if k]


def _tables(parsed: _Parsed, layout: str, keep: list[bool] | None, study: tuple[str, ...], measure: str):
    """The arm table (2x2 or continuous) and the effects of the kept studies."""
    v = {role: _pick(values, keep) for role, values in parsed.values.items()}
    counts = arms = None
    if layout == "2x2":
        cols = [np.array(c, dtype=np.int64) for c in (v["e_t"], _arm_totals(v, "t"), v["e_c"], _arm_totals(v, "c"))]
        counts = BinaryTable(study, *cols)
        effects = escalc(counts, measure)
    elif layout == "continuous":
        arms = ContinuousTable(study, *(np.array(v[r]) for r in _CONTINUOUS))
        effects = escalc_continuous(arms, measure)
    elif layout == "effects":
        vi = np.array(v["vi"]) if "vi" in v else np.array(v["sei"]) ** 2
        effects = EffectTable(study, np.array(v["yi"]), vi, measure, "none", np.zeros(len(study), dtype=bool))
    else:
        effects = EffectTable.from_estimate_ci(study, v["estimate"], v["ci_low"], v["ci_high"], measure)
    return counts, arms, effects


def _check_effects(effects: EffectTable, rows: dict[str, int], spelling: Spelling, sheet: Sheet) -> None:
    """The per-study effects computed from counts or arm summaries stay in the ranges the engines handle."""
    bound = sheet.limits.effect_bound(effects.measure)
    vlo, vhi = sheet.limits.vi_bounds(effects.measure)
    bad = np.flatnonzero((np.abs(effects.yi) > bound) | (effects.vi < vlo) | (effects.vi > vhi))
    if bad.size:
        i = int(bad[0])
        raise sheet.error(
            rows[effects.study[i]], None, f"the {effects.measure} computed from this row ({','.join(spelling.names)}) "
            f"is {effects.yi[i]:.3g} with variance {effects.vi[i]:.3g}, outside the range the engines handle "
            f"(|yi| <= {bound:g}, {vlo:g} <= vi <= {vhi:g})"
        )  # fmt: skip


def _covariate_columns(covariates: Sequence[str], columns: dict[str, int], used: set[str], sheet: Sheet) -> dict:
    out = {}
    for cov in covariates:
        key = cov.strip().lower()
        if key not in columns:
            raise sheet.error(1, cov, f"covariate {cov!r} is not a column of the file")
        if key in used or key in OPTIONAL_COLUMNS:
            raise sheet.error(1, cov, f"covariate {cov!r} is a data column, not a covariate")
        out[cov] = key
    return out


def _covariates(parsed: _Parsed, keep: list[bool] | None, study: tuple[str, ...], sheet: Sheet,
                header: dict[str, str]) -> tuple[tuple[Covariate, ...], list[str]]:  # fmt: skip
    """The covariates of the kept studies; a covariate with one value over the studies that have all is refused."""
    covs = tuple(Covariate(name, tuple(_pick(values, keep))) for name, values in parsed.covariates.items())
    if not covs:
        return (), []
    present = np.logical_and.reduce([c.present for c in covs])
    for cov in covs:
        distinct = np.unique(np.asarray(cov.values)[present]).size
        if distinct < 2:
            raise sheet.error(
                None, header[cov.name], f"covariate {cov.name!r} takes {distinct} value(s) over the "
                f"{int(present.sum())} studies that have every covariate; a slope cannot be estimated"
            )  # fmt: skip
    missing = [s for s, p in zip(study, present, strict=True) if not p]
    if not missing:
        return covs, []
    return covs, [
        f"{_studies(len(missing))} without a value of every covariate left out of the meta-regression only: "
        f"{_named(missing)}"
    ]


def _read_note(sheet: Sheet) -> list[str]:
    if sheet.separator == ",":
        return []
    names = {";": "semicolon", "\t": "tab"}
    return [f"read as {names[sheet.separator]}-separated with decimal {'commas' if sheet.decimal_comma else 'points'}"]


def read_study_file(
    path: str | Path, measure: str | None = None, covariates: Sequence[str] = (), limits: Limits = LIMITS
) -> StudyFile:
    """Read and check a study CSV in any accepted layout (every rule: :mod:`models.reader`).

    ``measure`` None takes the layout's default (2x2: OR, continuous: SMD; the effects layouts need one).
    ``covariates`` are column names (matched ignoring case) for a meta-regression. ``limits`` may lift a limit.
    Raises :class:`StudyFileError` naming file, row and column for any problem, before anything is computed.
    """
    name = str(path)
    sheet = read_sheet(path, name, limits)
    columns = sheet.columns()
    spelling, label = detect(columns, sheet)
    measure = measure_of(spelling.layout, measure, name)
    used = dict(zip(spelling.roles, spelling.names, strict=True))
    if spelling.names == ("ai", "n1i", "ci", "n2i") and "bi" in columns and "di" in columns:
        used |= {"b_t": "bi", "b_c": "di"}  # both given: checked against each other
    cov_columns = _covariate_columns(covariates, columns, {*used.values(), label}, sheet)
    sheet.detect_decimal_comma([columns[c] for c in (*used.values(), *cov_columns.values())])
    parsed = _parse(sheet, columns, used, label, rules_of(tuple(used), measure, limits), cov_columns)
    _cross_checks(parsed, spelling.layout, {r: sheet.header[columns[n]] for r, n in used.items()}, sheet)
    if _sum_row(parsed, spelling):
        raise _totals_row(sheet, parsed.rows[-1], "its counts equal the sums of all the other rows")
    labels, notes = _unique_labels(parsed.labels, sheet, sheet.header[columns[label]], parsed.rows)
    empty = _empty_arms(parsed, spelling.layout)
    keep = [not e for e in empty] if any(empty) else None
    study = tuple(_pick(labels, keep))
    if any(empty):
        notes.append(
            f"{_studies(sum(empty))} with no patients in an arm dropped (nothing to compare; metafor would add "
            f"0.5 to every cell and keep it): {_named([s for s, e in zip(labels, empty, strict=True) if e])}"
        )
    if len(study) < limits.min_studies:
        after = f" after dropping {sum(empty)}" if any(empty) else ""
        raise sheet.error(
            None, None, f"has {_studies(len(study))}{after}; a meta-analysis needs at least {limits.min_studies}"
        )
    try:
        counts, arms, effects = _tables(parsed, spelling.layout, keep, study, measure)
    except (EffectError, TableError) as err:
        raise sheet.error(None, None, str(err)) from None
    rows = tuple(_pick(parsed.rows, keep))
    _check_effects(effects, dict(zip(study, rows, strict=True)), spelling, sheet)
    header = {cov: sheet.header[columns[key]] for cov, key in cov_columns.items()}
    covs, cov_notes = _covariates(parsed, keep, study, sheet, header)
    if effects.dropped:
        notes.append(
            f"{_studies(len(effects.dropped))} with no events in either arm (or events in everyone) left out "
            f"of the per-study {measure} effects (no information on them; the binomial-normal model keeps them): "
            f"{_named(effects.dropped)}"
        )
    return StudyFile(
        path=name,
        layout=spelling.layout,
        spelling=spelling,
        measure=measure,
        study=study,
        rows=rows,
        counts=counts,
        arms=arms,
        effects=effects,
        year=None if parsed.year is None else tuple(_pick(parsed.year, keep)),
        design=None if parsed.design is None else tuple(_pick(parsed.design, keep)),
        covariates=covs,
        notes=tuple(_read_note(sheet) + notes + cov_notes),
    )
