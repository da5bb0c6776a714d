# REML where metafor's full Fisher step does not converge, and its documented remedy (a shorter step).
# Synthetic effects (log OR scale), found by searching random data sets for an oscillating Fisher scoring.
# Run from the repository root: Rscript tests/reference/reml_stepadj/make_reml_stepadj.R
# Writes tests/reference/reml_stepadj/reml_stepadj.metafor.json (metafor 3.8-1, R 4.2.2 when generated).
library(metafor)
sets <- list(
  a = list(yi = c(-0.84, 0.30, 0.59, -0.10, -0.64, 0.52, -0.77), vi = c(2.730, 2.421, 0.042, 2.616, 1.728, 1.232, 0.222)),
  b = list(yi = c(-0.34, 0.39, -0.37, 0.34, -0.27, -0.46, 0.23), vi = c(0.275, 1.181, 0.025, 0.031, 0.223, 0.965, 0.574))
)
out <- list(metafor = as.character(packageVersion("metafor")))
for (name in names(sets)) {
  s <- sets[[name]]
  default <- tryCatch(rma(s$yi, s$vi, method = "REML"), error = function(e) conditionMessage(e))
  fit <- rma(s$yi, s$vi, method = "REML", control = list(stepadj = 0.5))
  out[[name]] <- list(yi = s$yi, vi = s$vi, default_error = if (is.character(default)) default else "",
                      tau2 = fit$tau2, estimate = c(fit$beta), se = fit$se, ci_lb = fit$ci.lb, ci_ub = fit$ci.ub,
                      pval = fit$pval, I2 = fit$I2, QE = fit$QE)
}
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/reml_stepadj/reml_stepadj.metafor.json")
