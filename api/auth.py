"""Who is calling: API keys from the Authorization header, cached, and rate-limited.

A key is accepted as ``Authorization: Bearer <key>`` or as the HTTP basic-auth user name
(``Basic base64(<key>:)``), which is how Segment's and RudderStack's libraries send a
source's write key. Verified keys are cached for ``KEY_CACHE_SECONDS``, so a revoked key
stops working within that time in every worker without a database read per request.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from dataclasses import dataclass

from api.audit import AuditLog
from api.errors import ApiError
from api.permissions import PII_READERS
from warehouse.keys import ApiKey, verify_key
from warehouse.settings import Settings

KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: one key, one tenant, one role."""

    key_id: str
    tenant_id: str
    role: str
    audit_log: AuditLog

    @property
    def sees_pii(self) -> bool:
        """Whether this caller gets personal data unmasked (api.permissions.PII_READERS)."""
        return self.role in PII_READERS

    def audit(
        self,
        action: str,
        object_type: str | None,
        object_id: str | None,
        status: int = 200,
        *,
        pii: bool = False,
        detail: str | None = None,
    ) -> None:
        self.audit_log.record(
            self.tenant_id, self.key_id, self.role, action, object_type, object_id, status, pii, detail
        )


def key_from_authorization(header: str | None) -> str | None:
    """The presented key from a Bearer or Basic Authorization header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, _password = decoded.partition(":")
        return user or None
    return None


class RateLimiter:
    """A token bucket per key: ``rate`` requests/s sustained, ``burst`` at once."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, float(burst)
        self._buckets: dict[str, list[float]] = {}

    def check(self, key_id: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        now = time.monotonic()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0


class KeyRing:
    """Verifies presented keys against the operational store, with a short cache."""

    def __init__(self, settings: Settings, audit_log: AuditLog):
        self._settings = settings
        self._audit_log = audit_log
        self._cache: dict[str, tuple[Principal | None, float]] = {}
        self._verified_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.limiter = RateLimiter(settings.api_rate_limit, settings.api_rate_burst)

    def cached(self, presented: str) -> Principal | None:
        """The principal of a key verified within the cache time, else None; no side effects."""
        cached = self._cache.get(presented)
        if cached is None or cached[1] < time.monotonic():
            return None
        return cached[0]

    def cached_until(self, principal: Principal) -> float:
        """Until when (monotonic) the cached verification of this principal's key holds."""
        return self._verified_until.get(principal.key_id, 0.0)

    def principal(self, presented: str | None) -> Principal:
        if presented is None:
            raise ApiError(
                401,
                "unauthorized",
                "an API key is required (Authorization: Bearer <key>, or the key as basic-auth user name)",
                headers={"WWW-Authenticate": 'Bearer, Basic realm="crm360"'},
            )
        now = time.monotonic()
        cached = self._cache.get(presented)
        if cached is None or cached[1] < now:
            key: ApiKey | None = verify_key(presented, self._settings)
            found = (
                Principal(key.key_id, key.tenant_id, key.role, self._audit_log) if key is not None else None
            )
            with self._lock:
                if len(self._cache) > 100_000:
                    self._cache.clear()
                self._cache[presented] = (found, now + KEY_CACHE_SECONDS)
                if found is not None:
                    self._verified_until[found.key_id] = now + KEY_CACHE_SECONDS
            cached = (found, 0.0)
        principal = cached[0]
        if principal is None:
            raise ApiError(
                401,
                "invalid_key",
                "the API key is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer, Basic realm="crm360"'},
            )
        wait = self.limiter.check(principal.key_id)
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests for this key; retry in {wait:.2f} s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return principal
