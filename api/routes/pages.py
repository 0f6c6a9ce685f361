"""Building paginated JSON bodies from rows the snapshot already serialised."""

from __future__ import annotations

import json
from typing import Any

from api.masking import mask_json


def masked_rows(rows: list[tuple], sees_pii: bool) -> list[tuple]:
    """Rows of one JSON object each, with personal data masked unless the caller ``sees_pii``."""
    if sees_pii:
        return rows
    return [(mask_json(row[0]).decode(), *row[1:]) for row in rows]


def page_body(rows: list[tuple], limit: int, offset: int, version: str, **fields: Any) -> bytes:
    """``{...fields, items, limit, offset, next_offset, snapshot_version}``; rows hold one JSON string each."""
    more = len(rows) > limit
    head = json.dumps(
        {
            **fields,
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more else None,
            "snapshot_version": version,
        },
        separators=(",", ":"),
    ).encode()
    items = b",".join(row[0].encode() for row in rows[:limit])
    return head[:-1] + b',"items":[' + items + b"]}"
