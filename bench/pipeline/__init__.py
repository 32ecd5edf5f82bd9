"""`python -m bench.pipeline`: the whole platform's throughput beside its ceilings (issue 13)."""
