# Produces bias.metafor.json: Rscript make_bias_reference.R (R 4.2, metafor 3.8-1, jsonlite), run in this folder.
#
# Reference values for the small-study-effect tests of models/frequentist/bias.py on the log-OR scale.
# R package meta (metabias) is not packaged for this machine's Debian release, so this script follows meta's own code
# path with metafor, which is what meta itself calls: meta::metabias(method.bias = "Peters" / "Harbord" / "Egger")
# computes its inputs (quoted below from meta's metabias.meta, version 7/8) and then runs
#   linregcore(TE, seTE, covar) = metafor::regtest(rma.uni(TE, sei = seTE, ni = covar), predictor = "ni" or "sei",
#                                                  model = "lm")
# i.e. a weighted least-squares regression with weights 1/seTE^2 and a multiplicative dispersion (summary.lm),
# and a t test on k - 2 df of the coefficient of the predictor ("bias").
# Study selection as meta::metabin(sm = "OR") with its defaults: 0.5 added to all four cells of a study with a zero
# cell for TE/seTE (incr = 0.5, method.incr = "only0"); double-zero studies have TE = NA (allstudies = FALSE) and are
# dropped by metabias. Here: escalc(to = "only0", add = 0.5, drop00 = TRUE) gives the same TE and the same drops.
# Peters' seTE and Harbord's Z, V use the uncorrected counts, as meta does.
suppressMessages({library(metafor); library(jsonlite)})

coefs <- function(reg) {
  cf <- coef(summary(reg$fit))
  list(intercept = cf[1, 1], intercept_se = cf[1, 2], slope = cf[2, 1], slope_se = cf[2, 2],
       t = as.numeric(reg$zval), df = reg$dfs, p = reg$pval, sigma = summary(reg$fit)$sigma)
}

bias <- function(name, src) {
  df <- read.csv(paste0(name, ".csv"))
  es <- escalc(measure = "OR", ai = e_t, n1i = n_t, ci = e_c, n2i = n_c, data = df, to = "only0", add = 0.5, drop00 = TRUE)
  keep <- !is.na(es$yi)
  d <- df[keep, ]; yi <- as.numeric(es$yi[keep]); vi <- as.numeric(es$vi[keep])
  a <- as.numeric(d$e_t); c <- as.numeric(d$e_c); n1 <- as.numeric(d$n_t); n2 <- as.numeric(d$n_c); N <- n1 + n2  # doubles: n1 * n2 * ... overflows R integers for dat.bcg
  res <- list(dataset = name, source = src, software = paste("R metafor", packageVersion("metafor")),
              scale = "log OR", studies = d$study, dropped_double_zero = df$study[!keep], results = list())
  # Peters et al. 2006 (meta: seTE.Peters <- sqrt(1/(event.e + event.c) + 1/(n.e - event.e + n.c - event.c));
  # covar <- 1/(n.e + n.c); linregcore(TE, seTE.Peters, covar))
  se_peters <- sqrt(1 / (a + c) + 1 / (n1 - a + n2 - c))
  res$results$Peters <- c(coefs(regtest(rma.uni(yi, sei = se_peters, ni = 1 / N, method = "DL", test = "t"),
                                        predictor = "ni", model = "lm")),
                          call = "regtest(rma.uni(yi, sei = sqrt(1/(a+c) + 1/(b+d)), ni = 1/N), predictor = 'ni', model = 'lm')")
  # the same through metafor's own predictor "ninv" (1/ni with ni = N): must agree with the line above
  res$results$Peters_ninv <- coefs(regtest(rma.uni(yi, sei = se_peters, ni = N, method = "DL"), predictor = "ninv", model = "lm"))
  # Harbord et al. 2006 (meta: Z <- event.e - (event.e + event.c) * n.e / (n.e + n.c);
  # V <- n.e * n.c * (event.e + event.c) * (n.e - event.e + n.c - event.c) / ((n.e + n.c)^2 * ((n.e + n.c) - 1));
  # linregcore(Z / V, 1 / sqrt(V)))
  Z <- a - (a + c) * n1 / N
  V <- n1 * n2 * (a + c) * (n1 - a + n2 - c) / (N^2 * (N - 1))
  res$results$Harbord <- c(coefs(regtest(rma.uni(Z / V, sei = 1 / sqrt(V), method = "DL", test = "t"), predictor = "sei", model = "lm")),
                           call = "regtest(rma.uni(Z/V, sei = 1/sqrt(V)), predictor = 'sei', model = 'lm')")
  # Egger et al. 1997, classical form (meta's method.bias = "Egger": linregcore(TE, seTE))
  res$results$Egger_lm <- c(coefs(regtest(rma.uni(yi, vi, method = "DL"), predictor = "sei", model = "lm")),
                            call = "regtest(rma.uni(yi, vi), predictor = 'sei', model = 'lm')")
  # metafor's default Egger (model = "rma" with method = "EE": z test), as models.frequentist.egger
  eg <- regtest(rma(yi, vi, method = "EE"))
  res$results$Egger_EE <- list(z = eg$zval, p = eg$pval, slope = as.numeric(eg$fit$beta[2]), slope_se = eg$fit$se[2],
                               intercept = as.numeric(eg$fit$beta[1]), intercept_se = eg$fit$se[1],
                               call = "regtest(rma(yi, vi, method = 'EE'))")
  res$results$k <- length(yi)
  write(toJSON(res, auto_unbox = TRUE, digits = 12, pretty = TRUE), paste0(name, ".bias.metafor.json"))
}

bias("bcg", "metadat::dat.bcg (Colditz et al. 1994, BCG vaccine trials); outcome tuberculosis cases; no zero cells")
bias("hine1989", "metadat::dat.hine1989 (Hine et al. 1989, lidocaine after myocardial infarction); k = 6")
bias("msc_mortality", paste("this project's data/outcomes_binary.csv: MSC vs control, all-cause mortality, the 15 studies",
                            "with known counts (3 double-zero, 3 more with a zero cell)"))
