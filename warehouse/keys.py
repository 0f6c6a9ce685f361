"""API keys: created once, stored hashed, bound to one tenant and one role.

A key reads ``crm360_<key_id>_<secret>``. The key id is public (it appears in the audit
log and in ``crm360 keys list``); the secret is 256 random bits shown once at creation
and stored only as its SHA-256 hash. A fast hash is enough for a secret of that
entropy: there is no password to guess. Which role may call which endpoint is decided
in one table, ``api/permissions.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from warehouse.opstore import ops_db
from warehouse.settings import Settings

ROLES: tuple[str, ...] = ("admin", "analyst", "sales", "support", "marketing", "app", "ingest")
KEY_PREFIX = "crm360"
# Tenant ids name folders under landing/events/, so they are restricted to safe characters.
TENANT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_KEY_RE = re.compile(rf"^{KEY_PREFIX}_(?P<key_id>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{43}})$")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant_id: str
    role: str
    name: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def create_key(
    tenant_id: str, role: str, name: str = "", settings: Settings | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns its record and the full key, which is not stored anywhere."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not TENANT_ID_RE.match(tenant_id):
        raise ValueError(f"invalid tenant id {tenant_id!r}: letters, digits, '_' and '-', at most 64")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKey(key_id=key_id, tenant_id=tenant_id, role=role, name=name, created_at=_now())
    with ops_db(settings) as con:
        con.execute(
            "insert into api_keys (key_id, secret_sha256, tenant_id, role, name, created_at) values (?, ?, ?, ?, ?, ?)",
            [key_id, _hash(secret), tenant_id, role, name, record.created_at],
        )
    return record, f"{KEY_PREFIX}_{key_id}_{secret}"


def revoke_key(key_id: str, settings: Settings | None = None) -> bool:
    """Revoke a key; False when no active key has that id."""
    with ops_db(settings) as con:
        cursor = con.execute(
            "update api_keys set revoked_at = ? where key_id = ? and revoked_at is null", [_now(), key_id]
        )
        return cursor.rowcount == 1


def list_keys(tenant_id: str | None = None, settings: Settings | None = None) -> list[ApiKey]:
    query = "select key_id, tenant_id, role, name, created_at, revoked_at from api_keys"
    params: list[str] = []
    if tenant_id:
        query += " where tenant_id = ?"
        params.append(tenant_id)
    with ops_db(settings) as con:
        rows = con.execute(query + " order by created_at", params).fetchall()
    return [ApiKey(*row) for row in rows]


def verify_key(presented: str, settings: Settings | None = None) -> ApiKey | None:
    """The active key that ``presented`` proves, or None."""
    match = _KEY_RE.match(presented)
    if not match:
        return None
    with ops_db(settings) as con:
        row = con.execute(
            "select key_id, tenant_id, role, name, created_at, revoked_at, secret_sha256 from api_keys "
            "where key_id = ?",
            [match["key_id"]],
        ).fetchone()
    if row is None or row[5] is not None:
        return None
    if not hmac.compare_digest(row[6], _hash(match["secret"])):
        return None
    return ApiKey(*row[:6])
