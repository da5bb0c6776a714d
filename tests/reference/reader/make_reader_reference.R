# Produces the study files in this folder and reader.metafor.json, the reference for tests/reader/test_metadat.py:
#   cd tests/reference/reader && Rscript make_reader_reference.R     (R 4.2, metafor 3.8-1, metadat 1.2-0, jsonlite)
# Each file is a metadat data set written as R writes CSVs (write.csv quotes the header and the text; write.csv2
# writes semicolons and decimal commas), under metafor's own column names where metafor has them. The JSON holds what
# metafor makes of the same data: escalc's yi and vi, the labels made unique by metafor's .make.unique, the studies
# an rma(mods = ...) fit omits for a missing covariate, and REML pooled estimates.
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
num <- function(x) unname(as.numeric(x))
out <- list(software = paste("R", getRversion(), "metafor", packageVersion("metafor"), "metadat",
                             packageVersion("metadat")), files = list())

# dat.bangertdrowns2004: effects (yi, vi) with repeated authors and a covariate with missing values (minutes)
b <- dat.bangertdrowns2004[, c("id", "author", "year", "minutes", "yi", "vi")]
write.csv(b, "bangertdrowns2004.csv", row.names = FALSE)
write.csv2(b, "bangertdrowns2004_semicolon.csv", row.names = FALSE)
slab <- metafor:::.make.unique(b$author)
reml <- rma(yi, vi, data = b, method = "REML")
reg <- suppressWarnings(rma(yi, vi, mods = ~ minutes, data = b, method = "REML"))
out$files$bangertdrowns2004 <- list(
  source = "metadat::dat.bangertdrowns2004 (Bangert-Drowns et al. 2004), write.csv and write.csv2",
  measure = "SMD", labels = slab, yi = num(b$yi), vi = num(b$vi),
  omitted_by_rma_mods_minutes = slab[is.na(b$minutes)], k_regression = reg$k,
  REML = list(estimate = num(reml$beta), tau2 = reml$tau2, k = reml$k))

# dat.bourassa1996: 2x2 as metafor's ai, bi, ci, di (non-events); one sample with no left-handed... patients at all
d <- dat.bourassa1996
bo <- data.frame(study = paste(d$author, d$year), ai = d$lh.le, bi = d$lh.re, ci = d$rh.le, di = d$rh.re, sex = d$sex)
write.csv(bo, "bourassa1996.csv", row.names = FALSE)
es <- escalc(measure = "OR", ai = ai, bi = bi, ci = ci, di = di, data = bo)
empty <- (bo$ai + bo$bi == 0) | (bo$ci + bo$di == 0)
labels <- metafor:::.make.unique(bo$study)
kept <- escalc(measure = "OR", ai = ai, bi = bi, ci = ci, di = di, data = bo[!empty, ])
reml <- rma(yi, vi, data = kept, method = "REML")
out$files$bourassa1996 <- list(
  source = "metadat::dat.bourassa1996 (Bourassa et al. 1996), write.csv; ai = lh.le, bi = lh.re, ci = rh.le, di = rh.re",
  measure = "OR", labels = labels, yi = num(es$yi), vi = num(es$vi), empty_arm = labels[empty],
  REML_without_empty_arm = list(estimate = num(reml$beta), tau2 = reml$tau2, k = reml$k))

# dat.normand1999: continuous under metafor's names
n <- dat.normand1999
no <- data.frame(source = n$source, n1i = n$n1i, m1i = n$m1i, sd1i = n$sd1i, n2i = n$n2i, m2i = n$m2i, sd2i = n$sd2i)
write.csv(no, "normand1999_metafor.csv", row.names = FALSE)
smd <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = no)
md <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = no)
out$files$normand1999_metafor <- list(
  source = "metadat::dat.normand1999 (Normand 1999), write.csv", labels = no$source,
  SMD = list(yi = num(smd$yi), vi = num(smd$vi)), MD = list(yi = num(md$yi), vi = num(md$vi)))

# dat.bcg: 2x2 as metafor's ai, n1i, ci, n2i
g <- dat.bcg
bc <- data.frame(author = g$author, year = g$year, ai = g$tpos, n1i = g$tpos + g$tneg, ci = g$cpos, n2i = g$cpos + g$cneg)
write.csv(bc, "bcg_metafor.csv", row.names = FALSE)
or <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = bc)
rr <- escalc(measure = "RR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = bc)
out$files$bcg_metafor <- list(
  source = "metadat::dat.bcg (Colditz et al. 1994), write.csv; ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg",
  labels = metafor:::.make.unique(bc$author),
  OR = list(yi = num(or$yi), vi = num(or$vi)), RR = list(yi = num(rr$yi), vi = num(rr$vi)))

write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "reader.metafor.json")
