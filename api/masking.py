"""Masking personal data for roles that may not read it: one module for the API and the dashboards.

Which roles see personal data is decided in ``api.permissions.PII_READERS`` (admin, sales,
support); every other role gets e-mail addresses, phone numbers and names masked
(``j***@e***.com``, ``+44********01``, ``J. D.``) and other direct identifiers (street,
postal code, date of birth) replaced, in every answer that carries them.

Two ways in:

- the value functions :func:`mask_email`, :func:`mask_phone`, :func:`mask_name` (the
  dashboards map them over frame columns);
- :func:`mask_record`, which walks one JSON object (a customer 360 row, a timeline item,
  a lead, a segment member, an identifier row) and masks by column name, then masks any
  e-mail address or international phone number quoted in the remaining free text.

Masking is deliberately lossy and keeps only enough shape for a person to recognise a
record they already know (first letter, domain initial, top-level domain, country code,
last two digits); it is not pseudonymisation and cannot be reversed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from api.permissions import PII_READERS

__all__ = [
    "mask_email",
    "mask_json",
    "mask_name",
    "mask_phone",
    "mask_record",
    "mask_text",
    "role_sees_pii",
]

_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# An international number in free text: + or 00, then 7 to 15 digits with separators.
_PHONE_IN_TEXT = re.compile(r"(?:\+|\b00)\d(?:[\s().\-]?\d){6,14}\b")

# Column names (exact, lower-case) holding names of people; "name" alone is a segment's or
# campaign's name in most tables and is left alone.
NAME_COLUMNS = frozenset(
    {"first_name", "last_name", "middle_name", "full_name", "contact_name", "customer_name", "person_name"}
)
# Other direct identifiers, replaced whole.
REDACTED_COLUMNS = frozenset({"street", "address", "postal_code", "date_of_birth", "birth_date"})
REDACTED = "***"


def role_sees_pii(role: str) -> bool:
    """True when ``role`` may read personal data unmasked (api.permissions.PII_READERS)."""
    return role in PII_READERS


def mask_email(value: str | None) -> str | None:
    """``john.doe@example.co.uk`` -> ``j***@e***.uk``: first letters and the top-level domain."""
    if not value:
        return value
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return mask_name(value)
    labels = domain.split(".")
    tld = labels[-1] if len(labels) > 1 else ""
    head = (labels[0][:1] + "***") if labels[0] else "***"
    return f"{local[:1]}***@{head}" + (f".{tld}" if tld else "")


def mask_phone(value: str | None) -> str | None:
    """``+441555000001`` -> ``+44********01``: the country prefix and the last two digits."""
    if not value:
        return value
    digits = "".join(ch for ch in value if ch.isdigit())
    plus = "+" if value.strip().startswith("+") else ""
    if len(digits) < 6:
        return plus + "*" * len(digits)
    return plus + digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def mask_name(value: str | None) -> str | None:
    """``John Doe`` -> ``J. D.``: initials only."""
    if not value:
        return value
    return " ".join(part[:1].upper() + "." for part in value.split() if part[:1].isalnum()) or REDACTED


def mask_text(value: str | None) -> str | None:
    """Free text with any quoted e-mail address or international phone number masked."""
    if not value:
        return value
    if "@" in value:
        value = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)) or "", value)
    if any(ch.isdigit() for ch in value):
        value = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)) or "", value)
    return value


def _mask_identifier(kind: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "email":
        return mask_email(value)
    if kind == "phone":
        return mask_phone(value)
    return value  # user ids, anonymous ids, external ids are pseudonymous and kept


def _mask_value(column: str, value: Any) -> Any:
    if isinstance(value, dict):
        return mask_record(value)
    if isinstance(value, list):
        return [_mask_value(column, item) for item in value]
    if not isinstance(value, str) or not value:
        return value
    if column in NAME_COLUMNS:
        return mask_name(value)
    if column in REDACTED_COLUMNS:
        return REDACTED
    # email, requester_email, email_normalized...; not email_marketing_consent ("granted").
    if "email" in column and "@" in value:
        return mask_email(value)
    if "phone" in column and sum(ch.isdigit() for ch in value) >= 5:
        return mask_phone(value)
    return mask_text(value)


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of one JSON object with its personal data masked (by column name, then free text)."""
    masked = {column: _mask_value(column.lower(), value) for column, value in record.items()}
    if "identifier_value" in record:
        masked["identifier_value"] = _mask_identifier(
            record.get("identifier_type"), record["identifier_value"]
        )
    return masked


def mask_json(body: bytes | str) -> bytes:
    """One serialised JSON object, masked and serialised again (compact, key order kept)."""
    return json.dumps(mask_record(json.loads(body)), separators=(",", ":"), ensure_ascii=False).encode()
