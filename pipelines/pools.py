"""The Dagster pool of every step that opens the warehouse for writing.

DuckDB allows one read-write process (DESIGN.md decision 1). Every such step declares
this pool, and ``pipelines/dagster.yaml`` gives each pool one slot, so they never
overlap, within a run or across runs.
"""

WAREHOUSE_POOL = "warehouse"
