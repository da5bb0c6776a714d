# A tiny synthetic review in the layout of the Pairwise70 R data package (github.com/mahmood789/Pairwise70): one
# data frame, one row per study and analysis, the unused columns all-NA, saved with xz compression as the package
# does. Invented numbers, no Cochrane data. Run from the repository root:
#   Rscript tests/reference/pairwise70/make_pairwise70_sample.R
# Analyses (what the importer must do with each is stated in tests/batch/test_pairwise70.py):
#   1.1 binary, subgroups Adults/Children: Alpha 2001 in both with equal counts, Beta 2002 in both with different
#       counts, Theta 2008 with 0 control participants, Eta 2007 SUBGROUP_ONLY; Mean = risk ratio of each study
#   1.2 binary, 3 studies; 2.1 continuous (SDs); 2.2 binary without events; 2.3 events above participants;
#   2.4 generic inverse variance
row <- function(g, n, name, sub, app, study, et, nt, ec, nc, sd = NA_real_, gse = NA_real_) {
  data.frame(Analysis.group = as.integer(g), Analysis.number = as.integer(n), Analysis.name = name, Subgroup = sub,
             Applicability = app, Study = study, Study.year = 2000, GIV.Mean = NA, GIV.SE = gse,
             Experimental.mean = NA, Experimental.SD = sd, Experimental.cases = as.integer(et),
             Experimental.N = as.integer(nt), Control.mean = NA, Control.SD = sd, Control.cases = as.integer(ec),
             Control.N = as.integer(nc), O.E = NA, Variance = NA,
             Mean = if (et > 0 && ec > 0 && nc > 0) (et / nt) / (ec / nc) else NA_real_,
             review_doi = "10.1002/14651858.CD999999.pub1", stringsAsFactors = FALSE)
}
A <- "SUBGROUP_AND_OVERALL"
d <- rbind(
  row(1, 1, "All-cause mortality", "Adults", A, "Alpha 2001", 10, 100, 20, 100),
  row(1, 1, "All-cause mortality", "Adults", A, "Beta 2002", 5, 50, 9, 50),
  row(1, 1, "All-cause mortality", "Adults", A, "Gamma 2003", 3, 40, 6, 40),
  row(1, 1, "All-cause mortality", "Adults", A, "Delta 2004", 0, 30, 2, 30),
  row(1, 1, "All-cause mortality", "Adults", A, "Theta 2008", 1, 12, 0, 0),
  row(1, 1, "All-cause mortality", "Children", A, "Alpha 2001", 10, 100, 20, 100),
  row(1, 1, "All-cause mortality", "Children", A, "Beta 2002", 2, 20, 4, 20),
  row(1, 1, "All-cause mortality", "Children", A, "Eps 2005", 7, 70, 7, 70),
  row(1, 1, "All-cause mortality", "Children", A, "Zeta 2006", 1, 25, 0, 25),
  row(1, 1, "All-cause mortality", "Children", "SUBGROUP_ONLY", "Eta 2007", 4, 44, 8, 44),
  row(1, 2, "Adverse events", "", A, "Alpha 2001", 1, 100, 2, 100),
  row(1, 2, "Adverse events", "", A, "Beta 2002", 3, 50, 1, 50),
  row(1, 2, "Adverse events", "", A, "Gamma 2003", 2, 40, 2, 40),
  row(2, 1, "Pain score", "", A, "Alpha 2001", 0, 100, 0, 100, sd = 1.5),
  row(2, 1, "Pain score", "", A, "Beta 2002", 0, 50, 0, 50, sd = 2.0),
  row(2, 2, "Withdrawals", "", A, "Alpha 2001", 0, 100, 0, 100),
  row(2, 2, "Withdrawals", "", A, "Beta 2002", 0, 50, 0, 50),
  row(2, 2, "Withdrawals", "", A, "Gamma 2003", 0, 40, 0, 40),
  row(2, 2, "Withdrawals", "", A, "Delta 2004", 0, 30, 0, 30),
  row(2, 2, "Withdrawals", "", A, "Eps 2005", 0, 70, 0, 70),
  row(2, 3, "Serious adverse events", "", A, "Alpha 2001", 101, 100, 2, 100),
  row(2, 3, "Serious adverse events", "", A, "Beta 2002", 3, 50, 1, 50),
  row(2, 4, "Response (adjusted)", "", A, "Alpha 2001", 0, 100, 0, 100, gse = 0.2),
  row(2, 4, "Response (adjusted)", "", A, "Beta 2002", 0, 50, 0, 50, gse = 0.3)
)
CD999999_pub1_data <- d
save(CD999999_pub1_data, file = "tests/reference/pairwise70/CD999999_pub1_data.rda", compress = "xz")

# A data frame without the arm columns, for the importer's one-line refusal (tests/batch/test_pairwise70.py).
dir.create("tests/reference/pairwise70/lacking_column", showWarnings = FALSE)
CD000002_data <- data.frame(Analysis.group = 1L, Analysis.number = 1L, Analysis.name = "x", Study = "s")
save(CD000002_data, file = "tests/reference/pairwise70/lacking_column/CD000002_data.rda", compress = "xz")
