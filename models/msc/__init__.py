"""The reanalysis pipeline: study sets, prior grids, sensitivity analyses, summary rows and the report."""
