"""Segment's and RudderStack's own Python libraries send to the API unchanged.

A real uvicorn server on a loopback port; each library is configured with nothing but
the API's base URL and an ``ingest`` key as its write key, in synchronous mode, and
calls every message type. What lands in landing/events/<tenant>/ is then checked.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn

from api.main import create_app


@pytest.fixture(scope="module")
def server_url(settings, keys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _landed(settings) -> dict[str, dict]:
    folder = settings.landing_dir / "events" / "acme"
    return {
        message["messageId"]: message
        for path in folder.glob("*.jsonl")
        for message in map(json.loads, path.read_text().splitlines())
    }


def _send_everything(client, marker: str) -> None:
    ids = {}
    client.identify(f"{marker}-user", {"email": f"{marker}@example.com"}, message_id=f"{marker}-identify")
    client.track(f"{marker}-user", "Order Completed", {"revenue": 9.5}, message_id=f"{marker}-track")
    client.page(
        f"{marker}-user", name="Pricing", properties={"path": "/pricing"}, message_id=f"{marker}-page"
    )
    client.screen(f"{marker}-user", name="Home", message_id=f"{marker}-screen")
    client.group(f"{marker}-user", "acct-1", {"plan": "pro"}, message_id=f"{marker}-group")
    client.alias(f"{marker}-anon", f"{marker}-user", message_id=f"{marker}-alias")
    client.track(anonymous_id=f"{marker}-anon", event="Viewed", message_id=f"{marker}-anon-track")
    client.flush()
    return ids


def _assert_landed(settings, marker: str) -> None:
    landed = _landed(settings)
    kinds = {
        landed[f"{marker}-{kind}"]["type"]
        for kind in ("identify", "track", "page", "screen", "group", "alias")
    }
    assert kinds == {"identify", "track", "page", "screen", "group", "alias"}
    assert landed[f"{marker}-track"]["properties"] == {"revenue": 9.5}
    assert landed[f"{marker}-anon-track"]["anonymousId"] == f"{marker}-anon"
    assert landed[f"{marker}-alias"]["previousId"] == f"{marker}-anon"
    assert all(landed[f"{marker}-{kind}"]["receivedAt"] for kind in ("identify", "track"))


@pytest.mark.parametrize("gzip", [False, True])
def test_segment_analytics_python(server_url, keys, settings, gzip):
    from segment.analytics import Client

    errors = []
    client = Client(
        write_key=keys["ingest"],
        host=server_url,
        sync_mode=True,
        gzip=gzip,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    _send_everything(client, f"segment-{gzip}")
    assert errors == []
    _assert_landed(settings, f"segment-{gzip}")


def test_rudder_sdk_python(server_url, keys, settings):
    from rudderstack.analytics import Client

    errors = []
    client = Client(
        write_key=keys["ingest"],
        host=server_url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    _send_everything(client, "rudder")
    assert errors == []
    _assert_landed(settings, "rudder")


def test_a_wrong_write_key_is_reported_to_the_library(server_url):
    from segment.analytics import Client
    from segment.analytics.request import APIError

    client = Client(write_key="not-a-key", host=server_url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as raised:
        client.track("u", "x")
    assert raised.value.status == 401
    assert raised.value.code == "invalid_key"
