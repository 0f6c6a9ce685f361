"""Who is looking: a viewer signs in with an API key; tenant, role and PII come from it.

The dashboards reuse the API's key store (``warehouse.keys.verify_key``: hashed keys in
the operational store, revocation included) and its permission table
(``api.permissions``): a key may open the dashboards when its role may read customers
(admin, analyst, sales, support, marketing; not app or ingest), and each page names the
API action whose roles may open it. Nothing here keeps a second list of roles.

Personal data (names, contact details, addresses, birth dates, identifier values) is
shown to the roles the API lets read it (``api.permissions.PII_READERS``: admin, sales,
support) and masked for the others with the API's own functions (``api/masking.py``), so
a person looks the same masked on screen as in an API answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from api.masking import REDACTED, mask_email, mask_name, mask_phone, role_sees_pii
from api.permissions import PERMISSIONS, PII_READERS, allowed
from warehouse.keys import verify_key
from warehouse.settings import Settings

SIGN_IN_ACTION = "customers.read"
assert PERMISSIONS[SIGN_IN_ACTION] >= PII_READERS

# Columns of the snapshot that hold personal data, wherever they appear.
PII_COLUMNS: frozenset[str] = frozenset(
    {
        "first_name",
        "last_name",
        "name",
        "full_name",
        "email",
        "phone",
        "street",
        "city",
        "postal_code",
        "date_of_birth",
        "identifier_value",
        "user_id",
        "anonymous_id",
    }
)
MASK = "•••"


@dataclass(frozen=True)
class Viewer:
    """A signed-in dashboard user: one key, one tenant, one role."""

    key_id: str
    tenant_id: str
    role: str

    @property
    def sees_pii(self) -> bool:
        return role_sees_pii(self.role)

    def may(self, action: str) -> bool:
        return allowed(self.role, action)


class SignInError(ValueError):
    """The key cannot open the dashboards; the message is safe to show."""


def sign_in(presented: str, settings: Settings) -> Viewer:
    """The viewer a presented API key proves, or :class:`SignInError`."""
    key = verify_key(presented.strip(), settings)
    if key is None:
        raise SignInError("This key is unknown or has been revoked.")
    if not allowed(key.role, SIGN_IN_ACTION):
        raise SignInError(
            f"Keys of role '{key.role}' cannot open the dashboards: use a key of role "
            + ", ".join(sorted(PERMISSIONS[SIGN_IN_ACTION]))
            + "."
        )
    return Viewer(key_id=key.key_id, tenant_id=key.tenant_id, role=key.role)


_MASKERS = {
    "first_name": mask_name,
    "last_name": mask_name,
    "name": mask_name,
    "full_name": mask_name,
    "email": mask_email,
    "phone": mask_phone,
}


def mask_value(column: str, value: object) -> object:
    """``value`` of a personal-data ``column`` as the API masks it (api/masking.py)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    masker = _MASKERS.get(column)
    return masker(str(value)) if masker else REDACTED


def mask_frame(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """``frame`` with its personal-data columns masked unless the viewer may see them."""
    if viewer.sees_pii:
        return frame
    columns = [c for c in frame.columns if c in PII_COLUMNS]
    if not columns:
        return frame
    masked = frame.copy()
    for column in columns:
        masked[column] = (
            masked[column].map(lambda value, column=column: mask_value(column, value)).astype(object)
        )
    return masked


_SAFE_DETAIL = re.compile(r"^[\w .:/,()-]{0,80}$")


def mask_text(text: str | None, viewer: Viewer) -> str | None:
    """Free text (a timeline detail) may quote personal data: show it only to PII readers."""
    if text is None or viewer.sees_pii:
        return text
    return text if _SAFE_DETAIL.match(text) and "@" not in text else MASK
