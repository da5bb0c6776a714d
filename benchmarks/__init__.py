"""Benchmarks of the toolkit's speed and scale (``make bench`` runs :mod:`benchmarks.run`)."""
