"""The near-limit baseline: a bare ASGI app answering prebuilt bytes from a dict.

Same server (uvicorn, same workers and flags), same load and the same response bodies
as the real API (the scores JSON of the published snapshot, loaded at start), but no
routing, authentication, rate limiting or audit: what this machine can do at most.
"""

from __future__ import annotations

from api.serving import SEP, load_serving_data
from warehouse.settings import get_settings
from warehouse.snapshots import read_pointer


def _bodies() -> dict[bytes, bytes]:
    settings = get_settings()
    data = load_serving_data(read_pointer(settings.snapshots_dir), settings)
    try:
        return {
            f"/v1/customers/{key.split(SEP, 1)[1]}/scores".encode(): body for key, body in data.scores.items()
        }
    finally:
        data.con.close()


BODIES = _bodies()
_NOT_FOUND = b'{"code":"not_found","message":"customer not found"}'


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = BODIES.get(scope["raw_path"])
    status = 200 if body is not None else 404
    body = body if body is not None else _NOT_FOUND
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
