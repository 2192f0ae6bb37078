"""Failed calls and lost responses, on demand, for local runs: the crash a retry must survive.

`AUTOPILOT_LOCAL_FAULTS="ecs.UpdateService:after"` makes the first UpdateService call of the run
take effect on the moto server and then fail as if the response had been lost (a read
timeout); `:before` fails it before it is sent. `ecs.UpdateService:after:2` hits the second
call. Several faults are separated by commas. Each fires once.

They hook botocore's own events on the session every client is built from: `before-call` is
emitted before the request is sent, `after-call` once the (retried) request has completed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from autopilot.adapters import clients

ENVIRONMENT = "AUTOPILOT_LOCAL_FAULTS"


class InvalidFaultError(ValueError):
    """The fault specification cannot be read."""


@dataclass
class Fault:
    service: str  # botocore's name, e.g. ecs, dynamodb
    operation: str  # e.g. UpdateService, PutItem
    when: Literal["before", "after"]
    nth: int = 1
    seen: int = 0
    fired: bool = False


def parse(spec: str) -> list[Fault]:
    faults = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        target, _, rest = item.partition(":")
        service, dot, operation = target.partition(".")
        when, _, nth = rest.partition(":")
        if not dot or not service or not operation or when not in {"before", "after"}:
            raise InvalidFaultError(
                f"{ENVIRONMENT}: expected service.Operation:before|after[:n], got {item!r}"
            )
        if nth and not nth.isdigit():
            raise InvalidFaultError(f"{ENVIRONMENT}: {nth!r} is not a call number")
        faults.append(Fault(service, operation, when, int(nth or 1)))  # type: ignore[arg-type]
    return faults


def arm(faults: list[Fault]) -> None:
    """Hook the faults into every client built from now on (the shared session)."""
    events = clients.session().events
    by_event: dict[str, list[Fault]] = {}
    for fault in faults:
        by_event.setdefault(f"{fault.when}-call.{fault.service}.{fault.operation}", []).append(
            fault
        )
    for event, group in by_event.items():
        events.register(event, _hook(group))


def _hook(group: list[Fault]) -> Callable[..., None]:
    """One hook per call: it counts the calls once, whichever of its faults fires."""
    calls = 0

    def fire(**kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        for fault in group:
            fault.seen = calls
            if fault.fired or fault.nth != calls:
                continue
            fault.fired = True
            if fault.when == "before":
                raise EndpointConnectionError(endpoint_url=f"{fault.service} (injected fault)")
            raise ReadTimeoutError(endpoint_url=f"{fault.service} (injected: response lost)")

    return fire
