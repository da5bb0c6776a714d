# Export the shipped corpus of meta-analyses from R's metadat package into data/corpus/.
#
#   Rscript scripts/export_corpus.R            (run from the repository root; needs metadat)
#
# Writes one CSV per meta-analysis in the batch layouts (2x2: study,e_t,n_t,e_c,n_c; continuous:
# study,n_t,mean_t,sd_t,n_c,mean_c,sd_c; effects: study,yi,vi), data/corpus/manifest.csv (id, path, measure,
# higher_is_benefit, outcome, dataset, split) and data/corpus/README.md (title and source of each data set, taken
# from its metadat help page). Multi-outcome data sets are split by their outcome columns or grouping column.
# Studies without counts for an outcome are left out (counted in the manifest's studies_without_counts).
# Arm t is the experimental arm, arm c the control arm, as in the data set's documentation.
suppressPackageStartupMessages(library(metadat))
out <- file.path("data", "corpus")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
manifest <- list()
used <- character(0)

write_binary <- function(id, dataset, study, e_t, n_t, e_c, n_c, outcome, higher_is_benefit, split = "") {
  d <- data.frame(study = make.unique(as.character(study), sep = " #"), e_t = e_t, n_t = n_t, e_c = e_c, n_c = n_c)
  missing <- !complete.cases(d)  # studies without counts for this outcome are left out, as metafor's rma does
  d <- d[!missing, ]
  write.csv(d, file.path(out, paste0(id, ".csv")), row.names = FALSE, quote = TRUE)
  manifest[[length(manifest) + 1]] <<- data.frame(id = id, path = paste0(id, ".csv"), measure = "OR",
    higher_is_benefit = higher_is_benefit, outcome = outcome, dataset = dataset, split = split,
    studies_without_counts = sum(missing))
  used <<- union(used, dataset)
}

write_other <- function(id, dataset, d, measure, outcome, higher_is_benefit) {
  write.csv(d, file.path(out, paste0(id, ".csv")), row.names = FALSE, quote = TRUE)
  manifest[[length(manifest) + 1]] <<- data.frame(id = id, path = paste0(id, ".csv"), measure = measure,
    higher_is_benefit = higher_is_benefit, outcome = outcome, dataset = dataset, split = "",
    studies_without_counts = 0L)
  used <<- union(used, dataset)
}

# -- single-outcome 2x2 data sets ----------------------------------------------------------------------------------
with(dat.bcg, write_binary("bcg", "dat.bcg", paste(author, year), tpos, tpos + tneg, cpos, cpos + cneg,
  "tuberculosis cases (BCG vaccine vs none)", FALSE))
with(dat.hine1989, write_binary("hine1989", "dat.hine1989", paste(study, source), ai, n1i, ci, n2i,
  "death (prophylactic lidocaine vs control)", FALSE))
with(dat.nielweise2007, write_binary("nielweise2007", "dat.nielweise2007", paste(author, year), ai, n1i, ci, n2i,
  "catheter-related bloodstream infection (anti-infective vs standard catheter)", FALSE))
with(dat.lee2004, write_binary("lee2004", "dat.lee2004", paste(study, year), ai, n1i, ci, n2i,
  "nausea (acupoint P6 stimulation vs sham)", FALSE))
with(dat.egger2001, write_binary("egger2001", "dat.egger2001", paste(study, year), ai, n1i, ci, n2i,
  "death (intravenous magnesium vs control, myocardial infarction)", FALSE))
with(dat.li2007, write_binary("li2007", "dat.li2007", paste(study, year), ai, n1i, ci, n2i,
  "death (intravenous magnesium vs control, myocardial infarction)", FALSE))
with(dat.lau1992, write_binary("lau1992", "dat.lau1992", paste(trial, year), ai, n1i, ci, n2i,
  "death (intravenous streptokinase vs control)", FALSE))
with(dat.damico2009, write_binary("damico2009", "dat.damico2009", paste(study, year), xt, nt, xc, nc,
  "respiratory tract infection (topical plus systemic antibiotics vs control)", FALSE))
with(dat.axfors2021, write_binary("axfors2021", "dat.axfors2021", acronym, hcq_arm_event, hcq_arm_total,
  control_arm_event, control_arm_total, "death (hydroxychloroquine/chloroquine vs control, COVID-19)", FALSE))
with(dat.graves2010, write_binary("graves2010", "dat.graves2010", study, ai, n1i, ci, n2i,
  "cholera cases (injected killed whole-cell vaccine vs control)", FALSE))
with(dat.hahn2001, write_binary("hahn2001", "dat.hahn2001", study, ai, n1i, ci, n2i,
  "unscheduled intravenous infusion (reduced vs standard osmolarity rehydration solution)", FALSE))
with(dat.laopaiboon2015, write_binary("laopaiboon2015", "dat.laopaiboon2015", paste(author, year), ai, n1i, ci, n2i,
  "clinical failure (azithromycin vs amoxycillin/amoxyclav, lower respiratory tract infection)", FALSE))
with(dat.viechtbauer2021, write_binary("viechtbauer2021", "dat.viechtbauer2021", paste("trial", trial), xTi, nTi,
  xCi, nCi, "remission (medication vs control)", TRUE))
with(dat.dorn2007, write_binary("dorn2007", "dat.dorn2007", paste(study, year), x.a, n.a, x.p, n.p,
  "response (complementary/alternative medicine vs placebo, irritable bowel syndrome)", TRUE))

# -- split by a grouping column (the splits used in the source meta-analyses) -----------------------------------------
for (g in sort(unique(dat.yusuf1985$table))) {
  d <- dat.yusuf1985[which(dat.yusuf1985$table == g), ]
  with(d, write_binary(paste0("yusuf1985_table", g), "dat.yusuf1985", trial, ai, n1i, ci, n2i,
    paste0("death or reinfarction (beta blockers vs control), Yusuf et al. table ", g), FALSE, paste("table", g)))
}
for (g in c("low", "moderate", "high")) {
  d <- dat.anand1999[which(dat.anand1999$intensity == g), ]
  with(d, write_binary(paste0("anand1999_", g), "dat.anand1999", study, ai, n1i, ci, n2i,
    paste0("death (oral anticoagulants vs control, ", g, " intensity)"), FALSE, paste("intensity", g)))
}
for (g in sort(unique(na.omit(dat.linde2005$group)))) {
  d <- dat.linde2005[which(dat.linde2005$group == g), ]
  with(d, write_binary(paste0("linde2005_group", g), "dat.linde2005", paste(study, year), ai, n1i, ci, n2i,
    paste0("response (St John's wort vs placebo), stratum ", g), TRUE, paste("group", g)))
}
nrt <- dat.hartmannboyce2018
for (g in names(which(table(nrt$treatment) >= 4))) {
  d <- nrt[which(nrt$treatment == g), ]
  with(d, write_binary(paste0("hartmannboyce2018_", gsub("[^a-z]+", "_", g)), "dat.hartmannboyce2018", study,
    x.nrt, n.nrt, x.ctrl, n.ctrl, paste0("smoking cessation (nicotine replacement vs control, ", g, ")"), TRUE,
    paste("treatment", g)))
}

# -- split by outcome columns --------------------------------------------------------------------------------------
co <- c(b = "persistent or recurrent bleeding", o = "need of operation", d = "death")
for (o in names(co)) {
  d <- dat.collins1985a
  write_binary(paste0("collins1985a_", o), "dat.collins1985a", paste(d$trial, d$year), d[[paste0(o, ".xti")]], d$nti,
    d[[paste0(o, ".xci")]], d$nci, paste0(co[[o]], " (H2 antagonist vs control, upper GI bleeding)"), FALSE,
    paste("outcome", o))
}
ce <- c("coronary death or non-fatal MI", "coronary death or any cardiovascular event", "cardiovascular death",
        "non-cardiovascular death", "all-cause death", "stroke")
for (j in 1:6) {
  d <- dat.cannon2006
  write_binary(paste0("cannon2006_ep", j), "dat.cannon2006", d$trial, d[[paste0("ep", j, "t")]], d$nt,
    d[[paste0("ep", j, "c")]], d$nc, paste0(ce[j], " (intensive vs moderate statin)"), FALSE, paste("end point", j))
}
for (j in 1:4) {
  d <- dat.fine1993
  write_binary(paste0("fine1993_", 6 * j, "m"), "dat.fine1993", paste("study", d$study), d[[paste0("e", j, "i")]],
    d$nei, d[[paste0("c", j, "i")]], d$nci,
    paste0("survival at ", 6 * j, " months (radiotherapy plus chemotherapy vs radiotherapy)"), TRUE,
    paste("time", 6 * j, "months"))
}

# -- one continuous and two effect-size data sets (the other input layouts) ----------------------------------------
with(dat.normand1999, write_other("normand1999", "dat.normand1999", data.frame(study = paste(study, source),
  n_t = n1i, mean_t = m1i, sd_t = sd1i, n_c = n2i, mean_c = m2i, sd_c = sd2i), "SMD",
  "length of hospital stay (specialised vs routine stroke care)", FALSE))
with(dat.raudenbush1985, write_other("raudenbush1985", "dat.raudenbush1985",
  data.frame(study = paste(author, year, study), yi = yi, vi = vi), "SMD",
  "IQ (teacher expectancy induced vs control)", TRUE))
with(dat.hackshaw1998, write_other("hackshaw1998", "dat.hackshaw1998",
  data.frame(study = paste(author, year, study), yi = yi, vi = vi), "OR",
  "lung cancer (spouse smokes vs not; observational)", FALSE))

m <- do.call(rbind, manifest)
write.csv(m, file.path(out, "manifest.csv"), row.names = FALSE, quote = TRUE)

# -- provenance: the title and source of each data set from its help page -----------------------------------------
db <- tools::Rd_db("metadat")
field <- function(rd, tag) {
  tags <- vapply(rd, function(x) attr(x, "Rd_tag"), "")
  i <- which(tags == tag)
  if (!length(i)) return("")
  trimws(gsub("\\s+", " ", paste(unlist(rd[[i[1]]]), collapse = "")))
}
lines <- c("# The shipped corpus: meta-analyses from R's metadat package", "",
  paste0("Exported by `scripts/export_corpus.R` from R package metadat ", packageVersion("metadat"),
         " (R ", getRversion(), "). Title and source as on each data set's help page. `manifest.csv` lists every meta-analysis: id, path, measure, higher_is_benefit (outcome direction), outcome, dataset, split (the grouping value or outcome column of a split data set), studies_without_counts (studies of the data set left out because they report no counts for this outcome). Regenerate with `Rscript scripts/export_corpus.R` from the repository root."), "")
for (n in sort(used)) {
  rd <- db[[paste0(n, ".Rd")]]
  ids <- m$id[m$dataset == n]
  lines <- c(lines, paste0("## ", n, ": ", field(rd, "\\title")), "",
             paste0("Source: ", field(rd, "\\source")), "",
             paste0("Meta-analyses: ", paste(ids, collapse = ", ")), "")
}
writeLines(lines, file.path(out, "README.md"))
cat(nrow(m), "meta-analyses from", length(used), "data sets written to", out, "\n")
