"""Ingestion: landing/ files into the warehouse's raw schema, exactly once and loss-free.

Tests and scripts call ``load_landing`` directly; Dagster wraps it in
``pipelines.ingest.assets`` (imported separately so that the loader stays usable
without loading Dagster).
"""

from pipelines.ingest.loader import FileReport, LoadReport, ReconciliationError, load_landing

__all__ = ["FileReport", "LoadReport", "ReconciliationError", "load_landing"]
