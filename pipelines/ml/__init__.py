"""The ML area: models trained on the feature marts, their checks, and their schedules.

``defs`` for pipelines/definitions.py; ``score_keys`` are the tables the serving
snapshot waits for; ``training_keys`` the training chain (candidate, evaluation with its
blocking check, production), which only ``ml_retrain_job`` (and ``crm360 build``) runs:
``refresh_job`` and ``ml_score_job`` score with the production models.
"""

import dagster as dg

from pipelines.ml.assets import GROUP, SCORING_RUN_TAGS, TRAINING_TAGS, build_ml_area
from pipelines.serving.assets import SNAPSHOT_KEY

ml_assets, ml_checks, score_keys = build_ml_area()

_training = dg.AssetSelection.groups(GROUP)  # the feature marts (dbt) and every ML asset
# scoring: the feature marts and the score tables, not the training chain
training_keys = [key for assets in ml_assets for key in assets.keys if key not in score_keys]
training_selection = dg.AssetSelection.tag(*next(iter(TRAINING_TAGS.items())))
_scoring = dg.AssetSelection.groups(GROUP) - training_selection

retrain_job = dg.define_asset_job(
    name="ml_retrain_job",
    selection=_training | dg.AssetSelection.assets(SNAPSHOT_KEY),
    executor_def=dg.in_process_executor,
    description="Rebuild the feature marts, train, evaluate, check, promote and score every model, then publish.",
)

score_job = dg.define_asset_job(
    name="ml_score_job",
    selection=_scoring | dg.AssetSelection.assets(SNAPSHOT_KEY),
    executor_def=dg.in_process_executor,
    tags=SCORING_RUN_TAGS,
    description="Rebuild the feature marts and score them with the production models, then publish.",
)

retrain_schedule = dg.ScheduleDefinition(
    name="ml_retrain_weekly",
    job=retrain_job,
    cron_schedule="0 3 * * 1",
    description="Weekly: retrain every model; a candidate reaches production only through its blocking check.",
)

score_schedule = dg.ScheduleDefinition(
    name="ml_score_daily",
    job=score_job,
    cron_schedule="0 5 * * *",
    description="Daily: fresh features scored by the production models, published to the serving snapshot.",
)

defs = dg.Definitions(
    assets=ml_assets,
    asset_checks=ml_checks,
    jobs=[retrain_job, score_job],
    schedules=[retrain_schedule, score_schedule],
)
