"""The hot read paths answered before FastAPI's routing and dependency machinery.

GET /v1/customers/{id} and GET /v1/customers/{id}/scores are what CRM apps call for
every page they render. Their 200 answers are already bytes in memory (api/serving.py);
what costs is the framework around them (route matching, dependency solving), about
nine tenths of the application's time for such a request. The app (api/main.py) asks
:meth:`HotReads.try_answer` first, before any middleware, and it answers exactly those
two requests when everything is ordinary: a cached valid key whose role may read, under
its rate limit, an id that exists in the key's tenant, no query string. It uses the
same permission table, key cache, rate limiter, snapshot, masking and audit log as the
routes: a role without personal-data permission gets the profile's masked variant
(``ServingData.profile``, made on first read and kept with the snapshot), never the
unmasked bytes.

Anything else (no key, an unknown or uncached key, a forbidden role, a miss, a rate
limit, a query string) goes on to FastAPI unchanged, so errors, 404s, 429s and their
audit records come from one place, the routes. tests/api/test_hotpath.py checks that
answers are identical with and without this middleware.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from api.auth import key_from_authorization
from api.permissions import PERMISSIONS
from api.serving import dict_key

log = logging.getLogger("crm360.api.hotpath")

_PREFIX = "/v1/customers/"
_SCORES = "/scores"
_JSON = (b"content-type", b"application/json")


class HotReads:
    """Serve the two hot reads from memory; say False for everything else."""

    def __init__(self, state: Any):
        self.state = state
        self._profiles_roles = PERMISSIONS["customers.read"]
        self._scores_roles = PERMISSIONS["scores.read"]
        # Raw Authorization header -> principal, while the key ring's cache vouches for it.
        self._principals: dict[bytes, Any] = {}

    async def try_answer(self, scope: dict, send: Any) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            return False
        path: str = scope["path"]
        if not path.startswith(_PREFIX):
            return False
        try:
            answer = self._answer(scope, path[len(_PREFIX) :])
        except Exception:  # never fail here: the route will answer, and report, properly
            log.exception("hot path failed; passing the request on")
            return False
        if answer is None:
            return False
        headers, body = answer
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    def _answer(self, scope: dict, rest: str) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        if rest.endswith(_SCORES):
            customer_id, roles, action = rest[: -len(_SCORES)], self._scores_roles, "scores.read"
        else:
            customer_id, roles, action = rest, self._profiles_roles, "customers.read"
        if not customer_id or "/" in customer_id:
            return None
        state = self.state
        data = state.store.current
        if data is None:
            return None
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
                break
        if authorization is None:
            return None
        principal = self._principals.get(authorization)
        if principal is None:
            presented = key_from_authorization(authorization.decode("latin-1"))
            if presented is None:
                return None
            principal = state.keyring.cached(presented)
            if principal is None:
                return None
            if len(self._principals) > 10_000:
                self._principals.clear()
            self._principals[authorization] = principal
        elif state.keyring.cached_until(principal) < time.monotonic():
            del self._principals[authorization]  # re-verified by the route, then cached again
            return None
        if principal.role not in roles:
            return None
        survivor = data.resolve(principal.tenant_id, customer_id)
        if survivor is None:
            return None
        if state.keyring.limiter.check(principal.key_id):
            return None  # the route answers 429 with Retry-After
        key = dict_key(principal.tenant_id, survivor)
        if action == "scores.read":  # scores carry no personal data
            body = data.scores[key]
            principal.audit(action, "customer", survivor)
        else:
            sees_pii = principal.sees_pii
            body = data.profile(key, sees_pii)
            principal.audit(action, "customer", survivor, pii=sees_pii)
        headers = [
            _JSON,
            (b"content-length", str(len(body)).encode()),
            (b"x-snapshot-version", data.version_header),
        ]
        if survivor != customer_id:
            headers.append((b"content-location", f"/v1/customers/{survivor}".encode()))
            headers.append((b"x-merged-into", survivor.encode()))
        return headers, body
