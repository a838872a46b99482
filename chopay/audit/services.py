"""Recording audit events."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chopay.audit.models import AuditEvent
from chopay.extensions import db

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a change came from (filled in by views from the request)."""

    ip_address: str | None = None
    user_agent: str | None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def record_event(
    *,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    market_id: int | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """Append one audit event to the current unit of work."""
    origin = origin or Origin()
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        market_id=market_id,
        old_values=_jsonable(old) if old is not None else None,
        new_values=_jsonable(new) if new is not None else None,
        ip_address=origin.ip_address,
        user_agent=(origin.user_agent or "")[:200] or None,
    )
    db.session.add(event)
    logger.info("audit %s %s:%s by user %s", action, entity_type, entity_id, actor_id)
    return event


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
