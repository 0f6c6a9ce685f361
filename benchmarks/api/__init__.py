"""API benchmarks: loopback load against a local uvicorn, bounded in time."""
