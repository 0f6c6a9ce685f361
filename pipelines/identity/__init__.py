"""Identity resolution in Dagster: the probabilistic stage (splink) between dbt models.

The deterministic stage is dbt (dbt_project/models/intermediate/identity); the
probabilistic stage is ``ml.identity`` wrapped by ``pipelines.identity.assets`` (imported
separately, as the ingest area is, so the library stays usable without Dagster).
"""
