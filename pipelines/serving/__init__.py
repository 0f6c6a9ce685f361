"""Serving: publishing the snapshot that the API and the dashboards read."""
