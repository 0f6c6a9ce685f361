"""Which role may do what: the one table the API consults (docs/api.md repeats it).

Each endpoint names one action; an action lists the roles allowed to perform it. A key
whose role is not listed gets 403; a key of another tenant never gets that far for an
object it cannot see, because every lookup is scoped by the key's tenant (404).
"""

from __future__ import annotations

from warehouse.keys import ROLES

_PEOPLE_READERS = frozenset({"admin", "analyst", "sales", "support", "marketing"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "status.read": frozenset(ROLES),
    "customers.read": _PEOPLE_READERS,
    "timeline.read": _PEOPLE_READERS,
    "scores.read": _PEOPLE_READERS | {"app"},
    "leads.read": frozenset({"admin", "analyst", "sales"}),
    "segments.read": frozenset({"admin", "analyst", "marketing"}),
    "segments.export": frozenset({"admin", "marketing"}),
    "events.write": frozenset({"admin", "ingest"}),
    "consents.write": frozenset({"admin", "support", "marketing", "app"}),
    "erasures.write": frozenset({"admin", "support"}),
    "erasures.read": frozenset({"admin", "support"}),
    "audit.read": frozenset({"admin"}),
}

# Personal data (names, e-mail addresses, phone numbers, addresses, birth dates) is shown
# unmasked to the roles that work with individual people; the others get it masked in
# every answer (api/masking.py). Not an endpoint action: it changes what a permitted read
# returns, not whether it is allowed. A segment export shows its channel's address to
# its roles, because the consent it is filtered on is what permits that use (docs/privacy.md).
PII_READERS: frozenset[str] = frozenset({"admin", "sales", "support"})

assert all(roles <= set(ROLES) for roles in PERMISSIONS.values())
assert PERMISSIONS["customers.read"] >= PII_READERS


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]
