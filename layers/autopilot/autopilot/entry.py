"""The edge of every event-driven function: parse, ignore with a reason, or hand over.

A malformed event is not retried (it would fail the same way forever): it is logged with
the reason, counted, and kept in the dead-letter queue so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from autopilot import wiring
from autopilot.models.base import Invalid, reason
from autopilot.models.events import IgnoredEvent
from autopilot.observability import count, logger

Event = TypeVar("Event")


def on_event(
    event: object,
    parse: Callable[[object], Event],
    work: Callable[[Event], dict[str, Any]],
    dead_letter: Callable[[object, str], None],
) -> dict[str, Any]:
    """`parse` is a model's parser (e.g. `Model.parse`); `work` gets its result. `event` is
    whatever JSON the function was invoked with: not necessarily an object."""
    fields: Mapping[str, Any] = event if isinstance(event, Mapping) else {}
    try:
        parsed = parse(event)
    except Invalid as exc:
        why = reason(exc)
        logger.error(
            "malformed event kept in the dead-letter queue",
            extra={
                "reason": why,
                "event_id": fields.get("id"),
                "detail_type": fields.get("detail-type"),
            },
        )
        count("MalformedEvent")
        dead_letter(event, why)
        return {"status": "rejected", "reason": why}
    logger.append_keys(event_id=fields.get("id"))
    logger.debug("event received", extra={"event": event})
    try:
        return {"status": "handled", **work(parsed)}
    except IgnoredEvent as ignored:
        logger.info("event ignored", extra={"reason": str(ignored)})
        count("IgnoredEvent")
        return {"status": "ignored", "reason": str(ignored)}


def handle_event(
    event: object,
    parse: Callable[[object], Event],
    work: Callable[[Event], dict[str, Any]],
    source: str,
) -> dict[str, Any]:
    """`on_event` with the application's events dead-letter queue; `source` names the function."""

    def dead_letter(bad: object, reason: str) -> None:
        wiring.dead_letters().send(bad, reason, source=source)

    return on_event(event, parse, work, dead_letter)
