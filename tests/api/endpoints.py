"""Every endpoint once, with a valid request, and the action it is checked against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # concrete path with ids of tenant acme
    route: str  # the route template, to check that every route is covered
    action: str | None  # None: no key needed
    json: Any = None
    basic: bool = False  # Segment endpoints: the key as basic-auth user name
    ok: tuple[int, ...] = (200,)
    query: dict[str, Any] = field(default_factory=dict)


TRACK = {"event": "Signed Up", "userId": "u-1", "messageId": "perm-matrix-track"}

CALLS: tuple[Call, ...] = (
    Call("GET", "/v1/health", "/v1/health", None),
    Call("GET", "/v1/status", "/v1/status", "status.read"),
    Call("GET", "/v1/customers", "/v1/customers", "customers.read", query={"email": "person1@acme.example"}),
    Call("GET", "/v1/customers/cus_0001", "/v1/customers/{customer_id}", "customers.read"),
    Call("GET", "/v1/customers/cus_0001/timeline", "/v1/customers/{customer_id}/timeline", "timeline.read"),
    Call("GET", "/v1/customers/cus_0001/scores", "/v1/customers/{customer_id}/scores", "scores.read"),
    Call("GET", "/v1/leads", "/v1/leads", "leads.read"),
    Call("GET", "/v1/segments", "/v1/segments", "segments.read"),
    Call("GET", "/v1/segments/seg_vip/members", "/v1/segments/{segment_id}/members", "segments.read"),
    Call(
        "GET",
        "/v1/segments/seg_vip/export",
        "/v1/segments/{segment_id}/export",
        "segments.export",
        query={"channel": "email"},
    ),
    Call(
        "POST",
        "/v1/batch",
        "/v1/batch",
        "events.write",
        json={"batch": [{"type": "track", **TRACK}]},
        basic=True,
    ),
    Call("POST", "/v1/track", "/v1/track", "events.write", json=TRACK, basic=True),
    Call("POST", "/v1/identify", "/v1/identify", "events.write", json={"userId": "u-1"}, basic=True),
    Call(
        "POST",
        "/v1/page",
        "/v1/page",
        "events.write",
        json={"anonymousId": "a-1", "name": "Home"},
        basic=True,
    ),
    Call(
        "POST",
        "/v1/screen",
        "/v1/screen",
        "events.write",
        json={"anonymousId": "a-1", "name": "Main"},
        basic=True,
    ),
    Call(
        "POST", "/v1/group", "/v1/group", "events.write", json={"userId": "u-1", "groupId": "g-1"}, basic=True
    ),
    Call(
        "POST",
        "/v1/alias",
        "/v1/alias",
        "events.write",
        json={"userId": "u-1", "previousId": "a-1"},
        basic=True,
    ),
    Call(
        "POST",
        "/v1/consents",
        "/v1/consents",
        "consents.write",
        json={
            "email": "person1@acme.example",
            "purpose": "marketing",
            "channel": "email",
            "status": "granted",
        },
        ok=(202,),
    ),
    Call(
        "POST",
        "/v1/privacy/erasures",
        "/v1/privacy/erasures",
        "erasures.write",
        json={"identifiers": {"email": "person9@acme.example"}},
        ok=(202,),
    ),
    Call("GET", "/v1/privacy/erasures/{erasure}", "/v1/privacy/erasures/{request_id}", "erasures.read"),
    Call("GET", "/v1/audit", "/v1/audit", "audit.read"),
)
