"""Recording audit events."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from chopay.audit.models import AuditEvent
from chopay.db import utcnow
from chopay.extensions import db

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a change came from (filled in by views from the request)."""

    ip_address: str | None = None
    user_agent: str | None = None


def jsonable(value: Any) -> Any:
    """Enums, dates and containers turned into JSON-safe values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def event_values(
    *,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    market_id: int | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    origin: Origin | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The column values of one audit event (JSON-safe old/new values)."""
    origin = origin or Origin()
    return {
        "created_at": created_at or utcnow(),
        "actor_id": actor_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "market_id": market_id,
        "old_values": jsonable(old) if old is not None else None,
        "new_values": jsonable(new) if new is not None else None,
        "ip_address": origin.ip_address,
        "user_agent": (origin.user_agent or "")[:200] or None,
    }


def record_event(**kwargs: Any) -> AuditEvent:
    """Append one audit event to the current unit of work (arguments as event_values)."""
    event = AuditEvent(**event_values(**kwargs))
    db.session.add(event)
    logger.info(
        "audit %s %s:%s by user %s",
        event.action,
        event.entity_type,
        event.entity_id,
        event.actor_id,
    )
    return event


def record_events(rows: list[dict[str, Any]]) -> None:
    """Bulk-insert audit events built with event_values (for imports of thousands of rows)."""
    if rows:
        db.session.execute(insert(AuditEvent), rows)
        logger.info("audit %d events (%s)", len(rows), rows[0]["action"])


def diff(obj: Any, changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Old and new values of the attributes ``changes`` would actually change."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key, value in changes.items():
        current = getattr(obj, key)
        if current != value:
            old[key] = current
            new[key] = value
    return old, new
