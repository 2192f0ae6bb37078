"""The edge of every event-driven function: parse, ignore with a reason, or hand over.

A malformed event is not retried (it would fail the same way forever): it is logged with
the reason, counted, and kept in the dead-letter queue so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from autopilot.models.events import IgnoredEvent
from autopilot.observability import count, logger

Model = TypeVar("Model", bound=BaseModel)


def on_event(
    event: Mapping[str, Any],
    model: type[Model],
    work: Callable[[Model], dict[str, Any]],
    dead_letter: Callable[[Mapping[str, Any], str], None],
) -> dict[str, Any]:
    try:
        parsed = model.model_validate(event)
    except ValidationError as exc:
        reason = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        logger.error(
            "malformed event kept in the dead-letter queue",
            extra={
                "reason": reason,
                "event_id": event.get("id"),
                "detail_type": event.get("detail-type"),
            },
        )
        count("MalformedEvent")
        dead_letter(event, reason)
        return {"status": "rejected", "reason": reason}
    logger.append_keys(event_id=event.get("id"))
    logger.debug("event received", extra={"event": event})
    try:
        return {"status": "handled", **work(parsed)}
    except IgnoredEvent as ignored:
        logger.info("event ignored", extra={"reason": str(ignored)})
        count("IgnoredEvent")
        return {"status": "ignored", "reason": str(ignored)}
