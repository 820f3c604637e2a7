"""`make bench`: what trailkeeper costs, each figure beside its yardstick, measured side by side in one run.

Benchmarks report; they never fail CI on speed. Results: bench/results.json and bench/results.md.
"""
