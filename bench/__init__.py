"""Benchmarks that print tables (`python -m bench`); never run as tests. See README, "Cost and benchmarks"."""
