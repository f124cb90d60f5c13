"""Benchmarks for modeltune: speed and quality targets, with results written to files."""
