"""Probabilistic identity resolution (splink 5 on DuckDB): a plain library, no Dagster."""
