# Produces sample_size.R.json: Rscript make_sample_size_reference.R (base R stats), run in this folder.
#
# Reference values for models/frequentist/sample_size.py: patients per arm from R's power.prop.test (two-sided,
# strict = FALSE), which solves its power equation numerically (uniroot), independently of the closed form the
# Python module uses.
suppressMessages(library(jsonlite))
cases <- list(
  list(p1 = 0.301, p2 = 0.301 * 0.8, sig.level = 0.05, power = 0.8),
  list(p1 = 0.3, p2 = 0.24, sig.level = 0.05, power = 0.8),
  list(p1 = 0.1, p2 = 0.075, sig.level = 0.05, power = 0.8),
  list(p1 = 0.414, p2 = 0.414 * 0.8, sig.level = 0.05, power = 0.9),
  list(p1 = 0.05, p2 = 0.1, sig.level = 0.01, power = 0.8)
)
out <- lapply(cases, function(k) {
  fit <- power.prop.test(p1 = k$p1, p2 = k$p2, sig.level = k$sig.level, power = k$power, tol = 1e-12)
  c(k, list(n_per_arm = fit$n))
})
writeLines(toJSON(list(software = R.version.string, function_called = "stats::power.prop.test", cases = out),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE), "sample_size.R.json")
