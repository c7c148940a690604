"""Reproducible performance measurements: ``make bench`` (``python -m benchmarks``).

Each ``benchmarks/bench_*.py`` module defines ``run() -> list[Measurement]``. A
measurement is a ratio taken against a baseline *in the same run*, on the same
machine, so that the bars in the issues hold whatever the machine's speed.
"""
