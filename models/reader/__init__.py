"""THE study-file reader: every command and script reads a user's study CSV through :func:`read_study_file`.

``reanalyse fit``, ``pool`` and ``batch`` (and the scripts behind them) call this one function, so a file that one
command accepts the others accept, with the same table, the same measure and the same one-line messages. Every
problem is a :class:`StudyFileError` (a :class:`~models.validation.DataValidationError`) naming the file, the
spreadsheet row (header = row 1) and the column, raised before any analysis starts.

Layouts (told by the header; the first in this order whose columns are all present wins; other columns are ignored)
------------------------------------------------------------------------------------------------------------------
* 2x2 (measures OR, RR, RD; default **OR**): ``e_t,n_t,e_c,n_c`` (events and patients per arm; t = experimental,
  c = control); metafor's ``ai,n1i,ci,n2i``; metafor's ``ai,bi,ci,di`` (bi, di are NON-events: n = a + b; when a file
  has both n1i/n2i and bi/di, ai + bi must equal n1i); the R package meta's ``event.e,n.e,event.c,n.c``.
* continuous (MD, SMD; default **SMD**, Hedges' g): ``n_t,mean_t,sd_t,n_c,mean_c,sd_c``; metafor's
  ``m1i,sd1i,n1i,m2i,sd2i,n2i``; meta's ``n.e,mean.e,sd.e,n.c,mean.c,sd.c``.
* effects on the analysis scale (log OR / log RR for ratios; the measure must be given): ``yi,vi``; ``yi,sei``
  (vi = sei^2); meta's ``TE,seTE``.
* an estimate with its 95% CI on the reported scale (ratio scale for OR/RR; a Wald interval is assumed, SE = width /
  (2 x 1.96) on the analysis scale; the measure must be given): ``estimate,ci_low,ci_high``.

Every layout also needs a study label column, the first present of :data:`LABEL_COLUMNS` (study, studlab, slab,
label, author, authors, trial, name, id, study_id). Optional: ``year`` (whole number; orders a cumulative analysis),
``design`` (a label such as RCT or NRS), and numeric covariates named by the caller.

How the text is read
--------------------
* Column names are matched ignoring case and surrounding spaces (``Study``, ``" e_t"``); every cell is trimmed, so
  spaces after commas are fine. Two columns whose names differ only in case are refused as a repeated name.
* UTF-8, with or without the byte-order mark spreadsheets write; CRLF or LF line ends; fields quoted or not (R's
  ``write.csv`` quotes the header and the labels). Blank rows (also rows of empty cells only, as spreadsheets leave
  at the end) are skipped; row numbers in messages stay those of the file. A row with more fields than the header is
  refused unless the extra fields are empty.
* Separator: the one of comma, semicolon and tab that splits the header line into most fields. A semicolon- or
  tab-separated file may use decimal commas (``0,5``; as spreadsheets in many countries save "CSV"): when any number
  in the used columns has a comma, every comma is a decimal comma and a number with a point is refused as
  ambiguous (a thousands separator?). Such a file is read and a note says how ("read as semicolon-separated with
  decimal commas"); the note travels to the outputs. In a comma-separated file a number with a decimal comma (only
  possible inside quotes) is refused with a message saying to write ``0.5`` or to save with ``;``.
* Numbers: plain decimal notation with an optional exponent (``1e-3``); no thousands separators, no ``inf``/``nan``.
  Counts are whole numbers parsed from the text exactly (``10``, ``10.0``, ``1e3``; never rounded), so 2^53 + 1 is
  refused, not read as 2^53.

Metafor-like handling, stated (each gives a note in :attr:`StudyFile.notes`, for the outputs to print)
---------------------------------------------------------------------------------------------------------
* Repeated study labels are kept and made unique with metafor's own rule (``.make.unique``: every copy gets ``.1``,
  ``.2``, ... in file order; metadat's dat.bangertdrowns2004 has two "Guckin 1992", which become "Guckin 1992.1"
  and "Guckin 1992.2"). If a made-up label is already a label of the file, the file is refused.
* A study with no patients in an arm (n = 0; metadat's dat.bourassa1996 has one) is dropped and named in a note: it
  compares nothing. (metafor differs: with its default ``to="only0"`` it adds 0.5 to all four cells and keeps an OR
  made of the correction alone, e.g. yi = 0.38, vi = 4.26 for Stephens 1967 in bourassa1996.)
* A missing covariate value (empty or NA) drops that study from the meta-regression only (metafor drops it from an
  ``rma(mods=...)`` fit with a warning); the other analyses keep it.
* Studies with no events in either arm (or events in everyone) carry no information on a ratio scale: they are left
  out of the per-study effects (metafor's ``drop00``) and named in a note; the binomial-normal model keeps them.
* A totals row is refused ("row N looks like a totals row: ... remove it"): a label such as ``Total``,
  ``Subtotal``, ``Total (95% CI)``, ``Total events`` or ``Overall``, or (2x2, three or more rows) a row whose four
  counts equal the sums of all other rows, as RevMan exports write. A real study called "Total" must be renamed.

Limits, checked before anything is parsed or computed (:class:`Limits`; a caller may lift them)
-----------------------------------------------------------------------------------------------
* Regular files only: a folder, FIFO, device or socket is refused by name after ``os.stat``, without being opened for
  reading (a FIFO never blocks, ``/dev/zero`` is never read); the file is at most 50 MB.
* At most 10,000 studies (counted from the line ends before parsing: a 1,000,000-row file is refused in
  milliseconds) and at least 2 (one policy for every command: a one-study file is refused in one line).
* Study labels at most 200 characters, with no control character, tab or line break, and not a missing-value marker
  (NA, n/a, NULL, ...). Messages quote at most 40 characters of any cell.
* Ranges the engines handle: counts 0 <= events <= n <= 10^9; continuous n >= 2 (n = 0 drops the study),
  |mean| <= 10^9, 0 < SD <= 10^9; effects |yi| <= 50 on the analysis scale (log OR, log RR, SMD, RD) or
  |yi| <= 10^9 for MD, 10^-12 <= vi <= 10^6 (MD: 10^18), sei the square roots of those; estimates and CI bounds
  finite, positive for OR/RR with |log| <= 50, ci_low < estimate < ci_high. The per-study effects computed from
  counts or arm summaries are held to the same effect ranges, naming the row they come from.

Measures: one policy for every command. 2x2 defaults to OR, continuous to SMD; an effects or estimate-with-CI file
needs the measure (the file cannot say whether its yi are log ORs or SMDs).
"""

from models.reader.sheet import LIMITS, Limits, StudyFileError
from models.reader.studies import (
    DEFAULT_MEASURE,
    LABEL_COLUMNS,
    LAYOUTS,
    MEASURES_OF,
    OPTIONAL_COLUMNS,
    SPELLINGS,
    Covariate,
    CovariateError,
    Spelling,
    StudyFile,
    read_study_file,
)

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
