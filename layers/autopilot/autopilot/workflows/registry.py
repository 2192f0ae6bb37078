"""Action kinds, each registered once in its own `*_action` module: its request model, the
function the executor runs, the notification builder and the metric names.

The executor's dispatch, the model each actions-queue message is parsed with (the one its
`kind` names), and the notification table are all derived from those registrations. The
modules are found by name (every `autopilot.workflows.*_action` module declares `ACTION`), so
adding an action edits no central file and import order does not matter. Discovery happens
on first use, in the executor: planners import only the request models they send.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args

import msgspec

from autopilot.domain.notifications import Notification, compose
from autopilot.models.actions import ActionBase

if TYPE_CHECKING:
    from autopilot.domain.ledger import LedgerEntry
    from autopilot.workflows.context import ExecutorContext

Request = TypeVar("Request", bound=ActionBase)
Builder = Callable[["LedgerEntry", str], Notification | None]

_SUFFIX = "_action"


@dataclass(frozen=True, slots=True)
class Registration(Generic[Request]):
    """One action kind (or a family sharing one model, such as park/unpark/scale/restore)."""

    model: type[Request]
    execute: Callable[[ExecutorContext, Request], LedgerEntry]
    notify: Builder  # (finished entry, service label) -> what people are told, if anything
    metrics: Mapping[str, str]  # kind -> metric name prefix (the outcome is appended)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The `kind` values the model accepts (its Literal)."""
        [kind] = [f.type for f in msgspec.structs.fields(self.model) if f.name == "kind"]
        return tuple(str(value) for value in get_args(kind))


class RegistrationError(RuntimeError):
    """Two registrations claim a kind, or one names metrics for kinds its model lacks."""


@functools.cache
def registrations() -> dict[str, Registration[Any]]:
    """Every registered kind, found by importing each `*_action` module once."""
    from autopilot import workflows  # noqa: PLC0415 - the package whose modules are scanned

    by_kind: dict[str, Registration[Any]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(workflows.__path__)):
        if not module.endswith(_SUFFIX):
            continue
        registration = importlib.import_module(f"{workflows.__name__}.{module}").ACTION
        if not isinstance(registration, Registration):
            raise RegistrationError(f"{module}.ACTION is not a Registration")
        if set(registration.metrics) != set(registration.kinds):
            raise RegistrationError(f"{module}: metrics must name exactly {registration.kinds}")
        for kind in registration.kinds:
            if kind in by_kind:
                raise RegistrationError(f"action kind {kind!r} is registered twice")
            by_kind[kind] = registration
    return by_kind


class _Kind(msgspec.Struct):
    kind: str


_KIND = msgspec.json.Decoder(_Kind)


@functools.cache
def _decoder(kind: str) -> msgspec.json.Decoder[ActionBase]:
    return msgspec.json.Decoder(registrations()[kind].model)


def parse_action(body: str | bytes) -> ActionBase:
    """An actions-queue message, as the request model its `kind` names; `Invalid`
    (`autopilot.models.base`) for bad JSON, an unknown kind, or a field its model refuses."""
    kind = _KIND.decode(body).kind
    if kind not in registrations():
        raise msgspec.ValidationError(f"Unknown action kind {kind!r} - at `$.kind`")
    return _decoder(kind).decode(body)


def registration(kind: str) -> Registration[Any]:
    return registrations()[kind]


def dispatch(ctx: ExecutorContext, request: ActionBase) -> LedgerEntry:
    """Run the request with the executor function its kind registered."""
    result: LedgerEntry = registration(request.kind).execute(ctx, request)
    return result


def notification_for(entry: LedgerEntry, extra_text: str = "") -> Notification | None:
    """What people are told about a finished entry (None: nobody needs to hear)."""
    found = registrations().get(entry.kind)
    return compose(entry, found.notify if found else None, extra_text)


def metric_name(kind: str) -> str:
    found = registrations().get(kind)
    return found.metrics[kind] if found else kind.title()
