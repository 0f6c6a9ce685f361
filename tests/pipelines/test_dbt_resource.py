"""Where the dbt commands Dagster runs leave their artifacts, and how many are kept."""

from __future__ import annotations

from pathlib import Path

from pipelines.dbt.resources import _new_run_folder
from warehouse.settings import get_settings


def test_each_command_gets_a_new_folder_and_only_the_newest_are_kept(env: Path) -> None:
    settings = get_settings()
    runs = settings.dbt_runs_dir
    older = [runs / f"20260101T0000{i:02d}-norun-{i:06x}" for i in range(settings.dbt_runs_keep + 5)]
    for folder in older:
        folder.mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")

    new = _new_run_folder(context=None)

    assert new.parent == runs and not new.exists()  # dbt creates it
    kept = sorted(runs.iterdir())
    # With the new command's folder, exactly dbt_runs_keep remain: the newest ones.
    assert kept == older[-(settings.dbt_runs_keep - 1) :]
    assert new.name > kept[-1].name
