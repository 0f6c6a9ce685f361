"""The Dagster code location. It only assembles: each area owns its assets and checks.

Steps run in one process one after another (in-process executor) because most of them
write the single-writer DuckDB warehouse (DESIGN.md decision 1); across runs the
``warehouse`` pool, limited to one slot in ``pipelines/dagster.yaml``, does the same.
"""

import dagster as dg

# Areas are imported as modules: Dagster's loader refuses a module scope that holds
# more than one Definitions object.
import pipelines.dbt as dbt_area
import pipelines.identity.assets as identity_area
import pipelines.ingest.assets as ingest_area
import pipelines.ml as ml_area
import pipelines.privacy.assets as privacy_area
from pipelines.serving.assets import build_serving_assets, serving_checks

# The snapshot is published from every mart, so it waits for all of them and their checks.
marts = [key for key in dbt_area.crm360_dbt_assets.keys if key.path[0] == "marts"]
# ...and for the ML score tables (ml.lead_scores, ml.churn_predictions, ml.customer_value).

defs = dg.Definitions.merge(
    ingest_area.defs,
    identity_area.defs,
    privacy_area.defs,
    ml_area.defs,
    dbt_area.dbt_defs,
    dg.Definitions(
        assets=build_serving_assets([*marts, *ml_area.score_keys]),
        asset_checks=serving_checks,
        executor=dg.in_process_executor,
    ),
)
