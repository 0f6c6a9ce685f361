"""The crm360 API: ``uvicorn api.main:app``; OpenAPI at /docs.

``main`` wires routers and shared state; each resource has its router in ``routes/``.
Start it the way ``crm360 serve`` does (docs/api.md): several workers and a long
keep-alive, because thousands of mostly idle CRM clients hold connections open::

    uvicorn api.main:app --host 127.0.0.1 --port 8000 --workers 2 --timeout-keep-alive 75
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.audit import AuditLog
from api.auth import KeyRing
from api.deps import AppState, reject_unknown_query
from api.errors import ErrorBody, install_error_handlers
from api.hotpath import HotReads
from api.landing import EventWriter
from api.routes import audit, customers, events, leads, privacy, segments, system
from api.serving import ServingStore
from warehouse.settings import Settings, get_settings

_ERRORS = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Malformed request"),
        (401, "Missing, unknown or revoked API key"),
        (403, "The key's role may not use this endpoint"),
        (404, "Not found in the key's tenant"),
        (413, "Body or message too large"),
        (422, "Invalid parameters or body"),
        (429, "Rate limited; see Retry-After"),
        (503, "No serving snapshot published yet"),
    )
}


def build_state(settings: Settings) -> AppState:
    audit_log = AuditLog(settings)
    return AppState(
        settings=settings,
        store=ServingStore(settings),
        keyring=KeyRing(settings, audit_log),
        audit_log=audit_log,
        event_writer=EventWriter(settings.landing_dir / "events"),
    )


class Crm360API(FastAPI):
    """FastAPI, with the two hot reads answered before the middleware stack (api/hotpath.py)."""

    hot_reads: HotReads | None = None

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if self.hot_reads is not None and await self.hot_reads.try_answer(scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, hot_reads: bool = True) -> FastAPI:
    state = build_state(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The event loop's thread gets the GIL back from a reloading or flushing thread
        # within 1 ms instead of the default 5 ms: latency matters more than throughput
        # of those background threads.
        sys.setswitchinterval(0.001)
        state.audit_log.start()
        state.event_writer.start()
        state.store.start()
        try:
            yield
        finally:
            state.store.stop()
            state.event_writer.stop()
            state.audit_log.stop()

    app = Crm360API(
        title="crm360 API",
        version="1.0.0",
        summary="Customer 360, scores, segments and Segment-compatible event collection.",
        description=(
            "Every key belongs to one tenant and one role; another tenant's ids answer 404. "
            "Errors are JSON `{code, message}`. See docs/api.md."
        ),
        lifespan=lifespan,
        responses=_ERRORS,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.crm360 = state
    install_error_handlers(app)
    for module in (system, customers, leads, segments, events, privacy, audit):
        app.include_router(module.router)
    if hot_reads:
        app.hot_reads = HotReads(state)
    return app


app = create_app()
