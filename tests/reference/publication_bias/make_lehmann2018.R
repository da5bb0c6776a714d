# Writes lehmann2018.csv (81 ego-depletion SMDs, yi and vi as shipped) from R's metadat package (Debian
# r-cran-metadat 1.2-0): the data of RoBMA 4.0's "Robust Bayesian Meta-Analysis" vignette.
library(metadat)
d <- dat.lehmann2018
write.csv(d[, c("Short_Title", "yi", "vi")], "lehmann2018.csv", row.names = FALSE)
