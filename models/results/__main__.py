"""``python -m models.results > docs/results-columns.md``: print the output column table."""

from models.results.columns import columns_markdown

print(columns_markdown(), end="")
