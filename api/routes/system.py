"""Liveness and the serving status."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import State, StatusReader
from api.schemas import Health, SnapshotStatus, Status
from api.serving import snapshot_age_seconds

router = APIRouter(prefix="/v1", tags=["system"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness: the process answers. Needs no key."""
    return Health(status="ok")


@router.get("/status", response_model=Status)
async def status(principal: StatusReader, state: State) -> Status:
    """The snapshot being served: version, build time, age, row counts; the model versions."""
    data = state.store.current
    if data is None:
        return Status(
            status="no_snapshot", snapshot=None, model_versions={}, last_error=state.store.last_error
        )
    info = data.info
    return Status(
        status="ok",
        snapshot=SnapshotStatus(
            version=info.version,
            built_at=info.built_at,
            age_seconds=round(snapshot_age_seconds(data), 3),
            loaded_at=datetime.fromtimestamp(data.loaded_at, UTC),
            tables=info.tables,
        ),
        model_versions=info.model_versions,
        last_error=state.store.last_error,
    )
