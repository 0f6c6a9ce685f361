"""ML benchmarks: python -m benchmarks.ml.<name> (see docs/ml.md)."""
