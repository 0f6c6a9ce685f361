"""Request and response models: what the OpenAPI document at /docs shows.

Request bodies forbid unknown fields. Responses of the serving endpoints are built
from the snapshot's own rows (pre-serialised, see api/serving.py), so their models
name the fields the API relies on and allow the rest of the serving contract's columns.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

CONSENT_PURPOSES = ("marketing", "analytics", "profiling")
CONSENT_CHANNELS = ("email", "sms", "whatsapp", "phone", "push")

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_EMAIL = Field(default=None, min_length=3, max_length=320, pattern=r"^[^@ \t\r\n]+@[^@ \t\r\n]+$")
_PHONE = Field(default=None, min_length=3, max_length=40, pattern=r"^\+?[0-9 ().-]{3,40}$")
_ID = Field(default=None, min_length=1, max_length=200)


def _iso_only(value: Any) -> Any:
    # Pydantic would read numbers (and numeric strings) as Unix times; the API takes ISO 8601 only.
    if not isinstance(value, datetime) and not (isinstance(value, str) and _ISO_DATETIME.match(value)):
        raise ValueError("expected an ISO 8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z")
    return value


IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]


def _one_of(*fields: str) -> dict[str, Any]:
    return {"anyOf": [{"required": [field]} for field in fields]}


def _require_one(model: BaseModel, *fields: str) -> None:
    if all(getattr(model, field) is None for field in fields):
        raise ValueError(f"give at least one of {', '.join(fields)}")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenModel(BaseModel):
    model_config = ConfigDict(extra="allow")


# Serving reads ---------------------------------------------------------------------


class Customer360(OpenModel):
    """The golden record of one customer: identity, lifecycle, segments, consents, revenue, activity."""

    tenant_id: str
    customer_id: str


class ScoreEntry(OpenModel):
    """One model's output for a customer, or why there is none.

    ``scored``: the model's row (score or probability or value, model_version, reasons,
    scored_at). ``not_scored``: the model did not score this customer. ``unavailable``:
    this snapshot has no output of that model yet.
    """

    status: Literal["scored", "not_scored", "unavailable"]


class CustomerScores(BaseModel):
    customer_id: str
    snapshot_version: str
    lead_score: ScoreEntry
    churn: ScoreEntry
    customer_value: ScoreEntry


class Page(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")
    snapshot_version: str


class TimelinePage(Page):
    customer_id: str
    items: list[dict[str, Any]]


class LeadsPage(Page):
    status: Literal["ok", "unavailable"] = Field(
        description="unavailable: the snapshot has no lead scores yet"
    )
    items: list[dict[str, Any]]


class SegmentSummary(OpenModel):
    segment_id: str
    member_count: int


class SegmentsPage(Page):
    items: list[SegmentSummary]


class SegmentMembersPage(Page):
    segment_id: str
    items: list[dict[str, Any]]


class SegmentExportPage(Page):
    """One page of a segment export: the members with a current granted consent for the channel."""

    segment_id: str
    channel: str
    purpose: str
    items: list[dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok"]


class SnapshotStatus(BaseModel):
    version: str
    built_at: datetime
    age_seconds: float
    loaded_at: datetime
    tables: dict[str, int]


class Status(BaseModel):
    status: Literal["ok", "no_snapshot"]
    snapshot: SnapshotStatus | None
    model_versions: dict[str, list[str]]
    last_error: str | None = None


# Writes ------------------------------------------------------------------------------


class ConsentIn(StrictModel):
    """A consent given or withdrawn, for one purpose on one channel, by one person."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of("email", "phone", "contact_id"))

    email: str = _EMAIL
    phone: str = _PHONE
    contact_id: str = _ID
    purpose: Literal[CONSENT_PURPOSES]  # type: ignore[valid-type]
    channel: Literal[CONSENT_CHANNELS]  # type: ignore[valid-type]
    status: Literal["granted", "withdrawn"]
    source: Literal["web_form", "crm", "import", "api"] = "api"
    occurred_at: IsoDatetime | None = Field(default=None, description="when it happened; default: now")

    @model_validator(mode="after")
    def _has_subject(self) -> ConsentIn:
        _require_one(self, "email", "phone", "contact_id")
        return self


class ConsentRecorded(BaseModel):
    consent_id: str
    status: Literal["recorded"] = Field(description="written durably to landing/ for the pipeline")
    recorded_at: datetime


class ErasureIdentifiers(StrictModel):
    """Whatever identifies the subject; the pipeline resolves it through the identity graph."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_one_of("email", "phone", "user_id", "anonymous_id", "external_id", "customer_id"),
    )

    email: str = _EMAIL
    phone: str = _PHONE
    user_id: str = _ID
    anonymous_id: str = _ID
    external_id: str = _ID
    customer_id: str = _ID

    @model_validator(mode="after")
    def _has_identifier(self) -> ErasureIdentifiers:
        _require_one(self, "email", "phone", "user_id", "anonymous_id", "external_id", "customer_id")
        return self


class ErasureIn(StrictModel):
    identifiers: ErasureIdentifiers
    reason: str | None = Field(default=None, max_length=500)


class Erasure(BaseModel):
    request_id: str
    status: Literal["received", "in_progress", "completed", "failed", "rejected"]
    received_at: datetime
    updated_at: datetime
    detail: dict[str, Any] | None = None


class EventsAccepted(BaseModel):
    success: Literal[True]
    accepted: int = Field(description="messages durably written")


class AuditRecord(BaseModel):
    at: datetime
    tenant_id: str
    key_id: str
    role: str
    action: str
    object_type: str | None
    object_id: str | None
    status: int
    pii: bool = Field(False, description="the answer carried personal data unmasked")
    detail: str | None = Field(None, description="counts or parameters (exports), never personal data")


class AuditPage(BaseModel):
    limit: int
    offset: int
    next_offset: int | None
    items: list[AuditRecord]
