"""THE study-file reader: every command and script reads a user's study CSV through :func:`read_study_file`.

``reanalyse fit``, ``pool`` and ``batch`` (and the scripts behind them) call this one function with plain parameters
(path, measure or None, covariate names, :class:`Limits`), so a file that one command accepts the others accept, with
the same table, the same measure, the same notes and the same one-line messages. Every problem is a
:class:`StudyFileError` (a :class:`~models.validation.DataValidationError`) naming the file, the spreadsheet row
(header = row 1) and the column, raised before any analysis starts. Text handling is :mod:`models.reader.sheet`,
layouts and measures :mod:`models.reader.layouts`, the handling of studies :mod:`models.reader.studies`; every
choice is stated here.

Layouts: told by the header, the first spelling in this order whose columns are all present (others are ignored)
----------------------------------------------------------------------------------------------------------------
* 2x2 (measures OR, RR, RD; default **OR**): ``e_t,n_t,e_c,n_c`` (events and patients per arm; t = experimental,
  c = control); metafor's ``ai,n1i,ci,n2i``; metafor's ``ai,bi,ci,di`` (bi, di are NON-events: n = a + b; a file
  with both n1i/n2i and bi/di must have ai + bi = n1i); the R package meta's ``event.e,n.e,event.c,n.c``.
* continuous (MD, SMD; default **SMD**, Hedges' g): ``n_t,mean_t,sd_t,n_c,mean_c,sd_c``; metafor's
  ``m1i,sd1i,n1i,m2i,sd2i,n2i``; meta's ``n.e,mean.e,sd.e,n.c,mean.c,sd.c``.
* effects on the analysis scale (log OR / log RR for ratios; the measure must be given): ``yi,vi``; ``yi,sei``
  (vi = sei^2); meta's ``TE,seTE``.
* an estimate with its 95% CI on the reported scale (ratio scale for OR/RR; a Wald interval is assumed: SE = width
  / (2 x 1.96) on the analysis scale; the measure must be given): ``estimate,ci_low,ci_high``.

Every layout needs a study label column: the first present of :data:`LABEL_COLUMNS` (study, studlab, slab, label,
author, authors, trial, name, id, study_id, source, citation, reference). Optional: ``year`` (a whole number 1 to
9999; orders a cumulative analysis), ``design`` (a label such as RCT or NRS) and numeric covariates named by the
caller (empty or NA = missing). A header that matches no layout gets a message naming the closest layout, the columns
it lacks and a "did you mean" for a near spelling, then the list of layouts; one without a label column names the
accepted label names.

Measures: one policy for every command. 2x2 defaults to OR, continuous to SMD; an effects or estimate-with-CI file
needs the measure (the file cannot say whether its yi are log ORs or SMDs).

How the text is read
--------------------
* Column names are matched ignoring case and surrounding spaces (``Study``, ``" e_t"``); every cell is trimmed
  (spaces after commas are fine; a label's outer spaces are dropped). Two columns whose names differ only in case
  are refused as a repeated name; a nameless column is ignored when it is empty and refused when it holds values.
* UTF-8, with or without the byte-order mark spreadsheets write (UTF-16 and other encodings are refused with "save
  it as 'CSV UTF-8'"); CRLF or LF line ends; fields quoted or not (R's ``write.csv`` quotes the header and labels).
  Blank rows, and rows of empty cells only (as spreadsheets leave at the end), are skipped; row numbers in messages
  stay those of the file. A row with more fields than the header is refused unless the extra fields are empty; a
  row with fewer has its missing cells empty. A control character (NUL, escape, ...) anywhere is refused.
* Separator: whichever of comma, semicolon and tab splits the header line into most fields (comma on a tie). A
  semicolon- or tab-separated file may use decimal commas (``0,5``, as spreadsheets in many countries save "CSV"):
  when any number in the used columns has a comma, every comma is a decimal comma, and a number with a point is
  refused as ambiguous (a thousands separator?). Such a file is read and a note says how ("read as
  semicolon-separated with decimal commas"). In a comma-separated file a number with a decimal comma (possible only
  inside quotes) is refused with a message saying to write 0.5 or to save with ';'; unquoted decimal commas make too
  many fields, and that message says the same.
* Numbers: plain decimal notation with an optional exponent (``1e-3``); no thousands separators, ``inf``, ``nan``
  or ``1_000``. Counts are whole numbers parsed from the text exactly (``10``, ``10.0``, ``1e3``; never rounded),
  so 2^53 + 1 is refused, not read as 2^53.

Metafor-like handling (each gives a note in :attr:`StudyFile.notes`, one line, for every output to print)
-----------------------------------------------------------------------------------------------------------
* Repeated study labels are kept and made unique by metafor's own rule (``.make.unique``: every copy gets ``.1``,
  ``.2``, ... in file order; metadat's dat.bangertdrowns2004 has two "Guckin", which become "Guckin.1" and
  "Guckin.2"). If a made-up label would equal another label, the file is refused.
* A study with no patients in an arm (n = 0; metadat's dat.bourassa1996 has one) is dropped and named: it compares
  nothing. metafor differs: with its default ``to="only0"`` it adds 0.5 to all four cells and keeps an OR made of
  the correction alone (yi = 0.38, vi = 4.26 for "Stephens 1967.6" in bourassa1996). A continuous arm of n = 1 is
  refused (an SD needs two patients).
* A missing covariate value drops that study from the meta-regression only (metafor's ``rma(mods = ...)`` omits it
  with a warning); the other analyses keep it. A covariate with one value over the studies that have every
  covariate is refused (no slope can be estimated).
* Studies with no events in either arm (or events in everyone) carry no information on a ratio scale: they are left
  out of the per-study effects (metafor's ``drop00``, for RD as well) and named; the binomial-normal model keeps
  them. A 2x2 file with no other study is refused.
* A totals row is refused ("row N looks like a totals row: ...; remove it"): a label ``Total``, ``Totals``,
  ``Subtotal``, ``Sub-total``, ``Total (95% CI)``, ``Total events`` or ``Overall`` (any case), or, in a 2x2 file of
  three or more rows, a last row whose four counts equal the sums of all the other rows, as RevMan exports write.
  A real trial called "TOTAL 2015" is read; one labelled just "Total" must be renamed.

Limits, checked before anything is parsed or computed (:class:`Limits`; a caller may lift them)
------------------------------------------------------------------------------------------------
* Regular files only: a folder, FIFO, device or socket is refused by name after ``os.stat``, without being opened for
  reading (a FIFO never blocks, ``/dev/zero`` is never read); at most 50 MB (``max_bytes``).
* At most 10,000 studies (``max_studies``; lines with content are counted before parsing, so a 1,000,000-row file
  is refused in milliseconds) and at least 2 studies kept (``min_studies``; one policy for every command: a
  one-study file is refused in one line).
* Labels (study and design) at most 200 characters (``max_label``), with no tab or line break, and not a
  missing-value marker (NA, n/a, NULL, ...). Messages quote at most 40 characters of any cell, so a foreign file is
  never echoed.
* Ranges the engines handle: counts 0 <= events <= n <= 10^9 (``max_count``); continuous n >= 2 (n = 0 drops the
  study), |mean| <= 10^9, 0 < SD <= 10^9; effects |yi| <= 50 on the analysis scale (log OR, log RR, SMD, RD) or
  |yi| <= 10^9 for MD, 10^-12 <= vi <= 10^6 (MD: 10^18), sei the square roots of those; estimates and CI bounds
  positive for OR/RR with |log| <= 50 (others |value| <= 50, MD 10^9), ci_low < estimate < ci_high. The per-study
  effects computed from counts or arm summaries are held to the same effect ranges, naming the row they come from.
"""

from models.reader.layouts import (
    DEFAULT_MEASURE,
    LABEL_COLUMNS,
    LAYOUTS,
    MEASURES_OF,
    OPTIONAL_COLUMNS,
    SPELLINGS,
    Spelling,
)
from models.reader.sheet import LIMITS, Limits, StudyFileError
from models.reader.studies import Covariate, CovariateError, StudyFile, read_study_file

__all__ = [
    "DEFAULT_MEASURE",
    "LABEL_COLUMNS",
    "LAYOUTS",
    "LIMITS",
    "MEASURES_OF",
    "OPTIONAL_COLUMNS",
    "SPELLINGS",
    "Covariate",
    "CovariateError",
    "Limits",
    "Spelling",
    "StudyFile",
    "StudyFileError",
    "read_study_file",
]
