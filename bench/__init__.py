"""Benchmarks for Latchkey, outside the test run: `python -m bench.signin` (see README.md)."""
